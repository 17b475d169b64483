"""Compiling a module (``simulator.compile``): the static structure and the node arrays of a
small cell: node order, edges, mechanisms, names, values and dtypes."""

from __future__ import annotations

import numpy as np

import simulator as jx
from simulator.channels import HH, CaL
from simulator.compile import GEOMETRY_PARAMS, compile_module
from simulator.pumps import CaPump


def y_cell(radius=2.0):
    """Root branch and two children of two compartments; HH in branch 1, ``radius`` in 2."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.branch(1).insert(HH())
    cell.branch(2).set("radius", radius)
    return cell


def test_nodes_compartments_then_branch_points():
    compiled = compile_module(y_cell())
    assert compiled.n_nodes == 7  # 6 compartments, then the fork at the root branch's end
    assert compiled.is_comp.tolist() == [True] * 6 + [False]
    assert compiled.numbering.comp_nodes.tolist() == list(range(6))
    assert compiled.numbering.branch_point_nodes.tolist() == [6]
    num = compiled.numbering
    pairs = {tuple(sorted(e)) for e in zip(num.edge_source.tolist(), num.edge_sink.tolist(),
                                           strict=True)}
    # along each branch, and each branch's end to the branch point
    assert pairs == {(0, 1), (1, 6), (2, 6), (2, 3), (4, 6), (4, 5)}
    assert len(num.edge_source) == 2 * len(pairs)  # both directions


def test_mechanisms_and_names():
    compiled = compile_module(y_cell())
    [(channel, inds)] = compiled.channels
    assert channel.name == "HH" and np.asarray(inds).tolist() == [2, 3]
    assert compiled.state_names == ("v", "HH_m", "HH_h", "HH_n")
    assert compiled.current_names == ("i_HH",)
    assert compiled.param_names == (*GEOMETRY_PARAMS, "HH_gNa", "HH_gK", "HH_gLeak", "HH_eNa",
                                    "HH_eK", "HH_eLeak")
    assert compiled.pumps == () and compiled.ions == () and compiled.diffusion_states == ()
    assert compiled.synapses == ()


def test_node_arrays_values_and_dtypes():
    arrays = compile_module(y_cell()).node_arrays
    assert set(arrays) == {*GEOMETRY_PARAMS, "HH_gNa", "HH_gK", "HH_gLeak", "HH_eNa", "HH_eK",
                           "HH_eLeak", "v", "HH_m", "HH_h", "HH_n"}
    for key, values in arrays.items():
        assert values.dtype == np.float64 and values.shape == (7,), key
        assert values[6] == -1.0, key  # branch point: -1 as in jaxley's jaxnodes
    assert arrays["radius"].tolist() == [1, 1, 1, 1, 2, 2, -1]
    assert arrays["v"].tolist() == [-70.0] * 6 + [-1.0]
    np.testing.assert_array_equal(arrays["HH_gNa"], [np.nan, np.nan, 0.12, 0.12, np.nan,
                                                     np.nan, -1.0])
    np.testing.assert_array_equal(arrays["HH_m"][2:4], [0.2, 0.2])
    # area 2πrL (µm²) of radius 1 and 2 µm, length 10 µm; float64 rounding only, 0 measured.
    np.testing.assert_allclose(arrays["area"][[0, 4]], [20 * np.pi, 40 * np.pi], rtol=1e-15)


def test_signature_holds_structure_not_numbers():
    assert compile_module(y_cell(2.0)).signature == compile_module(y_cell(3.0)).signature
    other = y_cell()
    other.branch(0).insert(HH())
    assert compile_module(other).signature != compile_module(y_cell()).signature


def test_pumps_ions_and_diffusion():
    comp = jx.Compartment()
    comp.insert(CaL())
    comp.insert(CaPump())
    comp.diffuse("CaCon_i")
    compiled = compile_module(comp)
    assert [c.name for c, _ in compiled.channels] == ["CaL"]  # pumps kept apart
    assert [p.name for p, _ in compiled.pumps] == ["CaPump"]
    assert compiled.ions == ("CaCon_i",) and compiled.diffusion_states == ("CaCon_i",)
    assert compiled.param_names[-1] == "axial_diffusion_CaCon_i"
    assert compiled.state_names == ("v", "CaL_q", "CaL_r", "i_Ca", "CaCon_i")
    assert compiled.current_names == ("i_Ca", "i_CaPump")
    assert compiled.node_arrays["CaCon_i"].shape == (1,)
