"""Named views (:mod:`simulator.modules.groups`): ``add_to_group``, groups carried through
composition, name clashes, and channels as attributes.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import pytest
from module_cells import BASE_COLUMNS, inds, y_cell

import simulator as jx
from simulator.channels import HH, Na


def test_channel_attribute_is_a_view():
    cell = y_cell()
    cell.branch(1).insert(HH())
    view = cell.HH
    assert isinstance(view, jx.View)
    assert inds(view) == [2, 3]  # reference
    assert view.shape == (1, 2)  # reference
    view.set("HH_gK", 0.1)
    assert cell.nodes["HH_gK"].tolist()[2:4] == [0.1, 0.1]


def test_unknown_attribute_raises():
    cell = y_cell()
    with pytest.raises(AttributeError, match="nonexistent"):
        _ = cell.nonexistent
    with pytest.raises(AttributeError, match="nonexistent"):
        _ = cell.branch(0).nonexistent
    assert not hasattr(cell, "soma")
    with pytest.raises(ValueError, match="'HH'"):
        cell.branch(1).insert(HH())
        _ = cell.branch(0).HH  # the channel exists, but not in branch 0


def test_add_to_group():
    cell = y_cell()
    cell.branch(0).add_to_group("soma")
    cell.branch(2).loc(1.0).add_to_group("soma")  # adds to the group
    # reference
    assert cell.nodes["soma"].tolist() == [True, True, False, False, False, True]
    assert cell.nodes["soma"].dtype == bool
    assert cell.groups == ["soma"]
    assert inds(cell.soma) == [0, 1, 5]
    assert cell.soma.shape == (2, 3)
    assert list(cell.nodes.columns) == BASE_COLUMNS + ["soma"]
    cell.soma.set("radius", 3.0)
    assert cell.nodes["radius"].tolist() == [3.0, 3.0, 1.0, 1.0, 1.0, 3.0]
    # groups and channels intersect
    cell.branch([1, 2]).insert(HH())
    assert inds(cell.soma.HH) == [5]
    assert inds(cell.HH.soma) == [5]
    assert inds(cell.soma.branch(1)) == [5]


def test_group_carried_over_on_composition():
    comp = jx.Compartment()
    comp.add_to_group("dend")
    branch = jx.Branch(jx.Compartment(), 2)
    branch.comp(0).add_to_group("prox")
    cell = jx.Cell([branch, jx.Branch(comp, 2)], [-1, 0])
    assert cell.nodes["prox"].tolist() == [True, False, False, False]  # reference
    assert cell.nodes["dend"].tolist() == [False, False, True, True]
    assert set(cell.groups) == {"prox", "dend"}
    assert inds(cell.prox) == [0]
    assert inds(cell.dend) == [2, 3]


@pytest.mark.parametrize("name", ["HH", "HH_gNa", "radius", "v", "controlled_by_param",
                                  "nodes", "branch", "set", "_hidden", "two words", ""])
def test_group_name_clashes(name):
    cell = y_cell()
    cell.insert(HH())
    with pytest.raises(ValueError, match=repr(name).replace("(", r"\(")):
        cell.branch(0).add_to_group(name)
    assert name not in cell.groups


def test_group_name_must_be_a_string():
    with pytest.raises(TypeError, match="str"):
        y_cell().add_to_group(3)


def test_group_and_channel_with_same_name_in_different_parts():
    comp = jx.Compartment()
    comp.add_to_group("HH")
    other = jx.Compartment()
    other.insert(HH())
    with pytest.raises(ValueError, match="'HH'"):
        jx.Branch([comp, other])


def test_channel_param_named_like_group():
    cell = y_cell()
    cell.add_to_group("vt")
    with pytest.raises(ValueError, match="'vt'"):
        cell.insert(Na())
