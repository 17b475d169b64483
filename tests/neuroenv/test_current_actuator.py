"""CurrentActuator: one action entry injects a pulse train (nA) into every compartment of
its sites, exactly as ``integrate`` does with the same stimulus."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv import NeuronEnv
from neuroenv.electrodes import CurrentActuator
from neuroenv.tasks.voltage_target import VoltageTarget
from simulator import Branch, Cell, Compartment, Network, integrate
from simulator.channels import HH

DT, SUBSTEPS = 0.025, 40


def _net(n=3):
    net = Network([Cell([Branch(Compartment(), ncomp=1)], parents=[-1]) for _ in range(n)])
    net.insert(HH())
    net.set("v", -65.0)
    net.init_states()
    for i in range(n):
        net.cell(i).record(verbose=False)
    return net


def _env(net, actuator, **kwargs):
    return NeuronEnv(net, [], VoltageTarget(), electrodes=[actuator], init_v_jitter=0.0,
                     substeps=SUBSTEPS, obs_units="physical", **kwargs)


def test_pulse_train_into_several_cells_equals_integrate():
    net = _net()
    act = CurrentActuator([net.cell(0), net.cell(2)], shape="monophasic", max_current=0.5,
                          pulse_width=0.25, rate=400.0)  # 10 of every 100 steps
    env = _env(net, act)
    p = env.default_params
    _, state = env.reset(jax.random.key(0), p)
    traces = []
    for k in range(5):
        _, state, *_ = env.step(jax.random.key(k), state, jnp.array([0.8]), p)
        traces.append(np.asarray(state.last_trace))
    ours = np.concatenate(traces)  # (200, 3) mV after each solver step
    ref_net = _net()
    steps = np.arange(5 * SUBSTEPS + 1)
    pulse = np.where(steps % 100 < 10, 0.4, 0.0)  # 0.8 × 0.5 nA
    for i in (0, 2):
        ref_net.cell(i).stimulate(jnp.asarray(pulse))
    ref = np.asarray(integrate(ref_net, delta_t=DT, t_max=5 * SUBSTEPS * DT))[:, 1:].T
    print("max |Δv| (mV)", np.abs(ours - ref).max(), "cell 1 range", np.ptp(ref[:, 1]))
    # float32 env vs float32 integrate, the same step function: measured max |Δv| 0 mV
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    # cell 0 fires; cell 1 gets no current, it only relaxes to rest (measured 0.05 mV)
    assert np.ptp(ref[:, 0]) > 50.0 and np.ptp(ref[:, 1]) < 0.1


def test_action_layout_sites_then_actuators():
    net = _net()
    act = CurrentActuator([net.cell(1)], shape="constant", max_current=2.0)
    env = NeuronEnv(net, [net.cell(0)], VoltageTarget(), electrodes=[act],
                    init_v_jitter=0.0, substeps=SUBSTEPS)
    assert env.action_space().shape == (2,)
    p = env.default_params
    _, state = env.reset(jax.random.key(0), p)
    _, _, _, _, info = env.step_env(jax.random.key(1), state, jnp.array([0.5, -0.25]), p)
    np.testing.assert_allclose(info["current_nA"], [0.05, -0.5])  # action_scale 0.1; 2 nA


@pytest.mark.parametrize("sites, match", [
    ([], "CurrentActuator"), (["soma"], "view"), ("twice", "distinct")])
def test_bad_sites(sites, match):
    net = _net()
    if sites == "twice":
        sites = [net.cell(0), net.cell(0)]
    with pytest.raises(ValueError, match=match):
        _env(net, CurrentActuator(sites))


def test_bad_pulse_parameters_name_units():
    net = _net()
    with pytest.raises(ValueError, match="max_current.*nA"):
        _env(net, CurrentActuator([net.cell(0)], max_current=-1.0))
    with pytest.raises(ValueError, match="pulse_width"):
        _env(net, CurrentActuator([net.cell(0)], pulse_width=0.01))


def test_unipolar_maps_the_action_onto_zero_to_max():
    net = _net()
    act = CurrentActuator([net.cell(0)], shape="constant", max_current=2.0, unipolar=True)
    env = _env(net, act)
    p = env.default_params
    _, state = env.reset(jax.random.key(0), p)
    amps = [float(env.step_env(jax.random.key(1), state, jnp.array([a]), p)[4]["current_nA"][0])
            for a in (-1.0, 0.0, 0.5, 1.0)]
    np.testing.assert_allclose(amps, [0.0, 1.0, 1.5, 2.0])  # (a + 1)/2 × 2 nA, exact
    with pytest.raises(TypeError, match="unipolar"):
        _env(_net(), CurrentActuator([net.cell(0)], unipolar="yes"))


def test_two_actuators_on_one_compartment_rejected():
    net = _net()
    acts = [CurrentActuator([net.cell(0), net.cell(1)]), CurrentActuator([net.cell(1)])]
    with pytest.raises(ValueError, match="compartment twice"):
        NeuronEnv(net, [], VoltageTarget(), electrodes=acts)
