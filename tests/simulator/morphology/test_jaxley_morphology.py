"""simulator.morphology's jaxley-0.14 functions against the installed jaxley."""

import copy
from pathlib import Path

import numpy as np
import pytest

import simulator as sx
from simulator.morphology import distance_direct, distance_pathwise, morph_connect, morph_delete

jx = pytest.importorskip("jaxley")
jmorph = pytest.importorskip("jaxley.morphology")

CA1 = str(Path(__file__).parents[2] / "data" / "swc" / "morph_ca1_n120.swc")
COLUMNS = ["length", "radius", "area", "x", "y", "z"]


@pytest.fixture(scope="module")
def cells():
    import jax

    with jax.enable_x64(True):  # jaxley interpolates centres in the default precision
        return sx.read_swc(CA1, ncomp=2), jx.read_swc(CA1, ncomp=2)


@pytest.fixture(scope="module")
def jaxley_one_comp():
    """jaxley's CA1 cell with one compartment per branch (its read takes 5-10 s on 2 cores:
    read once, each test edits a deep copy)."""
    import jax

    with jax.enable_x64(True):
        return jx.read_swc(CA1, ncomp=1)


def test_distances_equal_jaxley(cells, x64):
    ours, theirs = cells
    d_ours = np.asarray(distance_pathwise(ours.branch(5).comp(1), ours))
    d_theirs = np.asarray(jmorph.distance_pathwise(theirs.branch(5).comp(1), theirs))
    # Measured 2.2e-12 µm (sums of up to ~100 compartment lengths in another order).
    np.testing.assert_allclose(d_ours, d_theirs, rtol=0, atol=1e-10)
    e_ours = np.asarray(distance_direct(ours.branch(5).comp(1), ours))
    e_theirs = np.asarray(jmorph.distance_direct(theirs.branch(5).comp(1), theirs))
    # Measured 5.7e-14 µm.
    np.testing.assert_allclose(e_ours, e_theirs, rtol=0, atol=1e-12)


def test_distance_needs_one_start(cells):
    with pytest.raises(ValueError, match="single compartment"):
        distance_pathwise(cells[0].branch(0), cells[0])


def _assert_same_cell(ours, theirs):
    assert list(ours.topology.parents) == list(theirs.comb_parents)
    for col in COLUMNS:
        # Measured 0 (same graph operations on the same numbers); 1e-12 µm margin.
        np.testing.assert_allclose(ours.nodes[col].to_numpy(float),
                                   theirs.nodes[col].to_numpy(float), rtol=0, atol=1e-12)


def test_morph_delete_equals_jaxley(jaxley_one_comp, x64):
    ours, theirs = sx.read_swc(CA1, ncomp=1), copy.deepcopy(jaxley_one_comp)
    leaves = sorted(set(range(ours.topology.n_branches)) - set(ours.topology.parents))[:3]
    _assert_same_cell(morph_delete(ours.branch(leaves)), jmorph.morph_delete(theirs.branch(leaves)))
    with pytest.raises(ValueError, match="not connected"):
        morph_delete(ours.branch(3))  # a middle branch: its subtree would float free


def test_morph_connect_equals_jaxley(jaxley_one_comp, x64):
    ours, theirs = sx.read_swc(CA1, ncomp=1), copy.deepcopy(jaxley_one_comp)
    ours.insert(sx.channels.HH())
    stub_ours = sx.Cell(sx.Branch(sx.Compartment(), ncomp=1), parents=[-1])
    stub_theirs = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    stub_ours.compute_xyz()
    new_ours = morph_connect(ours.branch(0).loc(0.0), stub_ours.branch(0).loc(0.0))
    new_theirs = jmorph.morph_connect(theirs.branch(0).loc(0.0), stub_theirs.branch(0).loc(0.0))
    _assert_same_cell(new_ours, new_theirs)
    assert [c.name for c in new_ours.channels] == ["HH"]
    assert new_ours.nodes["HH"].sum() == ours.nodes["HH"].sum()


def test_morph_edit_refuses_recordings():
    cell = sx.read_swc(CA1, ncomp=1)
    cell.branch(0).comp(0).record()
    with pytest.raises(ValueError, match="recordings"):
        morph_delete(cell.branch(1))
    with pytest.raises(TypeError, match="view of a Cell"):
        morph_delete(sx.Branch().comp(0))
