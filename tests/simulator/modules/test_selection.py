"""Indexing (:mod:`simulator.modules.selection`, ``view``): ``branch``, ``comp``, ``loc``,
``select``, scopes, bad indices, iteration, and random trees.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from module_cells import inds, mixed_cell, y_cell

import simulator as jx
from simulator import CompScopeWarning


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda c: c.branch(1), [2, 3]),
        (lambda c: c.branch([0, 2]), [0, 1, 4, 5]),
        (lambda c: c.branch(slice(0, 2)), [0, 1, 2, 3]),  # reference
        (lambda c: c.branch(range(1, 3)), [2, 3, 4, 5]),  # reference
        (lambda c: c.branch(np.array([True, False, True])), [0, 1, 4, 5]),  # reference
        (lambda c: c.branch(np.array([2, 0])), [0, 1, 4, 5]),
        (lambda c: c.branch(np.int64(2)), [4, 5]),
        (lambda c: c.branch("all"), [0, 1, 2, 3, 4, 5]),
        (lambda c: c.branch(-1), [4, 5]),
        (lambda c: c.branch([-1, 0]), [0, 1, 4, 5]),
        (lambda c: c.branch(1).comp(1), [3]),
        (lambda c: c.branch(1).comp([0, 1]), [2, 3]),  # reference
        (lambda c: c.branch(2).comp(-1), [5]),
        (lambda c: c.branch("all").comp(0), [0, 2, 4]),  # reference
        (lambda c: c.branch("all").comp(slice(1, None)), [1, 3, 5]),
        (lambda c: c.branch("all").comp(np.array([False, True])), [1, 3, 5]),
        (lambda c: c.branch([0, 2]).branch(1), [4, 5]),  # reference
        (lambda c: c.branch([0, 2]).branch(1).comp(0), [4]),
        (lambda c: c.cell(0), [0, 1, 2, 3, 4, 5]),
        (lambda c: c.cell("all").branch(1), [2, 3]),
        (lambda c: c[1, 0], [2]),  # reference
        (lambda c: c[1], [2, 3]),  # reference
        (lambda c: c[:, 1], [1, 3, 5]),
        (lambda c: c[[0, 2], -1], [1, 5]),
        (lambda c: c.scope("global").comp(4), [4]),  # reference
        (lambda c: c.scope("global").branch(1).comp(3), [3]),  # reference
        (lambda c: c.branch(2).scope("global").comp([4, 5]), [4, 5]),
        (lambda c: c.select(nodes=[1, 4]), [1, 4]),
        (lambda c: c.select(nodes=np.array([5, 0])), [5, 0]),  # given order, as jaxley
        (lambda c: c.select(nodes=np.array([5, 0]), sorted=True), [0, 5]),
        (lambda c: c.select(nodes=np.array([True, False, False, False, False, True])), [0, 5]),
        (lambda c: c.select(), [0, 1, 2, 3, 4, 5]),
        (lambda c: c.branch(1).select(nodes=[3]), [3]),
        (lambda c: c.select(nodes=[1, 2, 4]).branch(1), [2]),
    ],
)
def test_view_selects(make, expected, no_comp_warning):
    assert inds(make(y_cell())) == expected


@pytest.mark.parametrize(
    "x, expected",
    [  # reference (mixed cell, ncomp 1, 2, 3)
        (0.0, [0, 1, 3]),
        (0.5, [0, 1, 4]),
        (1.0, [0, 2, 5]),
        (0.34, [0, 1, 4]),
        (0.99, [0, 2, 5]),
        ([0.0, 1.0], [0, 1, 2, 3, 5]),
        ("all", [0, 1, 2, 3, 4, 5]),
    ],
)
def test_loc(x, expected):
    assert inds(mixed_cell().loc(x)) == expected


def test_loc_on_branches_and_arrays():
    cell = mixed_cell()
    assert inds(cell.branch(2).loc(np.array([0.1, 0.9]))) == [3, 5]  # reference
    assert inds(cell.branch([1, 2]).loc([0.0, 1.0])) == [1, 2, 3, 5]  # reference
    assert inds(y_cell().loc("all")) == list(range(6))  # reference
    # reference: bin edges are linspace(0, 1 + 1e-10, ncomp + 1), so x = 0.25 is still comp 0
    branch = jx.Branch(jx.Compartment(), 4)
    assert [inds(branch.loc(x)) for x in (0.25, 0.2499, 0.26, 0.75)] == [[0], [0], [1], [2]]
    assert inds(jx.Compartment().loc(0.7)) == [0]


def test_comp_on_multi_branch_cell_selects_every_branch_and_warns():
    cell = y_cell()
    with pytest.warns(CompScopeWarning, match=r"branch\('all'\)\.comp\(0\)"):
        view = cell.comp(0)
    assert inds(view) == [0, 2, 4]  # reference: comp 0 of every branch
    with pytest.warns(CompScopeWarning):
        assert inds(cell.comp(1)) == [1, 3, 5]  # reference


def test_comp_without_warning_when_explicit(no_comp_warning):
    cell = y_cell()
    assert inds(cell.branch("all").comp(0)) == [0, 2, 4]
    assert inds(cell.branch(1).comp(0)) == [2]
    assert inds(cell.scope("global").comp(4)) == [4]
    assert inds(cell[:, 0]) == [0, 2, 4]
    assert inds(jx.Branch(jx.Compartment(), 3).comp(2)) == [2]
    assert inds(jx.Cell(jx.Branch(jx.Compartment(), 3)).comp(1)) == [1]  # one branch
    assert inds(cell.branch("all").loc(0.0).comp(0)) == [0, 2, 4]


def test_comp_negative_and_slices_count_per_branch(no_comp_warning):
    cell = mixed_cell()
    assert inds(cell.branch("all").comp(-1)) == [0, 2, 5]  # last comp of each branch
    assert inds(cell.branch("all").comp(2)) == [5]  # reference: only branch 2 has comp 2
    assert inds(cell.branch("all").comp(slice(1, None))) == [2, 4, 5]  # reference
    assert inds(cell.branch("all").comp("all")) == list(range(6))


def test_set_scope_in_place():
    cell = y_cell()
    cell.set_scope("global")
    assert inds(cell.comp(3)) == [3]
    assert inds(cell.branch(2).comp(5)) == [5]
    cell.set_scope("local")
    assert inds(cell.branch(2).comp(1)) == [5]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda c: c.branch(3), "branch index 3"),
        (lambda c: c.branch(-4), "branch index -4"),
        (lambda c: c.branch([0, 7]), "branch index 7"),
        (lambda c: c.branch(1).comp(2), "compartment index 2"),
        (lambda c: c.branch("all").comp(5), "compartment index 5"),
        (lambda c: c.cell(1), "cell index 1"),
        (lambda c: c.scope("global").comp(6), "compartment index 6"),
        (lambda c: c.branch(np.array([True, False])), "length 3"),
        (lambda c: c.select(nodes=[9]), "node index 9"),
        (lambda c: c.branch(1).select(nodes=[0]), "node index 0"),
        (lambda c: c[0, 0, 0], "too many indices"),
    ],
)
def test_out_of_range_index_raises_index_error(make, match, no_comp_warning):
    with pytest.raises(IndexError, match=match):
        make(y_cell())


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda c: c.branch([]), r"branch\(\[\]\)"),
        (lambda c: c.branch(1).scope("global").comp(0), r"comp\(0\)"),
        (lambda c: c.branch(0).comp(1).loc(0.0), r"loc\(0.0\)"),
        (lambda c: c.branch(1.0), "integer"),
        (lambda c: c.branch("first"), "'first'"),
        (lambda c: c.loc("middle"), "'middle'"),
        (lambda c: c.scope("nonlocal"), "'nonlocal'"),
    ],
)
def test_empty_or_malformed_selection_raises_value_error(make, match, no_comp_warning):
    with pytest.raises(ValueError, match=match):
        make(y_cell())


def test_views_iterate():
    cell = y_cell()
    assert [inds(b) for b in cell.branches] == [[0, 1], [2, 3], [4, 5]]
    assert [inds(c) for c in cell.branch(1).comps] == [[2], [3]]
    assert [inds(c) for c in cell.cells] == [list(range(6))]


@st.composite
def trees(draw):
    n = draw(st.integers(1, 6))
    parents = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    ncomp = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    return parents, ncomp


@settings(max_examples=40, deadline=None)
@given(trees())
def test_random_tree_indexing(tree):
    parents, ncomp = tree
    cell = jx.Cell([jx.Branch(jx.Compartment(), k) for k in ncomp], parents)
    n = sum(ncomp)
    first = np.concatenate([[0], np.cumsum(ncomp)[:-1]])
    assert cell.shape == (len(ncomp), n)
    assert cell.nodes.index.tolist() == list(range(n))
    assert cell.nodes["global_branch_index"].tolist() == np.repeat(
        np.arange(len(ncomp)), ncomp).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompScopeWarning)
        for b, k in enumerate(ncomp):
            branch = cell.branch(b)
            assert inds(branch) == list(range(first[b], first[b] + k))
            assert branch.shape == (1, k)
            assert branch.nodes["local_comp_index"].tolist() == list(range(k))
            assert inds(branch.loc(0.0)) == [first[b]]
            assert inds(branch.loc(1.0)) == [first[b] + k - 1]
            assert inds(branch.comp(-1)) == [first[b] + k - 1]
            assert inds(cell[b, 0]) == [first[b]]
        assert inds(cell.branch("all").comp(0)) == first.tolist()
        assert inds(cell.branch("all").comp(-1)) == (first + np.asarray(ncomp) - 1).tolist()
        assert inds(cell.loc(0.0)) == first.tolist()
        assert inds(cell.loc("all")) == list(range(n))
        for i in range(n):
            assert inds(cell.scope("global").comp(i)) == [i]
    # branch views partition the cell and write through
    cell.branch("all").make_trainable("radius", verbose=False)
    rows = cell.indices_set_by_trainables[0]
    assert rows.shape == (len(ncomp), max(ncomp))
    assert sorted(rows[rows >= 0].tolist()) == list(range(n))
    cell.branch(len(ncomp) - 1).set("radius", 2.0)
    assert cell.nodes["radius"].tolist() == [1.0] * (n - ncomp[-1]) + [2.0] * ncomp[-1]
