"""Linearised membrane and pump currents (``simulator.membrane``) against analytic slopes.

With its gates held fixed an HH current is linear in v, so its slope ∂I/∂v is the sum of the
open conductances, ``gNa·m³·h + gK·n⁴ + gLeak`` (S/cm² = mA/cm²/mV); a CaPump's current is
linear in [Ca] with slope ``1/decay`` (1/ms). The forward difference must reproduce both
(up to rounding), sum overlapping mechanisms and leave nodes without them at zero.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.assemble import all_parameters, all_states
from simulator.channels import HH, CaL, Leak
from simulator.compile import compile_module
from simulator.membrane import membrane_currents, pump_currents
from simulator.pumps import CaPump

#: Relative error of the slope. float64: measured 6.4e-12 (rounding of I(v + 1e-3 mV) −
#: I(v) over 1e-3 mV). float32: measured 3.7e-3 (the same cancellation at eps 1.2e-7).
SLOPE_RTOL = {"float32": 1e-2, "float64": 1e-9}


def arrays(module):
    """``(compiled, params, states)`` of ``module`` at its built values."""
    compiled = compile_module(module)
    params = all_parameters(compiled, compiled.node_arrays, [])
    return compiled, params, all_states(compiled, compiled.node_arrays, [], params)


def test_hh_and_leak_slopes_are_the_open_conductances(precision):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(HH())
    cell.branch(1).insert(Leak())
    cell.branch(2).set("HH_gK", 0.05)
    compiled, params, states = arrays(cell)
    n = compiled.n_nodes  # 6 compartments and one branch point (node 6)
    v = jnp.linspace(-80.0, 20.0, n)
    slope, offset, currents = membrane_currents(compiled.channels, compiled.current_names,
                                                states, params, v)
    assert slope.dtype == jnp.dtype(precision) and slope.shape == (n,)
    p = {k: np.asarray(params[k], np.float64) for k in params if k != "axial_conductances"}
    s = {k: np.asarray(states[k], np.float64) for k in states}
    hh = slice(0, 6)
    open_g = (p["HH_gNa"][hh] * s["HH_m"][hh] ** 3 * s["HH_h"][hh]
              + p["HH_gK"][hh] * s["HH_n"][hh] ** 4 + p["HH_gLeak"][hh])
    open_g[2:4] += p["Leak_gLeak"][2:4]
    np.testing.assert_allclose(slope[hh], open_g, rtol=SLOPE_RTOL[precision])
    assert float(slope[6]) == 0.0 and float(offset[6]) == 0.0  # no channel at the branch point
    # the currents: HH everywhere, Leak only in branch 1, each its own formula
    v64 = np.asarray(v, np.float64)
    i_leak = p["Leak_gLeak"][2:4] * (v64[2:4] - p["Leak_eLeak"][2:4])
    # measured relative error: float32 4.4e-8, float64 0.
    np.testing.assert_allclose(currents["i_Leak"][2:4], i_leak, rtol=1e-5)
    assert np.all(np.asarray(currents["i_Leak"])[[0, 1, 4, 5]] == 0.0)
    # offset = slope·v − I, summed over channels (the convention −I(v') ≈ −slope·v' + offset)
    total = np.asarray(currents["i_HH"], np.float64) + np.asarray(currents["i_Leak"], np.float64)
    expected = np.asarray(slope, np.float64) * v64 - total
    # float32: measured 1.9e-9 absolute (float64: 3.5e-18) at |offset| up to 0.018.
    np.testing.assert_allclose(offset, expected, atol=1e-6)


def test_leak_linearisation_is_exact_in_float64(x64):
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.set("Leak_gLeak", 2e-4)
    comp.set("Leak_eLeak", -65.0)
    compiled, params, states = arrays(comp)
    slope, offset, _ = membrane_currents(compiled.channels, compiled.current_names, states,
                                         params, jnp.asarray([-40.0]))
    # slope g, offset g·E (mA/cm²): measured relative errors 7.3e-13 and 4.5e-13.
    np.testing.assert_allclose(slope, [2e-4], rtol=1e-10)
    np.testing.assert_allclose(offset, [2e-4 * -65.0], rtol=1e-10)


@pytest.mark.parametrize("decay", [20.0, 80.0])
def test_ca_pump_slope_is_one_over_decay(precision, decay):
    comp = jx.Compartment()
    comp.insert(CaL())
    comp.insert(CaPump())
    comp.set("CaPump_decay", decay)
    comp.set("CaCon_i", 2e-4)
    compiled, params, states = arrays(comp)
    slope, offset, currents = pump_currents(compiled.pumps, compiled.ions,
                                            compiled.current_names, states, params)
    assert list(slope) == ["CaCon_i"] and slope["CaCon_i"].shape == (compiled.n_nodes,)
    # measured relative error: float32 8.9e-8, float64 2.2e-16.
    rtol = 1e-5 if precision == "float32" else 1e-12
    np.testing.assert_allclose(slope["CaCon_i"], [1.0 / decay], rtol=rtol)
    c = float(states["CaCon_i"][0])
    i_pump = float(currents["i_CaPump"][0])
    # float32: measured 1.4e-12 absolute at |offset| ~ 9e-6 mM/ms; float64 0.
    np.testing.assert_allclose(offset["CaCon_i"], [c / decay - i_pump], rtol=0, atol=1e-10)


def test_no_pumps_no_ion_linearisation():
    comp = jx.Compartment()
    comp.insert(HH())
    compiled, params, states = arrays(comp)
    assert pump_currents(compiled.pumps, compiled.ions, compiled.current_names, states,
                         params) == ({}, {}, {})
