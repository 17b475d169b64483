"""ObserveLFP: the recorded contacts' LFP (raw or band power) appended to any task's
observation, equal to what ``integrate`` records for the same stimulus."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv import NeuronEnv
from neuroenv.extracellular_obs import BandPower
from neuroenv.lfp_observation import ObserveLFP
from neuroenv.tasks.voltage_target import VoltageTarget
from simulator import Branch, Cell, Compartment, integrate
from simulator.channels import HH
from simulator.extracellular import point_contacts

SUBSTEPS, DT = 40, 0.025


def _cell():
    cell = Cell([Branch(Compartment(), ncomp=4)] * 2, parents=[-1, 0])
    cell.compute_xyz()
    cell.compute_compartment_centers()
    cell.insert(HH())
    cell.set("v", -65.0)
    cell.init_states()
    cell.add_electrode(point_contacts([[30.0, 40.0, 0.0], [-50.0, 20.0, 5.0]]), name="rec")
    cell.record_extracellular("rec")
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def _env(**kwargs):
    cell = _cell()
    task = ObserveLFP(VoltageTarget(), n_contacts=2, **kwargs)
    return NeuronEnv(cell, [cell.branch(0).comp(0)], task, obs_units="physical",
                     init_v_jitter=0.0, substeps=SUBSTEPS)


def _two_periods(env, action=0.5, n=2):
    """(n + 1, n_obs) observations at reset and after ``n`` periods of ``action``."""
    params = env.default_params
    obs0, state = env.reset(jax.random.key(0), params)
    obs = [obs0]
    for k in range(n):
        o, state, *_ = env.step(jax.random.key(k + 1), state, jnp.array([action]), params)
        obs.append(o)
    return np.asarray(obs)


def _integrated_lfp(amplitude_nA, n_steps):
    """(2, n_steps + 1) µV: ``integrate`` with the env's constant stimulus."""
    cell = _cell()
    cell.branch(0).comp(0).stimulate(jnp.full(n_steps + 1, amplitude_nA))
    return np.asarray(integrate(cell, delta_t=DT, t_max=n_steps * DT))[1:]


def test_raw_lfp_equals_integrate():
    obs = _two_periods(_env())
    assert obs.shape == (3, 2 + 3)  # v, VoltageTarget's target and error integral, 2 contacts
    np.testing.assert_array_equal(obs[0, -2:], 0.0)  # nothing sensed before the first period
    lfp = _integrated_lfp(0.05, 2 * SUBSTEPS)  # action 0.5 × action_scale 0.1 nA
    # The same float32 computation on both paths: measured |Δ| 0 (bitwise) of ~0.3 µV.
    np.testing.assert_allclose(obs[1, -2:], lfp[:, SUBSTEPS], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(obs[2, -2:], lfp[:, 2 * SUBSTEPS], rtol=1e-5, atol=1e-7)
    assert np.all(np.abs(obs[1:, -2:]) > 1e-3)  # the stimulated cell's field is not zero


def test_raw_lfp_delay_reads_earlier_sample():
    obs = _two_periods(_env(delay_ms=0.25))
    lfp = _integrated_lfp(0.05, 2 * SUBSTEPS)
    np.testing.assert_allclose(obs[2, -2:], lfp[:, 2 * SUBSTEPS - 10], rtol=1e-5, atol=1e-7)


def test_band_power_equals_sensor_on_the_trace():
    n = 40  # 40 ms: the cell fires repeatedly, the band power grows to O(1e-3) µV²
    obs = _two_periods(_env(kind="band_power", delay_ms=0.5), n=n)
    lfp = _integrated_lfp(0.05, n * SUBSTEPS)[:, 1:]  # the samples after each solver step
    sensor = BandPower(DT, delay_ms=0.5)
    state, powers = sensor.init(2), []
    for k in range(n):
        state, power = sensor.step(state, lfp[:, k * SUBSTEPS:(k + 1) * SUBSTEPS].T)
        powers.append(power)
    powers = np.asarray(powers)
    print("band power (µV²) at the end", powers[-1])
    assert np.all(powers[-1] > 1e-4)
    # float32 LFP and filter states on both paths (the env's and integrate's scans round
    # differently inside the periods): measured max rel. difference 8.4e-6
    np.testing.assert_allclose(obs[1:, -2:], powers, rtol=3e-5)
    assert np.all(obs[:, -2:] >= 0.0)


def test_scaled_observation_and_space():
    cell = _cell()
    env = NeuronEnv(cell, [cell.branch(0).comp(0)],
                    ObserveLFP(VoltageTarget(), n_contacts=2, scale=0.5), observe="none",
                    init_v_jitter=0.0, substeps=SUBSTEPS)
    obs = _two_periods(env)
    physical = _two_periods(_env())
    assert env.observation_space().shape == (4,)
    np.testing.assert_allclose(obs[:, -2:], physical[:, -2:] / 0.5, rtol=1e-6)
    assert env.observation_space().contains(obs[-1].astype(np.float32))


def test_wrapped_task_unchanged():
    wrapped = _two_periods(_env())
    cell = _cell()
    plain = NeuronEnv(cell, [cell.branch(0).comp(0)], VoltageTarget(), obs_units="physical",
                      init_v_jitter=0.0, substeps=SUBSTEPS)
    np.testing.assert_array_equal(wrapped[:, :3], _two_periods(plain))


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "spikes"}, "kind"), ({"n_contacts": 0}, "n_contacts"),
    ({"scale": 0.0}, "scale"), ({"scale": float("inf")}, "scale"),
    ({"delay_ms": 0.01}, "delay_ms"), ({"delay_ms": -0.025}, "delay_ms")])
def test_bad_arguments(kwargs, match):
    args = {"n_contacts": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        ObserveLFP(VoltageTarget(), **args)


def test_bad_task_and_long_raw_delay():
    with pytest.raises(TypeError, match="Task"):
        ObserveLFP("VoltageTarget", n_contacts=1)
    with pytest.raises(ValueError, match="delay_ms"):
        _two_periods(_env(delay_ms=1.0))  # 40 steps: not shorter than the 1 ms period


def test_env_mismatch_is_a_value_error():
    cell = _cell()
    with pytest.raises(ValueError, match="n_contacts=3"):  # the module records 2 contacts
        NeuronEnv(cell, [cell.branch(0).comp(0)], ObserveLFP(VoltageTarget(), n_contacts=3))
    with pytest.raises(ValueError, match="delta_t"):
        NeuronEnv(cell, [cell.branch(0).comp(0)], ObserveLFP(VoltageTarget(), n_contacts=2),
                  delta_t=0.01)
