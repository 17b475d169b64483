"""Assembling the step's inputs (``simulator.assemble``): param_state entries, ``all_params``
(primary, derived geometry, axial conductances) and ``all_states``.

Derived geometry under changed radius/length is tested in ``test_derived_geometry.py``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.assemble import (
    DERIVED,
    all_parameters,
    all_states,
    check_param_state,
    derive,
    params_to_pstate,
    split_all_params,
)
from simulator.channels import HH, Leak
from simulator.compile import compile_module


def branch(ncomp=2):
    """A passive branch of ``ncomp`` default compartments (r 1 µm, L 10 µm, 5000 Ω·cm)."""
    module = jx.Branch(jx.Compartment(), ncomp)
    module.insert(Leak())
    return module


def test_axial_conductance_of_two_default_compartments(precision):
    compiled = compile_module(branch())
    g = all_parameters(compiled, compiled.node_arrays, [])["axial_conductances"]["v"]
    # g = 1e7 / ((Ra·L/(2πr²))·2 · 2πrL · cm) = 1e7 / ((5000·10/π) · 20π · 1) = 10 /ms
    assert g.dtype == jnp.dtype(precision) and g.shape == (2,)
    # measured relative error 0 in float32 and float64 (rounding of π cancels).
    np.testing.assert_allclose(g, [10.0, 10.0], rtol=1e-6)


def test_param_state_overrides_only_its_nodes(x64):
    module = branch(3)
    compiled = compile_module(module)
    pstate = module.comp(1).data_set("Leak_gLeak", 5e-4, None)
    pstate = module.comp([0, 2]).data_set("capacitance", 2.0, pstate)
    params = all_parameters(compiled, compiled.node_arrays, pstate)
    assert params["Leak_gLeak"].tolist() == [1e-4, 5e-4, 1e-4]
    assert params["capacitance"].tolist() == [2.0, 1.0, 2.0]
    # the capacitance enters the conductance into its sink: halved into nodes 0 and 2
    g = np.asarray(params["axial_conductances"]["v"])
    num = compiled.numbering
    into = {(int(s), int(t)): x for s, t, x in zip(num.edge_source, num.edge_sink, g,
                                                    strict=True)}
    # 10 /ms (see above) over c = 2 µF/cm²; rounding only (measured 0).
    np.testing.assert_allclose([into[1, 0], into[0, 1], into[1, 2], into[2, 1]],
                               [5.0, 10.0, 5.0, 10.0], rtol=1e-12)


def test_params_to_pstate_pairs_values_with_trainable_indices(x64):
    module = branch(3)
    module.comp("all").make_trainable("radius", verbose=False)
    pstate = params_to_pstate(module.get_parameters(), module.indices_set_by_trainables)
    [entry] = pstate
    assert entry["key"] == "radius" and entry["indices"].tolist() == [[0], [1], [2]]
    with pytest.raises(ValueError, match="1 trainable"):
        params_to_pstate([], module.indices_set_by_trainables)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        params_to_pstate([{"radius": jnp.ones(2)}], module.indices_set_by_trainables)


def test_check_param_state_refuses_unknown_keys():
    compiled = compile_module(branch())
    check_param_state(compiled, [{"key": "Leak_gLeak", "val": 1.0, "indices": [[0]]}])
    with pytest.raises(ValueError, match="'HH_gNa'"):
        check_param_state(compiled, [{"key": "HH_gNa", "val": 1.0, "indices": [[0]]}])


def test_derive_reproduces_all_params_from_its_split(x64):
    compiled = compile_module(branch())
    params = all_parameters(compiled, compiled.node_arrays, [])
    primary, reference = split_all_params(params)
    assert not set(DERIVED) & set(primary)
    again = derive(compiled, primary, reference)
    for key in ("area", "volume", "resistive_load_in", "resistive_load_out"):
        assert np.array_equal(again[key], params[key]), key  # bit for bit
    with pytest.raises(ValueError, match="derived"):
        derive(compiled, params, reference)


def test_all_states_hold_states_and_currents_at_them(x64):
    comp = jx.Compartment()
    comp.insert(HH())
    compiled = compile_module(comp)
    params = all_parameters(compiled, compiled.node_arrays, [])
    states = all_states(compiled, compiled.node_arrays, [], params)
    assert set(states) == {"v", "HH_m", "HH_h", "HH_n", "i_HH"}
    m, h, n = 0.2, 0.2, 0.2  # the built gates; v -70 mV
    expected = 0.12 * m**3 * h * (-70 - 50) + 0.036 * n**4 * (-70 + 77) + 3e-4 * (-70 + 54.3)
    # mA/cm²: float64 rounding only (measured 2.2e-16 relative).
    np.testing.assert_allclose(states["i_HH"], [expected], rtol=1e-12)
