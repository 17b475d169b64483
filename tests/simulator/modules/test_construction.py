"""Building modules (:mod:`simulator.modules.compartment`, ``branch``, ``cell``): shapes,
parts in order, defaults, ``len`` and ``repr``.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import numpy as np
from module_cells import mixed_cell, y_cell

import simulator as jx
from simulator.channels import HH


def test_shapes_of_modules():
    assert jx.Compartment().shape == ()
    assert jx.Branch().shape == (1,)
    assert jx.Branch(jx.Compartment(), 3).shape == (3,)
    assert jx.Branch([jx.Compartment(), jx.Compartment()]).shape == (2,)
    assert jx.Cell().shape == (1, 1)
    assert y_cell().shape == (3, 6)  # reference
    assert mixed_cell().shape == (3, 6)  # reference
    assert jx.Cell(jx.Branch(jx.Compartment(), 4), [-1, 0, 0, 1, 1]).shape == (5, 20)


def test_shapes_of_views(no_comp_warning):
    cell = y_cell()
    # reference: (1, 2), (1, 1), (3, 6)
    assert cell.branch(0).shape == (1, 2)
    assert cell.branch(1).comp(0).shape == (1, 1)
    assert cell.branch("all").shape == (3, 6)
    assert cell.branch("all").comp(0).shape == (3, 3)
    assert cell.branch([0, 2]).shape == (2, 4)
    assert mixed_cell().select(nodes=[0, 3, 5]).shape == (2, 3)  # reference
    assert jx.Branch(jx.Compartment(), 3).comp([0, 2]).shape == (2,)
    assert jx.Compartment().select(nodes=[0]).shape == ()


def test_branch_repeats_one_compartment_and_keeps_a_list_in_order(x64):
    comp = jx.Compartment()
    comp.set("radius", 2.0)
    branch = jx.Branch(comp, 3)
    np.testing.assert_allclose(branch.nodes["radius"], [2.0, 2.0, 2.0])
    other = jx.Compartment()
    branch = jx.Branch([comp, other, comp])
    np.testing.assert_allclose(branch.nodes["radius"], [2.0, 1.0, 2.0])
    # the parts are copied: editing the branch leaves the compartment alone
    branch.set("radius", 3.0)
    assert comp.nodes["radius"].tolist() == [2.0]


def test_cell_with_different_ncomp_per_branch():
    cell = mixed_cell()
    nodes = cell.nodes
    assert nodes.index.tolist() == [0, 1, 2, 3, 4, 5]
    # reference
    assert nodes["local_branch_index"].tolist() == [0, 1, 1, 2, 2, 2]
    assert nodes["local_comp_index"].tolist() == [0, 0, 1, 0, 1, 2]
    assert nodes["global_branch_index"].tolist() == [0, 1, 1, 2, 2, 2]
    assert nodes["global_comp_index"].tolist() == [0, 1, 2, 3, 4, 5]
    assert cell.topology.ncomp.tolist() == [1, 2, 3]
    assert cell.topology.parents.tolist() == [-1, 0, 1]


def test_cell_from_list_of_branches_with_channels_and_repeated_branch():
    plain = jx.Branch(jx.Compartment(), 2)
    with_hh = jx.Branch(jx.Compartment(), 1)
    with_hh.insert(HH())
    cell = jx.Cell([plain, with_hh, plain], [-1, 0, 0])
    assert cell.shape == (3, 5)
    assert cell.nodes["HH"].tolist() == [False, False, True, False, False]
    assert [c.name for c in cell.channels] == ["HH"]


def test_default_cell_and_branch():
    assert jx.Cell().nodes.index.tolist() == [0]
    assert jx.Branch().nodes.index.tolist() == [0]
    cell = jx.Cell(parents=[-1, 0])  # the default branch, repeated
    assert cell.shape == (2, 2)


def test_module_len_and_repr():
    cell = y_cell()
    cell.insert(HH())
    assert len(cell) == 6
    assert len(cell.branch(1)) == 2
    assert "1 different channels" in repr(cell)
    assert "View" in repr(cell.branch(1))
