"""Module operations are plain functions, one concern per file; methods delegate to them."""

from __future__ import annotations

import inspect

import numpy as np

import simulator as jx
from simulator.modules import drawing, edges, groups, io, mechanisms, parameters, selection
from simulator.modules.base import Module


def y_cell():
    return jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])


def test_methods_are_the_concern_functions():
    assert Module.insert is mechanisms.insert
    assert Module.add_to_group is groups.add_to_group
    assert Module.stimulate is io.stimulate
    assert Module.select is selection.select
    assert Module.vis is drawing.vis
    assert Module.set is edges.set  # synapse keys first, then parameters.set
    assert jx.Cell.to_jax is parameters.to_jax
    assert list(inspect.signature(jx.Cell.insert).parameters) == ["module", "channel"]
    assert inspect.getdoc(jx.Cell.set) == inspect.getdoc(parameters.set)


def test_add_to_group_called_directly():
    cell = y_cell()
    groups.add_to_group(cell.branch(1), "dend")
    assert cell.groups == ["dend"]
    np.testing.assert_array_equal(cell.nodes["dend"], [False, False, True, True, False, False])
    assert cell.dend.nodes.index.tolist() == [2, 3]


def test_insert_and_delete_called_directly():
    cell = y_cell()
    mechanisms.insert(cell.branch(0), jx.channels.HH())
    np.testing.assert_array_equal(cell.nodes["HH"], [True, True, False, False, False, False])
    assert np.isnan(cell.nodes["HH_gNa"].to_numpy()[2:]).all()
    mechanisms.delete(cell.branch(0).comp(0), "HH")
    np.testing.assert_array_equal(cell.nodes["HH"], [False, True, False, False, False, False])
    mechanisms.delete(cell, "HH")
    assert cell.channels == [] and "HH_gNa" not in cell.nodes.columns


def test_record_and_set_called_directly():
    cell = y_cell()
    io.record(cell.branch(2), "v", verbose=False)
    assert cell.recordings["rec_index"].tolist() == [4, 5]
    area = cell.nodes["area"].to_numpy().copy()
    edges.set(cell.branch(1), "radius", 2.0)  # not a synapse key: the compartment version
    np.testing.assert_array_equal(cell.nodes["radius"], [1.0, 1.0, 2.0, 2.0, 1.0, 1.0])
    np.testing.assert_allclose(cell.nodes["area"].to_numpy()[2:4], 2 * area[2:4])
    np.testing.assert_array_equal(cell.nodes["area"].to_numpy()[[0, 1, 4, 5]], area[[0, 1, 4, 5]])
