"""set_ncomp, the d_lambda rule and path / Euclidean distances (against NEURON where it can)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH
from simulator.morphology import (
    d_lambda_ncomp,
    d_lambda_rule,
    euclidean_distance,
    path_distance,
)

DATA = Path(__file__).parents[2] / "data" / "swc"
CA1 = str(DATA / "morph_ca1_n120.swc")
GEOMETRY = ["length", "radius", "area", "volume", "resistive_load_in", "resistive_load_out"]


def _branch(length: float, ncomp: int, radius: float = 1.0):
    comp = jx.Compartment()
    comp.set("length", length)
    comp.set("radius", radius)
    return jx.Branch(comp, ncomp)


def _simulate(cell):
    cell.set("v", -65.0)
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 0.5, 0.025, 5.0), verbose=False)
    cell.branch(3).loc(1.0).record(verbose=False)
    cell.branch(1).loc(0.5).record(verbose=False)
    return np.asarray(jx.integrate(cell, t_max=5.0, delta_t=0.025))


# ---------------------------------------------------------------- set_ncomp, hand-built
def test_set_ncomp_equals_building_with_that_ncomp(x64):
    cell = jx.Cell(_branch(10.0, 4), parents=[-1, 0, 0, 1])
    cell.insert(HH())
    cell.branch(1).set_ncomp(2)
    cell.branch(3).set_ncomp(6)
    built = jx.Cell([_branch(10.0, 4), _branch(20.0, 2), _branch(10.0, 4), _branch(40 / 6, 6)],
                    parents=[-1, 0, 0, 1])
    built.insert(HH())
    assert list(cell.topology.ncomp) == [4, 2, 4, 6]
    np.testing.assert_array_equal(cell.nodes.index, built.nodes.index)
    np.testing.assert_allclose(cell.nodes[GEOMETRY], built.nodes[GEOMETRY], rtol=1e-12)
    assert list(cell.nodes.columns) == list(built.nodes.columns)
    np.testing.assert_array_equal(cell.nodes["HH"], built.nodes["HH"])
    v_set, v_built = _simulate(cell), _simulate(built)
    assert np.all(np.isfinite(v_set)) and v_set.max() > 0  # it spiked
    np.testing.assert_allclose(v_set, v_built, rtol=0, atol=1e-9)  # measured: identical


def test_set_ncomp_on_the_whole_cell_and_back():
    cell = jx.Cell(_branch(10.0, 4, radius=2.0), parents=[-1, 0, 0])
    cell.insert(HH())
    cell.set("HH_gNa", 0.2)
    cell.add_to_group("dend")
    area = cell.nodes["area"].sum()
    cell.set_ncomp(3, initialize=False)
    assert list(cell.topology.ncomp) == [3, 3, 3] and len(cell.nodes) == 9
    np.testing.assert_allclose(cell.nodes["length"], 40 / 3, rtol=1e-12)
    np.testing.assert_allclose(cell.nodes["radius"], 2.0)
    np.testing.assert_allclose(cell.nodes["area"].sum(), area, rtol=1e-12)
    assert (cell.nodes["HH_gNa"] == 0.2).all() and cell.nodes["dend"].all()
    assert cell.groups == ["dend"] and [c.name for c in cell.channels] == ["HH"]
    cell.dend.branch(2).set_ncomp(1)
    assert list(cell.topology.ncomp) == [3, 3, 1]
    branch = jx.Branch(jx.Compartment(), 2)
    branch.set_ncomp(5)
    assert branch.shape == (5,)


def test_set_ncomp_refusals():
    def fresh():
        cell = jx.Cell(_branch(10.0, 4), parents=[-1, 0, 0])
        cell.insert(HH())
        return cell

    cell = fresh()
    cell.branch(2).comp(0).record(verbose=False)
    with pytest.raises(ValueError, match="recordings"):
        cell.branch(1).set_ncomp(2)
    cell = fresh()
    cell.branch(0).comp(0).stimulate(np.zeros(10), verbose=False)
    with pytest.raises(ValueError, match="stimuli"):
        cell.set_ncomp(2)
    cell = fresh()
    cell.make_trainable("HH_gNa", verbose=False)
    with pytest.raises(ValueError, match="trainable"):
        cell.set_ncomp(2)
    cell = jx.Cell(_branch(10.0, 4), parents=[-1, 0, 0])
    cell.branch(1).comp(0).insert(HH())
    with pytest.raises(ValueError, match="channel 'HH' covers 1 of the 4"):
        cell.branch(1).set_ncomp(2)
    cell.branch(2).set_ncomp(2)  # other branches are homogeneous: fine
    cell = fresh()
    cell.branch(1).comp(2).set("HH_gK", 0.1)
    with pytest.raises(ValueError, match="'HH_gK' differs"):
        cell.branch(1).set_ncomp(2)
    cell = fresh()
    cell.branch(1).comp(3).add_to_group("tip")
    with pytest.raises(ValueError, match="group 'tip'"):
        cell.branch(1).set_ncomp(2)
    cell = fresh()
    cell.branch(1).comp(1).set("radius", 3.0)
    with pytest.raises(ValueError, match="radius differs"):
        cell.branch(1).set_ncomp(2)
    cell = fresh()
    with pytest.raises(ValueError, match="whole branches"):
        cell.branch(1).comp(0).set_ncomp(2)
    with pytest.raises(ValueError, match="positive int"):
        cell.set_ncomp(0)
    with pytest.raises(ValueError, match="Compartment"):
        jx.Compartment().set_ncomp(2)
    assert list(cell.topology.ncomp) == [4, 4, 4]  # refusals changed nothing


# ---------------------------------------------------------------- set_ncomp, SWC vs NEURON
def test_set_ncomp_swc_keeps_area_and_matches_neuron():
    pytest.importorskip("neuron")
    from neuron_swc import _key, neuron_cell

    cell = jx.read_swc(CA1, 2, backend="neuron")
    # The branch with the most traced points (tapering, several frustums).
    b = int(np.argmax([len(x) for x in cell.xyzr]))
    before = cell.nodes[cell.nodes["global_branch_index"] == b]
    total = cell.nodes["area"].sum()
    cell.branch(b).set_ncomp(5)
    after = cell.nodes[cell.nodes["global_branch_index"] == b]
    assert len(after) == 5
    # Measured: equal to the last bit here (the same frustum integrals, cut differently).
    np.testing.assert_allclose(after["area"].sum(), before["area"].sum(), rtol=1e-12)
    np.testing.assert_allclose(after["volume"].sum(), before["volume"].sum(), rtol=1e-12)
    np.testing.assert_allclose(cell.nodes["area"].sum(), total, rtol=1e-12)
    # The same as reading the file with ncomp=5 for that branch.
    read5 = jx.read_swc(CA1, 5, backend="neuron")
    ref = read5.nodes[read5.nodes["global_branch_index"] == b]
    np.testing.assert_allclose(after[GEOMETRY + ["x", "y", "z"]].to_numpy(),
                               ref[GEOMETRY + ["x", "y", "z"]].to_numpy(), rtol=1e-12)
    # NEURON, nseg = 5 on that section (139 traced points): segment areas, measured max rel.
    # diff 3.1e-7 (NEURON keeps 3-D points in float32).
    _, by_key = neuron_cell(CA1, 2)
    sec = by_key[_key(cell.xyzr[b][0, :3], cell.xyzr[b][-1, :3])]
    sec.nseg = 5
    theirs = np.array([seg.area() for seg in sec])
    np.testing.assert_allclose(after["area"].to_numpy(), theirs, rtol=1e-6)
    # Other branches untouched.
    others = cell.nodes[cell.nodes["global_branch_index"] != b]
    assert set(others.groupby("global_branch_index").size()) == {2}


def test_set_ncomp_swc_min_radius_and_modified_radius():
    cell = jx.read_swc(CA1, 1, backend="neuron")
    cell.set_ncomp(3, min_radius=2.0)
    assert cell.nodes["radius"].min() >= 2.0 - 1e-12
    cell = jx.read_swc(CA1, 1, backend="neuron")
    cell.branch(4).set("radius", 0.7)  # user geometry wins over the traced points
    length = cell.branch(4).nodes["length"].sum()
    cell.branch(4).set_ncomp(3)
    nodes = cell.branch(4).nodes
    np.testing.assert_allclose(nodes["radius"], 0.7)
    np.testing.assert_allclose(nodes["length"], length / 3, rtol=1e-12)
    assert np.all(np.isfinite(nodes[["x", "y", "z"]].to_numpy()))


# ---------------------------------------------------------------- d_lambda
def test_d_lambda_ncomp_formula_matches_neuron_lambda_f():
    pytest.importorskip("neuron")
    from neuron import h

    h.load_file("stdlib.hoc")
    sec = h.Section(name="dlambda_probe")
    try:
        for length, radius, ra, cm in [(100.0, 1.0, 100.0, 1.0), (1500.0, 0.3, 35.4, 0.8),
                                       (20.0, 5.0, 5000.0, 2.0), (800.0, 0.5, 200.0, 1.0)]:
            sec.L, sec.diam, sec.Ra, sec.cm = length, 2 * radius, ra, cm
            nseg = int((sec.L / (0.1 * h.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
            ours = d_lambda_ncomp(length, radius, capacitance=cm, axial_resistivity=ra)
            assert ours == nseg and ours % 2 == 1
    finally:
        h.delete_section(sec=sec)
    with pytest.raises(ValueError, match="axial_resistivity"):
        d_lambda_ncomp(100.0, 1.0, axial_resistivity=-1.0)


def test_d_lambda_per_section_matches_neuron_ca1():
    pytest.importorskip("neuron")
    from neuron import h
    from neuron_swc import _key, neuron_cell

    ra, cm = 100.0, 1.0
    sections, by_key = neuron_cell(CA1, 1)
    for sec in sections:
        sec.Ra, sec.cm = ra, cm
        sec.nseg = int((sec.L / (0.1 * h.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
    cell = jx.read_swc(CA1, 1, backend="neuron")
    cell.set("axial_resistivity", ra)
    cell.set("capacitance", cm)
    wanted = cell.set_ncomp_d_lambda(d_lambda=0.1, frequency=100.0)
    nseg = np.array([by_key[_key(x[0, :3], x[-1, :3])].nseg for x in cell.xyzr])
    assert len(nseg) == len(sections) == cell.topology.n_branches
    # Measured: every one of the 156 sections equal (626 compartments in all).
    np.testing.assert_array_equal(cell.topology.ncomp, nseg)
    assert list(wanted.values()) == list(nseg)
    # Total area unchanged by re-discretisation; NEURON's agrees (float32 points).
    area_theirs = sum(seg.area() for sec in sections for seg in sec)
    np.testing.assert_allclose(cell.nodes["area"].sum(), area_theirs, rtol=1e-6)

    # read_swc with the rule as ncomp integrates lambda_f over each traced section (the
    # rule's for_section), so it equals NEURON's nseg for every section directly.
    rule = d_lambda_rule(axial_resistivity=ra, capacitance=cm)
    read = jx.read_swc(CA1, ncomp=rule, backend="neuron")
    np.testing.assert_array_equal(read.topology.ncomp, nseg)
    # A plain callable sees (length, mean point radius) only and can be one step off on
    # tapering sections (measured: 5 of 156); set_ncomp_d_lambda then makes them equal.
    rough = jx.read_swc(CA1, ncomp=lambda length, radius: rule(length, radius), backend="neuron")
    diff = np.abs(rough.topology.ncomp - nseg)
    assert set(np.unique(diff)) <= {0, 2} and np.count_nonzero(diff) <= 10
    rough.set("axial_resistivity", ra)
    rough.set_ncomp_d_lambda()
    np.testing.assert_array_equal(rough.topology.ncomp, nseg)


def test_d_lambda_hand_built_cell():
    cell = jx.Cell([_branch(200.0, 2, radius=0.5), _branch(10.0, 4, radius=2.0)],
                   parents=[-1, 0])
    cell.set("axial_resistivity", 150.0)
    cell.set("capacitance", 2.0)
    got = cell.set_ncomp_d_lambda(d_lambda=0.05, frequency=200.0)
    expected = [d_lambda_ncomp(400.0, 0.5, 0.05, 200.0, 2.0, 150.0),
                d_lambda_ncomp(40.0, 2.0, 0.05, 200.0, 2.0, 150.0)]
    assert list(got.values()) == expected == list(cell.topology.ncomp)
    # By hand: lambda_f(d = 1 µm) = 1e5 * sqrt(1 / (4π 200 2 150)) = 115.16 µm, so
    # int((400 / 5.758 + 0.9) / 2) * 2 + 1 = 71; d = 4 µm: 230.3 µm -> 5.
    assert expected == [71, 5]


# ---------------------------------------------------------------- distances
def test_straight_branch_path_equals_euclidean(tmp_path):
    direction = np.array([1.0, 2.0, 0.5]) / np.linalg.norm([1.0, 2.0, 0.5])
    lines = [f"{i + 1} 3 {p[0]} {p[1]} {p[2]} {1.0 + 0.1 * i} {i if i else -1}"
             for i, p in enumerate(np.outer([0.0, 7.0, 20.0, 31.0, 60.0], direction))]
    path = tmp_path / "straight.swc"
    path.write_text("\n".join(lines) + "\n")
    cell = jx.read_swc(str(path), 7, backend="neuron")
    assert cell.topology.n_branches == 1
    for site in (cell.branch(0).comp(0), cell.branch(0).comp(4)):
        np.testing.assert_allclose(path_distance(site, cell), euclidean_distance(site, cell),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cell.distance_from(cell.branch(0).comp(0)),
                               (np.arange(7)) * 60.0 / 7, rtol=1e-12, atol=1e-12)


def test_path_distance_on_hand_built_y_cell():
    # Branch 0: 3 x 10 µm; branch 1: 2 x 5 µm; branch 2: 4 x 10 µm; both children at the
    # distal end of branch 0 (path position 30 µm).
    cell = jx.Cell([_branch(10.0, 3), _branch(5.0, 2), _branch(10.0, 4)], parents=[-1, 0, 0])
    site = cell.branch(1).comp(1)  # centre 7.5 µm into branch 1
    expected = np.array([
        7.5 + 25, 7.5 + 15, 7.5 + 5,  # branch 0 centres at 5, 15, 25
        5.0, 0.0,  # branch 1 centres at 2.5, 7.5
        7.5 + 5, 7.5 + 15, 7.5 + 25, 7.5 + 35,  # branch 2 centres
    ])
    np.testing.assert_allclose(cell.distance_from(site), expected, rtol=1e-12)
    np.testing.assert_allclose(path_distance(site, cell.branch(2)), expected[5:], rtol=1e-12)
    matrix = path_distance(cell, cell)
    assert matrix.shape == (9, 9)
    np.testing.assert_allclose(matrix, matrix.T, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.diag(matrix), 0.0)
    np.testing.assert_allclose(matrix[4], expected, rtol=1e-12)
    # Hand-built cells get jaxley's layout at construction: straight-line distances exist
    # and never exceed the path distances (measured here: equal on the straight branch 0).
    direct = np.asarray(cell.distance_from(site, kind="euclidean"))
    np.testing.assert_allclose(np.asarray(euclidean_distance(site, cell)).ravel(), direct)
    assert np.all(direct <= expected + 1e-9) and direct[4] == 0.0
    with pytest.raises(ValueError, match="single compartment"):
        cell.distance_from(cell.branch(1))
    with pytest.raises(ValueError, match="same module"):
        path_distance(site, jx.Cell(_branch(10.0, 3), parents=[-1]))
    # The intended use: a distance-dependent parameter.
    cell.insert(HH())
    cell.set("HH_gNa", 0.12 * np.exp(-cell.distance_from(cell.branch(0).loc(0.0)) / 200))
    assert cell.nodes["HH_gNa"].iloc[0] == pytest.approx(0.12)


def test_path_distance_matches_neuron_on_ca1():
    pytest.importorskip("neuron")
    from neuron import h
    from neuron_swc import _key, neuron_cell

    ncomp = 3
    cell = jx.read_swc(CA1, ncomp, backend="neuron")
    _, by_key = neuron_cell(CA1, ncomp)
    sections = [by_key[_key(x[0, :3], x[-1, :3])] for x in cell.xyzr]
    segments = [sec((k + 0.5) / ncomp) for sec in sections for k in range(ncomp)]
    for b in (0, 57, 140):  # soma (children attach at its middle) and two dendrites
        ours = cell.distance_from(cell.branch(b).loc(0.5))
        origin = sections[b](0.5)
        theirs = np.array([h.distance(origin, seg) for seg in segments])
        # Measured max |Δ| 6e-5 µm (NEURON's float32 3-D points), paths up to ~1 mm.
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-3)
    matrix = path_distance(cell, cell)
    np.testing.assert_allclose(matrix, matrix.T, rtol=0, atol=1e-9)
    euclid = euclidean_distance(cell, cell)
    assert np.all(euclid <= matrix + 1e-9)  # a straight line is never longer
