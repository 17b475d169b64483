"""Iterating modules and views, ``.cells/.branches/.comps`` and views as context managers,
compared with the installed jaxley 0.14 (issue 17, gap 10)."""

from __future__ import annotations

import pytest

import simulator as sim

jx = pytest.importorskip("jaxley")


def _net(lib):
    comp = lib.Compartment()
    cell = lib.Cell(lib.Branch(comp, ncomp=2), parents=[-1, 0, 0])
    return lib.Network([cell, cell, cell])


def _comps(view):
    return view.nodes["global_comp_index"].tolist()


@pytest.mark.parametrize("path", [
    lambda n: n,                          # network -> cells
    lambda n: n.cell(1),                  # cell view -> branches
    lambda n: n.cell([0, 2]),             # two cells -> branch i of each
    lambda n: n.cell(2).branch(1),        # branch view -> compartments
    lambda n: n.cell("all").branch(2),    # a branch of each cell -> compartment i of each
])
def test_iterating_yields_children_as_jaxley(path):
    ours = [_comps(part) for part in path(_net(sim))]
    reference = [_comps(part) for part in path(_net(jx))]
    assert ours == reference
    assert len(ours) > 1


@pytest.mark.parametrize("level", ["cells", "branches", "comps"])
def test_named_levels_as_jaxley(level):
    ours = [_comps(part) for part in getattr(_net(sim).cell(1), level)]
    reference = [_comps(part) for part in getattr(_net(jx).cell(1), level)]
    assert ours == reference


def test_global_scope_walks_global_indices():
    net = _net(sim)
    net.set_scope("global")
    ours = [_comps(part) for part in net.cell(1).comps]
    ref = _net(jx)
    ref.set_scope("global")
    assert ours == [_comps(part) for part in ref.cell(1).comps]
    assert ours == [[i] for i in range(6, 12)]


def test_parts_are_a_sequence():
    cell = _net(sim).cell(0)
    assert len(cell.branches) == 3
    assert _comps(cell.branches[-1]) == [4, 5]
    assert [_comps(b) for b in cell.branches[:2]] == [[0, 1], [2, 3]]


def test_set_ncomp_in_a_loop_over_branches():
    """The documented jaxley idiom: each branch view is made after the previous change."""
    def build(lib):
        cell = lib.Cell(lib.Branch(lib.Compartment(), ncomp=2), parents=[-1, 0, 0, 1])
        for k, branch in enumerate(cell.branches):
            branch.set_ncomp(k + 1)
        return cell

    ours, reference = build(sim), build(jx)
    assert ours.nodes.groupby("global_branch_index").size().tolist() == [1, 2, 3, 4]
    assert ours.nodes["global_comp_index"].tolist() == (
        reference.nodes["global_comp_index"].tolist())
    assert ours.nodes["length"].tolist() == pytest.approx(reference.nodes["length"].tolist())


def test_view_is_a_context_manager():
    net = _net(sim)
    with net.cell(0).branch(1) as branch:
        branch.set("radius", 2.0)
    assert net.nodes.loc[net.nodes["radius"] == 2.0, "global_comp_index"].tolist() == [2, 3]


def test_exceptions_leave_the_with_block():
    with pytest.raises(KeyError), _net(sim).cell(0):
        raise KeyError("propagates")


@pytest.mark.parametrize("make", [
    lambda n: n.cell(0).branch(0).comp(0),
    lambda n: n.select(nodes=[0, 1]),
])
def test_views_without_a_level_below_refuse_iteration(make):
    with pytest.raises(TypeError, match="cannot iterate"):
        iter(make(_net(sim)))


def test_compartment_refuses_iteration():
    with pytest.raises(TypeError, match="comp"):
        iter(sim.Compartment())
