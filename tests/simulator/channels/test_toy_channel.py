"""A channel defined only here runs through ``insert`` and ``integrate``: adding a channel
touches only the new code.

The toy is a constant conductance ``g`` to a reversal ``E`` (what a leak is) with one state,
a clock that counts the simulated time. A passive compartment of capacitance c relaxes to E
with time constant τ = c/g; backward Euler's step is v ← E + (v − E)/(1 + Δt/τ).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.channels import Channel, Leak

DT, T_MAX = 0.025, 10.0  # ms


class ConstantConductance(Channel):
    """``I = g (v − E)`` (mA/cm²) with ``{name}_g`` (S/cm²), ``{name}_E`` (mV); state
    ``{name}_clock`` (ms), the time simulated so far."""

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_params = {f"{self.name}_g": 2e-4, f"{self.name}_E": -50.0}
        self.channel_states = {f"{self.name}_clock": 0.0}
        self.current_name = f"i_{self.name}"

    def update_states(self, states, dt, v, params):
        key = f"{self.name}_clock"
        return {key: states[key] + dt}

    def compute_current(self, states, v, params):
        return params[f"{self.name}_g"] * (v - params[f"{self.name}_E"])


def compartment(channel, *states):
    comp = jx.Compartment()
    comp.insert(channel)
    for state in ("v", *states):
        comp.record(state, verbose=False)
    return comp


def test_toy_channel_relaxes_as_backward_euler_predicts(precision):
    rec = np.asarray(jx.integrate(compartment(ConstantConductance(), "ConstantConductance_clock"),
                                  t_max=T_MAX, delta_t=DT), np.float64)
    v, clock = rec
    n = np.arange(v.shape[0])
    tau = 1.0 / 2e-4 * 1e-3  # c/g = 1 µF/cm² / 2e-4 S/cm² = 5 ms
    expected = -50.0 + (-70.0 + 50.0) / (1.0 + DT / tau) ** n
    # measured max |error|: float32 3.4e-5 mV, float64 2.6e-13 mV (rounding over 401 steps).
    atol = 1e-4 if precision == "float32" else 1e-10
    np.testing.assert_allclose(v, expected, rtol=0, atol=atol)
    # the state is advanced once per step: the clock reads the elapsed time (ms)
    # (float32 accumulates 0.025 400 times: measured 2.1e-5 ms; float64 7.5e-14 ms)
    np.testing.assert_allclose(clock, n * DT, rtol=0, atol=atol)


def test_toy_channel_equals_a_leak_of_the_same_g_and_e(precision):
    toy = compartment(ConstantConductance(name="Toy"))
    toy.set("Toy_g", 3e-4)
    toy.set("Toy_E", -60.0)
    leak = compartment(Leak())
    leak.set("Leak_gLeak", 3e-4)
    leak.set("Leak_eLeak", -60.0)
    for module in (toy, leak):
        module.stimulate(jx.step_current(1.0, 3.0, 0.05, DT, T_MAX), verbose=False)
    # The toy is linearised by forward difference, Leak by its exact linear form
    # (Channel.linear_current): equal to rounding. Measured max |difference|: float64
    # 5.5e-13 mV; float32 1.05e-3 mV, the forward difference's rounding (against float64 runs
    # the toy is off by 8.5e-4 mV, Leak by 2.4e-4).
    atol = 3e-3 if precision == "float32" else 1e-11
    np.testing.assert_allclose(jx.integrate(toy, delta_t=DT), jx.integrate(leak, delta_t=DT),
                               rtol=0, atol=atol)


def test_toy_channel_parameters_are_checked_and_trainable(x64):
    comp = compartment(ConstantConductance())
    # ``g...``: a conductance, >= 0; out of range warns (jaxley accepts it), NaN raises
    with pytest.warns(jx.PhysicalRangeWarning, match="ConstantConductance_g"):
        comp.set("ConstantConductance_g", -1.0)
    with pytest.raises(ValueError, match="ConstantConductance_g"):
        comp.set("ConstantConductance_g", float("nan"))
    comp.set("ConstantConductance_g", 2e-4)  # the default again
    comp.make_trainable("ConstantConductance_g", verbose=False)

    def final_v(params):
        return jx.integrate(comp, params, t_max=2.0, delta_t=DT)[0, -1]

    params = comp.get_parameters()
    grad = jax.grad(final_v)(params)[0]["ConstantConductance_g"]
    step = 1e-7
    up, down = ([{"ConstantConductance_g": jnp.asarray([2e-4 + d])}] for d in (step, -step))
    central = (final_v(up) - final_v(down)) / (2 * step)
    # a larger g pulls v from −70 mV towards E = −50 mV faster: positive (mV per S/cm²);
    # measured relative difference to the central difference (step 1e-7): 6.8e-9.
    assert float(grad[0]) > 0
    np.testing.assert_allclose(grad, [central], rtol=1e-6)
