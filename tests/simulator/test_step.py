"""The step's stages (``simulator.step``) and its solver interface.

A toy solver defined here (a frozen object with ``prepare``/``update``) runs through
``make_step_fn`` and, registered under a new name, through ``integrate``: adding a solver
touches only the new code.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, Leak
from simulator.membrane import DC, DV, forward_difference
from simulator.solvers import registry
from simulator.step import (
    MA_TO_UA,
    advance_mechanisms,
    apply_clamps,
    linearise_currents,
    make_step_fn,
    update_voltage,
)


@dataclasses.dataclass(frozen=True, eq=False)
class ToyEuler:
    """Forward Euler of uncoupled compartments, ``x + h·(−lam·x + kappa)``, with the step
    ``h`` (ms) precomputed by ``prepare`` (the interface of ``simulator.solvers.registry``)."""

    @classmethod
    def build(cls, compiled, voltage_solver, width):
        return cls()

    def prepare(self, conductances, delta_t):
        return {name: jnp.asarray(delta_t) for name in conductances}

    def update(self, x, lam, kappa, g, delta_t, prepared=None, reference=True):
        h = delta_t if prepared is None else prepared
        return x + h * (-lam * x + kappa)


def compartment(*mechanisms):
    comp = jx.Compartment()
    for mechanism in mechanisms:
        comp.insert(mechanism)
    comp.record(verbose=False)
    return comp


def compiled_and_init(module):
    init_fn, _ = jx.build_init_and_step_fn(module)
    states, params = init_fn([])
    return module.base._compiled, states, params


def test_toy_solver_in_make_step_fn(precision):
    compiled, states, params = compiled_and_init(compartment(HH()))
    toy = make_step_fn(compiled, ToyEuler())
    fwd = make_step_fn(compiled, "fwd_euler")
    ext, inds = {"i": jnp.asarray([0.2])}, {"i": np.asarray([0])}
    a, b = dict(states), dict(states)
    for _ in range(40):
        a = toy(a, params, ext, inds, 0.025)
        b = fwd(b, params, ext, inds, 0.025)
    # One compartment: the toy is forward Euler without the axial term (0 here). Measured
    # difference 0 in float32 and float64 (same operations).
    np.testing.assert_array_equal(a["v"], b["v"])
    # Its prepared data reaches update: a step of h = 0 leaves v where it was, while the
    # gates still advance by delta_t.
    held = toy(states, params, ext, inds, 0.025, {"v": jnp.asarray(0.0)})
    np.testing.assert_array_equal(held["v"], states["v"])
    assert not np.array_equal(held["HH_m"], states["HH_m"])


def test_registered_toy_solver_runs_in_integrate(monkeypatch, x64):
    monkeypatch.setitem(registry.SOLVERS, "toy_euler", ToyEuler)
    cell = compartment(Leak())
    cell.set("v", -40.0)
    toy = np.asarray(jx.integrate(cell, t_max=1.0, solver="toy_euler"))
    ref = np.asarray(jx.integrate(cell, t_max=1.0, solver="fwd_euler"))
    np.testing.assert_array_equal(toy, ref)  # measured: identical (see the test above)
    assert toy[0, -1] < -40.0  # decays towards eLeak


def test_make_step_fn_rejects_non_solvers():
    compiled, _, _ = compiled_and_init(compartment(Leak()))
    with pytest.raises(TypeError, match="prepare"):
        make_step_fn(compiled, object())
    with pytest.raises(ValueError, match="unknown solver 'rk4'"):
        make_step_fn(compiled, "rk4")


def test_forward_difference_convention(precision):
    x = jnp.asarray([-65.0, 10.0])
    current, slope, offset = forward_difference(lambda v: 3.0 * v - 2.0, x, DV)
    np.testing.assert_array_equal(current, 3.0 * x - 2.0)
    # A linear function: the quotient is exact to the rounding of (f(x+dx) − f(x)) / dx,
    # measured 5.9e-13 (float64) and 2.5e-3 (float32) relative to the slope 3.
    tol = 1e-11 if precision == "float64" else 5e-3
    np.testing.assert_allclose(slope, 3.0, rtol=tol)
    np.testing.assert_array_equal(offset, slope * x - current)
    assert DV == 1e-3 and DC == 1e-3  # mV and mM


def test_linearise_currents_of_a_leak_with_stimulus(precision):
    g, e, c_m, i_nA = 2e-4, -70.0, 1.5, 0.1
    comp = compartment(Leak())
    comp.set("Leak_gLeak", g)
    comp.set("Leak_eLeak", e)
    comp.set("capacitance", c_m)
    comp.set("v", -60.0)
    compiled, states, params = compiled_and_init(comp)
    terms = linearise_currents(compiled, states, params, states["v"], {"i": jnp.asarray([i_nA])},
                               {"i": np.asarray([0])})
    area = float(params["area"][0])
    lam = MA_TO_UA * g / c_m
    kappa = (MA_TO_UA * g * e + i_nA * 1e5 / area) / c_m
    # Forward difference of a linear current: measured relative errors (lam, kappa,
    # current) 7.3e-13, 6.0e-14, 0 in float64 and 5.6e-4, 4.6e-5, 6.9e-8 in float32.
    tol = 1e-11 if precision == "float64" else 2e-3
    np.testing.assert_allclose(terms.lam, [lam], rtol=tol)
    np.testing.assert_allclose(terms.kappa, [kappa], rtol=tol)
    np.testing.assert_allclose(terms.currents["i_Leak"], g * (states["v"] - e), rtol=tol)
    assert terms.ion_slope == {} and terms.ion_offset == {}


def test_stages_advance_gates_then_voltage(precision):
    compiled, states, params = compiled_and_init(compartment(HH()))
    states = {**states, "v": jnp.full_like(states["v"], -30.0)}
    advanced = advance_mechanisms(compiled, states, params, 0.025)
    assert advanced["v"] is states["v"]  # HH writes no voltage
    assert float(advanced["HH_m"][0]) > float(states["HH_m"][0])  # depolarised: m opens
    terms = linearise_currents(compiled, advanced, params, states["v"], {}, {})
    solver = registry.make_solver("fwd_euler", compiled)
    v = update_voltage(solver, advanced["v"], terms, params["axial_conductances"], {}, 0.025)
    expected = advanced["v"] + 0.025 * (-terms.lam * advanced["v"] + terms.kappa)
    np.testing.assert_array_equal(v, expected)  # one compartment: no axial term


def test_apply_clamps_writes_clamped_entries_only():
    states = {"v": jnp.zeros(3), "HH_m": jnp.zeros(3), "i_HH": jnp.ones(3)}
    out = apply_clamps(states, {"v": jnp.asarray([5.0]), "HH_m": jnp.asarray([0.5, 0.75]),
                                "i": jnp.asarray([9.0])},
                       {"v": np.asarray([1]), "HH_m": np.asarray([0, 2]), "i": np.asarray([0])})
    np.testing.assert_array_equal(out["v"], [0.0, 5.0, 0.0])
    np.testing.assert_array_equal(out["HH_m"], [0.5, 0.0, 0.75])
    assert out["i_HH"] is states["i_HH"]
    np.testing.assert_array_equal(states["v"], 0.0)  # the input is not modified
