"""``Channel.linear_current``: the exact slope and intercept of a channel current linear in
``v``, used by the step instead of the forward difference (simulator.membrane), only by the
class that defines the current; and the float32 accuracy it and the referenced solve's
right-hand side buy (docs/numerics.md)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, AdEx, CaL, CaT, Fire, Izhikevich, K, Km, Leak, Na, Rate
from simulator.channels.channel import has_linear_current
from simulator.membrane import CHANNEL_GEOMETRY, DV, forward_difference
from simulator.models.basal_ganglia import AxonHH, PallidalRT, SubthalamicRT, ThalamocorticalRT

LINEAR = [HH, Leak, Na, K, Km, CaL, Fire, Izhikevich, Rate, AdEx, AxonHH]
#: instantaneous gates (m∞(v), s∞(v)): not linear in v, differenced
NONLINEAR = [CaT, SubthalamicRT, PallidalRT, ThalamocorticalRT]


def _inputs(channel, n=64, seed=0):
    """States in [0, 1], parameters around their defaults (plus geometry), voltages (mV)."""
    rng = np.random.default_rng(seed)
    states = {k: jnp.asarray(rng.uniform(0, 1, n)) for k in channel.channel_states}
    params = {k: jnp.asarray(v + rng.uniform(-0.5, 0.5, n) * (abs(v) + 1e-3))
              for k, v in channel.channel_params.items()}
    params.update({k: jnp.ones(n) for k in CHANNEL_GEOMETRY})
    return states, params, jnp.asarray(rng.uniform(-90, 40, n))


@pytest.mark.filterwarnings("ignore:The AdEx channel has no surrogate gradient")
@pytest.mark.parametrize("cls", LINEAR, ids=lambda c: c.__name__)
def test_linear_current_is_the_current(cls):
    """slope · v + intercept equals compute_current (float64, measured ≤ 2e-16 of the
    largest current), and the forward difference agrees with the slope to its rounding."""
    channel = cls()
    assert has_linear_current(channel)
    with jax.enable_x64(True):
        states, params, v = _inputs(channel)
        slope, intercept = channel.linear_current(states, params)
        current = jnp.broadcast_to(channel.compute_current(states, v, params), v.shape)
        scale = float(jnp.abs(current).max()) + 1e-30
        np.testing.assert_allclose(slope * v + intercept, current, rtol=0, atol=1e-13 * scale)
        _, fd_slope, _ = forward_difference(
            lambda x: channel.compute_current(states, x, params), v, DV)
        # float64 forward difference: rounding of the current / 1e-3 mV (~1e-12 relative)
        np.testing.assert_allclose(fd_slope, jnp.broadcast_to(slope, v.shape), rtol=0,
                                   atol=1e-9 * (float(jnp.abs(slope).max()) + 1.0))


@pytest.mark.parametrize("cls", NONLINEAR, ids=lambda c: c.__name__)
def test_nonlinear_currents_are_differenced(cls):
    assert not has_linear_current(cls())


class DoubledHH(HH):
    """HH with twice the current: changes compute_current alone."""

    def compute_current(self, states, v, params):
        return 2.0 * super().compute_current(states, v, params)


class ExactDoubledHH(HH):
    """The same current with its exact form (both methods in one class)."""

    def compute_current(self, states, v, params):
        return 2.0 * super().compute_current(states, v, params)

    def linear_current(self, states, params):
        slope, intercept = HH.linear_current(self, states, params)
        return 2.0 * slope, 2.0 * intercept


class InheritedFormDoubledHH(DoubledHH):
    """A form defined below the class that defines the current: not used (the rule
    compares the classes, not the numbers)."""

    def linear_current(self, states, params):
        return HH.linear_current(self, states, params)


def _run(channel, t_max=10.0):
    comp = jx.Compartment()
    comp.insert(channel)
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(1.0, 5.0, 0.02, 0.025, t_max), verbose=False)
    return np.asarray(jx.integrate(comp, t_max=t_max, delta_t=0.025), np.float64)


def test_a_subclass_changing_the_current_alone_is_differenced(x64):
    """DoubledHH must not inherit HH's form (it would simulate HH's current): it is
    differenced, and agrees with its own exact form to rounding (measured 9.5e-12 mV)."""
    assert not has_linear_current(DoubledHH(name="HH"))
    assert not has_linear_current(InheritedFormDoubledHH(name="HH"))
    assert has_linear_current(ExactDoubledHH(name="HH"))
    doubled, exact = _run(DoubledHH(name="HH")), _run(ExactDoubledHH(name="HH"))
    np.testing.assert_allclose(doubled, exact, rtol=0, atol=1e-9)
    assert np.abs(doubled - _run(HH())).max() > 1.0  # a different cell


def _leak_cable(x64):
    """Three branches of 8 passive compartments (τ = 33 ms), a 5 ms 3 pA pulse into the
    first (a 3 mV bump): (24, T) voltages over 40 ms."""
    with jax.enable_x64(x64):
        branch = jx.Branch(jx.Compartment(), ncomp=8)
        cell = jx.Cell([branch] * 3, parents=[-1, 0, 0])
        cell.insert(Leak())
        cell.set("Leak_eLeak", -65.0)
        cell.set("Leak_gLeak", 3e-5)
        cell.set("v", -65.0)
        cell.record(verbose=False)
        current = np.zeros(1602)
        current[200:400] = 0.003
        cell.branch(0).comp(0).stimulate(current, verbose=False)
        return np.asarray(jx.integrate(cell, t_max=40.0, delta_t=0.025), np.float64)


def test_float32_passive_cable_keeps_its_rest():
    """A slow passive compartment damps a per-step rounding ε only to ε·τ/dt (1,320 ε
    here). With the referenced right-hand side rounded at the size of v (ulp 4e-6 mV) the
    cable's float32 error was 2.7e-3 mV (forward-difference slopes) and 5.0e-3 (exact);
    summed without a term the size of v, measured 1.7e-4 mV (1.3e-4 at the end)."""
    v32, v64 = _leak_cable(False), _leak_cable(True)
    assert v64.max() > -62.5  # the pulse moved it
    assert np.abs(v32 - v64).max() <= 5e-4
