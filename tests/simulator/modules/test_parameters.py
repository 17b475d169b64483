"""Parameters (:mod:`simulator.modules.parameters`): ``set``, ``make_trainable``,
``write_trainables``, ``get_parameters``, ``data_set`` and ``to_jax``.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from module_cells import mixed_cell, y_cell

from simulator.channels import HH


def test_set_on_view_writes_the_base(x64):
    cell = y_cell()
    cell.branch(1).set("capacitance", 2.0)
    assert cell.nodes["capacitance"].tolist() == [1.0, 1.0, 2.0, 2.0, 1.0, 1.0]
    cell.branch(2).loc(1.0).set("v", -60.0)
    assert cell.nodes["v"].tolist() == [-70.0] * 5 + [-60.0]
    # a view of a view
    cell.branch([0, 2]).branch(0).comp(1).set("axial_resistivity", 100.0)
    assert cell.nodes["axial_resistivity"].tolist() == [5000.0, 100.0] + [5000.0] * 4


def test_set_radius_recomputes_geometry_as_cylinder(x64):
    cell = y_cell()
    cell.set("radius", 2.0)
    row = cell.nodes.iloc[0]
    # reference
    np.testing.assert_allclose(row["area"], 125.66370614359172, rtol=1e-12)
    np.testing.assert_allclose(row["volume"], 125.66370614359172, rtol=1e-12)
    np.testing.assert_allclose(row["resistive_load_in"], 0.3978873577297384, rtol=1e-12)
    np.testing.assert_allclose(row["resistive_load_out"], 0.3978873577297384, rtol=1e-12)


def test_set_per_compartment_array(x64):
    cell = y_cell()
    cell.branch(2).set("length", np.array([1.0, 2.0]))
    # reference
    np.testing.assert_allclose(cell.nodes["length"], [10.0, 10.0, 10.0, 10.0, 1.0, 2.0])
    np.testing.assert_allclose(cell.nodes["area"][4:], [2 * np.pi, 4 * np.pi])
    np.testing.assert_allclose(cell.nodes["resistive_load_in"][4:], [0.5 / np.pi, 1.0 / np.pi])
    cell.branch("all").comp(0).set("radius", jnp.asarray([1.0, 2.0, 3.0]))
    assert cell.nodes["radius"].tolist() == [1.0, 1.0, 2.0, 1.0, 3.0, 1.0]


def hh_mixed_cell():
    cell = mixed_cell()
    cell.insert(HH())
    return cell


def trainables(cell):
    return [
        ({k: np.asarray(v).tolist() for k, v in p.items()}, np.asarray(i).tolist())
        for p, i in zip(cell.get_parameters(), cell.indices_set_by_trainables, strict=True)
    ]


def test_make_trainable_sharing_as_reference(x64):
    cell = hh_mixed_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    cell.branch("all").make_trainable("radius", verbose=False)
    cell.branch("all").comp(0).make_trainable("capacitance", verbose=False)
    cell.select(nodes=[1, 4, 5]).make_trainable("HH_gK", init_val=[0.1, 0.2, 0.3],
                                                verbose=False)
    cell.branch(1).make_trainable("axial_resistivity", init_val=3.0, verbose=False)
    cell.cell("all").make_trainable("HH_gLeak", verbose=False)
    # reference (values and padded index arrays)
    assert trainables(cell) == [
        ({"HH_gNa": [0.12]}, [[0, 1, 2, 3, 4, 5]]),
        ({"radius": [1.0, 1.0, 1.0]}, [[0, -1, -1], [1, 2, -1], [3, 4, 5]]),
        ({"capacitance": [1.0, 1.0, 1.0]}, [[0], [1], [3]]),
        ({"HH_gK": [0.1, 0.2, 0.3]}, [[1], [4], [5]]),
        ({"axial_resistivity": [3.0]}, [[1, 2]]),
        ({"HH_gLeak": [0.0003]}, [[0, 1, 2, 3, 4, 5]]),
    ]
    assert cell.num_trainable_params == 12
    for p, i in zip(cell.get_parameters(), cell.indices_set_by_trainables, strict=True):
        (value,) = p.values()
        assert value.dtype == jnp.float64
        assert i.dtype == np.int32
        assert i.ndim == 2 and i.shape[0] == value.shape[0]


def test_make_trainable_per_comp_with_loc_all(x64):
    cell = y_cell()
    cell.branch("all").loc("all").make_trainable("length", verbose=False)
    assert trainables(cell) == [({"length": [10.0] * 6}, [[0], [1], [2], [3], [4], [5]])]


def test_make_trainable_init_is_nanmean_of_group(x64):
    cell = hh_mixed_cell()
    cell.branch(2).set("radius", np.array([1.0, 2.0, 3.0]))
    cell.branch("all").make_trainable("radius", verbose=False)
    assert trainables(cell)[0][0] == {"radius": [1.0, 1.0, 2.0]}
    # reference example: Cell(Branch(comp, 2)...) radius [1, 2, 1] per branch
    cell = y_cell()
    cell.branch(1).set("radius", 2.0)
    cell.branch("all").make_trainable("radius", verbose=False)
    assert trainables(cell)[0][0] == {"radius": [1.0, 2.0, 1.0]}


def test_make_trainable_only_where_defined_and_groups(x64):
    cell = y_cell()
    cell.branch([0, 2]).insert(HH())
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    assert trainables(cell) == [({"HH_gNa": [0.12, 0.12]}, [[0, 1], [4, 5]])]
    cell.branch(0).add_to_group("soma")
    cell.branch(2).loc(1.0).add_to_group("soma")
    cell.soma.make_trainable("radius", verbose=False)  # reference: one shared parameter
    cell.soma.branch("all").make_trainable("radius", verbose=False)  # reference: per branch
    cell.HH.make_trainable("HH_gK", verbose=False)
    assert trainables(cell)[1:] == [
        ({"radius": [1.0]}, [[0, 1, 5]]),
        ({"radius": [1.0, 1.0]}, [[0, 1], [5, -1]]),
        ({"HH_gK": [0.036]}, [[0, 1, 4, 5]]),
    ]


def test_make_trainable_verbose(capsys):
    cell = y_cell()
    cell.make_trainable("radius")
    cell.branch("all").make_trainable("length")
    out = capsys.readouterr().out
    # reference wording
    assert "Number of newly added trainable parameters: 3. Total number of trainable " \
           "parameters: 4" in out


def test_make_trainable_bad_input():
    cell = y_cell()
    with pytest.raises(ValueError, match="'HH_gNa'"):
        cell.make_trainable("HH_gNa", verbose=False)
    with pytest.raises(ValueError, match=r"3 values.*\(2,\)"):
        cell.branch("all").make_trainable("radius", init_val=[1.0, 2.0], verbose=False)
    with pytest.raises(ValueError, match=r"\(3, 1\)"):
        cell.branch("all").make_trainable("radius", init_val=np.ones((3, 1)), verbose=False)
    assert cell.num_trainable_params == 0


def test_write_and_delete_trainables(x64):
    cell = y_cell()
    cell.insert(HH())
    cell.make_trainable("HH_gNa", verbose=False)
    cell.branch(1).set("radius", 2.0)
    cell.branch("all").make_trainable("radius", verbose=False)
    params = cell.get_parameters()
    params[0]["HH_gNa"] = jnp.asarray([0.5])
    cell.write_trainables(params)
    # reference
    assert cell.nodes["HH_gNa"].tolist() == [0.5] * 6
    assert cell.nodes["radius"].tolist() == [1.0, 1.0, 2.0, 2.0, 1.0, 1.0]
    np.testing.assert_allclose(cell.nodes["area"][2], 125.66370614359172)
    assert len(cell.trainable_params) == 2  # reference: still registered
    with pytest.raises(ValueError, match="2 parameter dicts"):
        cell.write_trainables(params[:1])
    cell.delete_trainables()
    assert cell.num_trainable_params == 0
    assert cell.get_parameters() == [] and cell.indices_set_by_trainables == []


def test_get_parameters_returns_a_fresh_list():
    cell = y_cell()
    cell.make_trainable("radius", verbose=False)
    params = cell.get_parameters()
    params.append({"length": jnp.ones(1)})
    params[0]["radius"] = jnp.zeros(1)
    assert len(cell.get_parameters()) == 1
    assert float(cell.get_parameters()[0]["radius"][0]) == 1.0


def test_data_set_entries(x64):
    cell = y_cell()
    cell.insert(HH())
    pstate = cell.branch(1).data_set("HH_gNa", 0.3, None)
    pstate = cell.branch("all").loc(0.0).data_set("radius", jnp.asarray([1.0, 2.0, 3.0]), pstate)
    assert [e["key"] for e in pstate] == ["HH_gNa", "radius"]
    assert pstate[0]["indices"].shape == (2, 1)
    assert pstate[0]["indices"][:, 0].tolist() == [2, 3]
    assert pstate[0]["val"].tolist() == [0.3, 0.3]
    assert pstate[1]["indices"][:, 0].tolist() == [0, 2, 4]
    assert cell.nodes["HH_gNa"].tolist() == [0.12] * 6  # data_set does not write the module


def test_to_jax_node_arrays(x64):
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(2).set("radius", 2.0)
    cell.to_jax()
    # 6 compartments + 1 branch point (node 6, filled with -1 as in the reference)
    np.testing.assert_array_equal(cell.jaxnodes["radius"], [1, 1, 1, 1, 2, 2, -1])
    assert np.isnan(cell.jaxnodes["HH_gNa"][0]) and cell.jaxnodes["HH_gNa"][2] == 0.12
