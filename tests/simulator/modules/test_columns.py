"""The ``.nodes`` table (:mod:`simulator.modules.columns`, ``topology``): columns, dtypes,
default values and the node numbering, of modules and of views.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import numpy as np
import pytest
from module_cells import BASE_COLUMNS, HH_COLUMNS, INT_COLUMNS, mixed_cell, y_cell

import simulator as jx
from simulator.channels import HH


def test_nodes_columns_as_reference():
    cell = y_cell()
    assert list(cell.nodes.columns) == BASE_COLUMNS
    cell.insert(HH())
    assert list(cell.nodes.columns) == BASE_COLUMNS + HH_COLUMNS
    assert cell.nodes["HH"].dtype == bool
    for col in INT_COLUMNS:
        assert cell.nodes[col].dtype == np.int64, col


def test_nodes_default_values(x64):
    row = jx.Compartment().nodes.iloc[0]
    # reference: defaults of a compartment
    assert row["length"] == 10.0
    assert row["radius"] == 1.0
    assert row["axial_resistivity"] == 5000.0
    assert row["capacitance"] == 1.0
    assert row["v"] == -70.0
    np.testing.assert_allclose(row["area"], 62.83185307179586, rtol=1e-12)
    np.testing.assert_allclose(row["volume"], 31.41592653589793, rtol=1e-12)
    np.testing.assert_allclose(row["resistive_load_in"], 1.5915494309189535, rtol=1e-12)
    np.testing.assert_allclose(row["resistive_load_out"], 1.5915494309189535, rtol=1e-12)
    assert row["controlled_by_param"] == 0


def test_nodes_hh_defaults():
    cell = y_cell()
    cell.insert(HH())
    row = cell.nodes.iloc[3]
    expected = {"HH_gNa": 0.12, "HH_gK": 0.036, "HH_gLeak": 0.0003, "HH_eNa": 50.0,
                "HH_eK": -77.0, "HH_eLeak": -54.3, "HH_m": 0.2, "HH_h": 0.2, "HH_n": 0.2}
    for key, value in expected.items():
        assert row[key] == pytest.approx(value), key


def test_node_index_is_compartment_index_for_one_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), [-1, 0, 0, 1])
    nodes = cell.nodes
    assert nodes.index.tolist() == list(range(12))
    assert nodes["global_comp_index"].tolist() == list(range(12))
    assert nodes["global_branch_index"].tolist() == np.repeat(np.arange(4), 3).tolist()
    assert (nodes["global_cell_index"] == 0).all()
    assert nodes["local_comp_index"].tolist() == [0, 1, 2] * 4


def test_view_nodes_rerank_local_indices():
    cell = mixed_cell()
    view = cell.branch(2).nodes
    # reference
    assert view.index.tolist() == [3, 4, 5]
    assert view["local_cell_index"].tolist() == [0, 0, 0]
    assert view["local_branch_index"].tolist() == [0, 0, 0]
    assert view["local_comp_index"].tolist() == [0, 1, 2]
    assert view["global_branch_index"].tolist() == [2, 2, 2]
    assert view["global_comp_index"].tolist() == [3, 4, 5]
    assert list(view.columns) == BASE_COLUMNS
    # two branches: local branch indices 0 and 1
    two = y_cell().branch([1, 2]).nodes
    assert two["local_branch_index"].tolist() == [0, 0, 1, 1]
    assert two["local_comp_index"].tolist() == [0, 1, 0, 1]
    # reference: branch(1).loc(0.5) of a 2-comp branch -> node 2, all local indices 0
    site = y_cell().branch(1).loc(0.5).nodes
    assert site.index.tolist() == [2]
    assert site[["local_cell_index", "local_branch_index", "local_comp_index"]].values.tolist() \
        == [[0, 0, 0]]
    # the base's table is not re-ranked by looking at a view
    assert cell.nodes["local_branch_index"].tolist() == [0, 1, 1, 2, 2, 2]


def test_view_nodes_is_a_copy_but_base_nodes_is_the_table():
    cell = y_cell()
    table = cell.branch(1).nodes
    table.loc[:, "radius"] = 5.0
    assert (cell.nodes["radius"] == 1.0).all()
