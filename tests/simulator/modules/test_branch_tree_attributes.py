"""``comb_parents`` and ``branch_edges`` (jaxley 0.14's branch tree attributes) on modules
and views, compared with the installed jaxley."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

pytest.importorskip("jaxley")

VIEWS = {
    "comp": lambda m: m["comp"], "branch": lambda m: m["branch"], "cell": lambda m: m["cell"],
    "net": lambda m: m["net"], "net.cell(1)": lambda m: m["net"].cell(1),
    "net.cell(1).branch([1,3])": lambda m: m["net"].cell(1).branch([1, 3]),
    "net.cell(0).branch([0,1,4])": lambda m: m["net"].cell(0).branch([0, 1, 4]),
    "cell.branch(3).comp(0)": lambda m: m["cell"].branch(3).comp(0),
}


def build(package: str) -> dict:
    """The same modules in ``package`` (``"simulator"`` or ``"jaxley"``)."""
    lib = importlib.import_module(package)
    comp = lib.Compartment()
    branch = lib.Branch(comp, 2)
    cell = lib.Cell(branch, parents=[-1, 0, 0, 1, 1])
    return {"comp": comp, "branch": branch, "cell": cell, "net": lib.Network([cell, cell])}


@pytest.fixture(scope="module")
def modules() -> dict:
    return {"ours": build("simulator"), "jaxley": build("jaxley")}


@pytest.mark.parametrize("view", list(VIEWS))
def test_comb_parents_matches_jaxley(modules, view):
    ours = VIEWS[view](modules["ours"]).comb_parents
    ref = VIEWS[view](modules["jaxley"]).comb_parents
    assert np.asarray(ours).tolist() == np.asarray(ref).tolist()


@pytest.mark.parametrize("view", list(VIEWS))
def test_branch_edges_matches_jaxley(modules, view):
    ours = VIEWS[view](modules["ours"]).branch_edges
    ref = VIEWS[view](modules["jaxley"]).branch_edges
    assert list(ours.columns) == ["parent_branch_index", "child_branch_index"]
    assert list(ours.index) == list(ref.index)
    for col in ours.columns:
        assert ours[col].to_numpy(dtype=np.int64).tolist() == \
            ref[col].to_numpy(dtype=np.int64).tolist()


def test_network_parents_are_global(modules):
    # Second cell's branches are numbered after the first cell's five.
    assert np.asarray(modules["ours"]["net"].comb_parents).tolist() == \
        [-1, 0, 0, 1, 1, -1, 5, 5, 6, 6]
