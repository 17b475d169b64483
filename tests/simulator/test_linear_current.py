"""``Synapse.linear_current``: the exact linearisation of a current linear in the
post-synaptic voltage (simulator.synapses.synapse), used instead of the forward difference
by the class that defines both it and ``compute_current``, and only by that class."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from neuroenv.tasks.desynchronize import GapJunction
from simulator.assemble import all_parameters, all_states
from simulator.channels import HH
from simulator.compile import compile_module
from simulator.membrane import DV, forward_difference, linearise_synapses
from simulator.models.basal_ganglia.synapse import RTSynapse
from simulator.synapses import (
    IonotropicSynapse,
    Synapse,
    TanhConductanceSynapse,
    TanhRateSynapse,
)
from simulator.synapses.synapse import has_linear_current, reversal_of
from simulator.synapses.test import TestSynapse

BUILT_IN = [IonotropicSynapse, TanhRateSynapse, TanhConductanceSynapse, RTSynapse,
            TestSynapse, GapJunction]


def _inputs(synapse, n=64, seed=0):
    """Random states in [0, 1], parameters around their defaults and voltages (mV)."""
    rng = np.random.default_rng(seed)
    states = {k: jnp.asarray(rng.uniform(0, 1, n)) for k in synapse.synapse_states}
    params = {k: jnp.asarray(v + rng.uniform(0.5, 1.5, n) * (abs(v) + 1e-3))
              for k, v in synapse.synapse_params.items()}
    v_pre, v_post = (jnp.asarray(rng.uniform(-90, 40, n)) for _ in range(2))
    return states, params, v_pre, v_post


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda c: c.__name__)
def test_linear_current_is_the_current(cls):
    """slope · v_post + intercept equals compute_current (float64: measured ≤ 4e-16 of the
    largest current), and the forward difference agrees with the slope to its own error."""
    synapse = cls()
    assert has_linear_current(synapse)
    with jax.enable_x64(True):
        states, params, v_pre, v_post = _inputs(synapse)
        slope, intercept = synapse.linear_current(states, v_pre, params)
        current = synapse.compute_current(states, v_pre, v_post, params)
        scale = float(jnp.abs(current).max()) + 1e-30
        np.testing.assert_allclose(slope * v_post + intercept, current, rtol=0,
                                   atol=1e-13 * scale)
        _, fd_slope, _ = forward_difference(
            lambda x: synapse.compute_current(states, v_pre, x, params), v_post, DV)
        # float64 forward difference: rounding of the current / 1e-3 mV, ~1e-12 relative
        np.testing.assert_allclose(fd_slope, jnp.broadcast_to(slope, fd_slope.shape),
                                   rtol=1e-9, atol=1e-9 * (float(jnp.abs(slope).max()) + 1))


@pytest.mark.parametrize("cls", [c for c in BUILT_IN if c.reversal_param is not None],
                         ids=lambda c: c.__name__)
def test_reversal_param_gives_the_intercept(cls):
    """intercept = −slope · e for the declared reversal potential e (bitwise: the models
    compute it so)."""
    synapse = cls()
    name = reversal_of(synapse)
    assert name == f"{synapse.name}_{cls.reversal_param}" and name in synapse.synapse_params
    states, params, v_pre, _ = _inputs(synapse)
    slope, intercept = synapse.linear_current(states, v_pre, params)
    np.testing.assert_array_equal(intercept, -slope * params[name])


def test_reversal_is_not_inherited_by_a_new_current():
    class Shifted(IonotropicSynapse):  # a new linear current: e_syn is not its reversal
        def compute_current(self, states, pre_voltage, post_voltage, params):
            return super().compute_current(states, pre_voltage, post_voltage, params) + 1.0

        def linear_current(self, states, pre_voltage, params):
            slope, intercept = super().linear_current(states, pre_voltage, params)
            return slope, intercept + 1.0

    assert has_linear_current(Shifted()) and reversal_of(Shifted()) is None
    assert reversal_of(IonotropicSynapse()) == "IonotropicSynapse_e_syn"


def test_a_subclass_changing_the_current_alone_is_differenced():
    class Saturating(IonotropicSynapse):  # not linear any more: must not use the parent's form
        def compute_current(self, states, pre_voltage, post_voltage, params):
            return super().compute_current(states, pre_voltage, post_voltage, params) ** 3

    class Plain(Synapse):  # compute_current only
        def __init__(self):
            super().__init__()
            self.synapse_params, self.synapse_states = {"Plain_g": 1e-3}, {}

        def compute_current(self, states, pre_voltage, post_voltage, params):
            return params["Plain_g"] * post_voltage

    assert not has_linear_current(Saturating()) and not has_linear_current(Plain())

    net = jx.Network([jx.Cell() for _ in range(3)])
    net.insert(HH())
    jx.fully_connect(net.cell([0]), net.cell([1, 2]), Saturating())
    compiled = compile_module(net)
    with jax.enable_x64(True):
        params = all_parameters(compiled, compiled.node_arrays, [])
        states = all_states(compiled, compiled.node_arrays, [], params)
        v = jnp.asarray([-60.0, -50.0, 10.0])
        slope, _, _ = linearise_synapses(compiled.synapses, states, params, v)
        synapse, pre, post = compiled.synapses[0]
        g = params["Saturating_gS"][0] * states["Saturating_s"][0]
        # d/dv (g (v - e))^3 = 3 g^3 (v - e)^2 at v_post, converted with the area
        want = 3 * g**3 * (v[post] - 0.0) ** 2 * 1e5 / params["area"][post]
        # the forward difference's truncation error, ~DV / v_post: measured 1.0e-4 (10 mV)
        np.testing.assert_allclose(slope[post], want, rtol=5e-4)
        assert not np.allclose(slope[post], g * 1e5 / params["area"][post])  # not linear
