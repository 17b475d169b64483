"""The data a base module owns (:class:`ModuleData`) and its builder."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import simulator as jx
from simulator.modules.data import ModuleData, build_data
from simulator.modules.view import StaleViewError


def mixed_cell():
    """Branches of 1, 2 and 3 compartments in a chain."""
    return jx.Cell([jx.Branch(jx.Compartment(), n) for n in (1, 2, 3)], [-1, 0, 1])


def test_builder_numbers_compartments_and_first_compartments():
    cell = mixed_cell()
    data = cell._data
    assert isinstance(data, ModuleData)
    np.testing.assert_array_equal(data.first_comp, [0, 1, 3])
    np.testing.assert_array_equal(data.nodes.index, data.numbering.comp_nodes)
    nodes = data.nodes
    np.testing.assert_array_equal(nodes["global_branch_index"], [0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(nodes["local_comp_index"], [0, 0, 1, 0, 1, 2])
    np.testing.assert_array_equal(nodes["global_comp_index"], np.arange(6))
    assert data.recordings.empty and data.externals == {} and data.trainable_params == []
    assert data.edges.empty and data.synapses == [] and data.structure_log == []
    # jaxley's synthetic layout at construction: x, y, z set, radius NaN (as jaxley)
    assert len(data.xyzr) == 3 and np.isnan(data.xyzr[0][:, 3]).all()
    assert np.isfinite(data.xyzr[0][:, :3]).all()


def test_builder_local_and_global_indices_of_a_network():
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0]) for _ in range(2)]
    nodes = jx.Network(cells)._data.nodes
    np.testing.assert_array_equal(nodes["global_cell_index"], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(nodes["global_branch_index"], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(nodes["local_branch_index"], [0, 0, 1, 1, 0, 0, 1, 1])
    np.testing.assert_array_equal(nodes["local_comp_index"], [0, 1] * 4)


def test_build_data_is_fresh_and_keeps_the_structure_log():
    cell = mixed_cell()
    data = build_data(cell.nodes, cell._topology, structure_log=["an earlier change"])
    assert data.structure_log == ["an earlier change"]
    assert data.nodes is not cell.nodes and data.channels == [] and data.compiled is None


def test_private_attributes_are_the_data_fields():
    cell = mixed_cell()
    assert cell._nodes is cell._data.nodes and cell._topology is cell._data.topology
    table = cell._nodes.copy()
    cell._nodes = table
    assert cell._data.nodes is table
    assert cell._synapses is cell._data.synapses  # read by param_ranges
    with pytest.raises(AttributeError):
        cell.branch(0)._nodes  # noqa: B018 - a view owns no data


def test_rebuild_makes_a_new_data_object_and_marks_views_stale():
    cell = mixed_cell()
    old, view = cell._data, cell.branch(2)
    cell.branch(2).set_ncomp(4)
    assert cell._data is not old
    assert len(cell._data.structure_log) == 1 and "set_ncomp(4)" in cell._data.structure_log[0]
    np.testing.assert_array_equal(cell._data.first_comp, [0, 1, 3])
    assert len(cell.nodes) == 7
    with pytest.raises(StaleViewError, match="set_ncomp"):
        view.nodes  # noqa: B018


def test_pickle_drops_only_the_compiled_module():
    cell = mixed_cell()
    cell.insert(jx.channels.HH())
    cell.to_jax()
    assert cell._data.compiled is not None
    copy = pickle.loads(pickle.dumps(cell))
    assert copy._data.compiled is None and cell._data.compiled is not None
    assert [c.name for c in copy.channels] == ["HH"]
    assert copy._synapses is copy._data.synapses
    assert copy.nodes.equals(cell.nodes)
