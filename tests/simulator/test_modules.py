"""The module tree: construction, ``.nodes``, views, set/insert/delete, groups, recordings,
inputs, trainable parameters and composition.

Expected values marked "reference" were observed by running the reference simulator (jaxley
0.14.0) on the same constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator as jx
from simulator import CompScopeWarning
from simulator.channels import HH, K, Leak, Na

# reference: .nodes columns of Cell(Branch(Compartment(), 2), [-1, 0, 0]) after insert(HH())
BASE_COLUMNS = [
    "local_cell_index", "local_branch_index", "local_comp_index", "length", "radius",
    "axial_resistivity", "capacitance", "v", "area", "volume", "resistive_load_in",
    "resistive_load_out", "x", "y", "z", "global_cell_index", "global_branch_index",
    "global_comp_index", "controlled_by_param",
]
HH_COLUMNS = ["HH", "HH_gNa", "HH_gK", "HH_gLeak", "HH_eNa", "HH_eK", "HH_eLeak", "HH_m",
              "HH_h", "HH_n"]
INT_COLUMNS = ["local_cell_index", "local_branch_index", "local_comp_index",
               "global_cell_index", "global_branch_index", "global_comp_index",
               "controlled_by_param"]


def y_cell(ncomp=2):
    """Root branch with two children, ``ncomp`` compartments each (node indices 0..3*ncomp-1)."""
    return jx.Cell(jx.Branch(jx.Compartment(), ncomp), [-1, 0, 0])


def mixed_cell():
    """Branches of 1, 2 and 3 compartments in a chain: branch of node i is [0,1,1,2,2,2]."""
    branches = [jx.Branch(jx.Compartment(), n) for n in (1, 2, 3)]
    return jx.Cell(branches, [-1, 0, 1])


def inds(view) -> list[int]:
    return view.nodes.index.tolist()


@pytest.fixture
def no_comp_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompScopeWarning)
        yield


# ================================================================== 1. construction and shape
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


# ================================================================== 2. .nodes
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


# ================================================================== 3. views
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
        (lambda c: c.select(nodes=np.array([5, 0])), [0, 5]),
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


# ================================================================== 4. set / insert / delete
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


def test_insert_in_one_branch_only():
    cell = y_cell()
    cell.branch(1).insert(HH())
    nodes = cell.nodes
    # reference
    assert nodes["HH"].tolist() == [False, False, True, True, False, False]
    assert nodes["HH"].dtype == bool
    assert nodes["HH_gNa"].isna().tolist() == [True, True, False, False, True, True]
    assert nodes["HH_m"].tolist()[2:4] == [0.2, 0.2]
    # set only touches compartments that have the parameter
    cell.set("HH_gNa", 0.3)
    assert nodes["HH_gNa"].isna().tolist() == [True, True, False, False, True, True]
    assert cell.nodes["HH_gNa"].tolist()[2:4] == [0.3, 0.3]


def test_insert_overwrites_with_defaults_and_is_registered_once():
    cell = y_cell()
    cell.insert(HH())
    cell.set("HH_gNa", 0.5)
    cell.branch(0).insert(HH())
    assert cell.nodes["HH_gNa"].tolist() == [0.12, 0.12, 0.5, 0.5, 0.5, 0.5]
    assert [c.name for c in cell.channels] == ["HH"]


def test_shared_parameter_between_channels():
    cell = y_cell()
    cell.insert(Na())
    cell.branch(1).insert(K())
    # reference: one vt column shared by Na and K, columns in insertion order
    assert list(cell.nodes.columns)[19:] == ["Na", "Na_gNa", "eNa", "vt", "Na_m", "Na_h", "K",
                                             "K_gK", "eK", "K_n"]
    assert cell.nodes["vt"].tolist() == [-60.0] * 6
    assert cell.nodes["eK"].isna().tolist() == [True, True, False, False, True, True]

    cell.branch(1).delete(Na())  # K still uses vt in branch 1
    assert cell.nodes["Na"].tolist() == [True, True, False, False, True, True]
    assert cell.nodes["vt"].tolist() == [-60.0] * 6
    assert cell.nodes["Na_gNa"].isna().tolist() == [False, False, True, True, False, False]

    cell.delete(Na())  # Na gone: vt stays only where K is
    assert "Na" not in cell.nodes.columns
    assert "Na_gNa" not in cell.nodes.columns and "eNa" not in cell.nodes.columns
    assert cell.nodes["vt"].isna().tolist() == [True, True, False, False, True, True]
    assert [c.name for c in cell.channels] == ["K"]
    with pytest.raises(AttributeError):
        _ = cell.Na

    cell.delete("K")  # deleting everywhere drops every column
    assert list(cell.nodes.columns) == BASE_COLUMNS
    assert cell.channels == []


def test_insert_into_compartment_is_carried_into_branch_and_cell():
    comp = jx.Compartment()
    comp.insert(HH())
    comp.set("HH_gK", 0.05)
    branch = jx.Branch(comp, 2)
    assert branch.nodes["HH"].tolist() == [True, True]  # reference
    assert branch.nodes["HH_gK"].tolist() == [0.05, 0.05]
    mixed = jx.Branch([comp, jx.Compartment()])
    assert mixed.nodes["HH"].tolist() == [True, False]  # reference
    assert mixed.nodes["HH_gNa"].isna().tolist() == [False, True]
    cell = jx.Cell([branch, mixed], [-1, 0])
    assert cell.nodes["HH"].tolist() == [True, True, True, False]  # reference
    assert [c.name for c in cell.channels] == ["HH"]
    assert inds(cell.HH) == [0, 1, 2]


def test_channel_name_clashes():
    cell = y_cell()
    cell.branch(0).add_to_group("soma")
    with pytest.raises(ValueError, match="'soma'"):
        cell.insert(HH(name="soma"))
    with pytest.raises(ValueError, match="'radius'"):
        cell.insert(Leak(name="radius"))
    cell.insert(HH())
    with pytest.raises(ValueError, match="'HH_gNa'"):
        cell.insert(Leak(name="HH_gNa"))  # would overwrite a parameter column

    class OtherHH(Leak):
        pass

    with pytest.raises(ValueError, match="'HH'"):
        cell.insert(OtherHH(name="HH"))  # a different channel with the same name
    with pytest.raises(TypeError, match="Channel"):
        cell.insert("HH")
    with pytest.raises(ValueError, match="'Na'"):
        cell.delete("Na")  # not inserted


def test_delete_on_view_keeps_channel_elsewhere():
    cell = y_cell()
    cell.insert(HH())
    cell.branch(0).delete(HH())
    assert cell.nodes["HH"].tolist() == [False, False, True, True, True, True]
    assert cell.nodes["HH_m"].isna().tolist() == [True, True, False, False, False, False]
    assert inds(cell.HH) == [2, 3, 4, 5]


# ================================================================== 5. attributes and groups
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


# ================================================================== 6. record / stimulate / clamp
def test_recordings_table():
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(1).loc(0.0).record(verbose=False)
    cell.branch(1).loc(0.0).record(verbose=False)  # duplicate: dropped
    cell.branch(1).record("HH_m", verbose=False)
    cell.branch(2).loc(1.0).record("v", verbose=False)
    cell.HH.record("i_HH", verbose=False)
    rec = cell.recordings
    assert list(rec.columns) == ["rec_index", "state"]
    # reference (row order)
    assert rec["rec_index"].tolist() == [2, 2, 3, 5, 2, 3]
    assert rec["state"].tolist() == ["v", "HH_m", "HH_m", "v", "i_HH", "i_HH"]
    assert rec["rec_index"].dtype == np.int64
    cell.delete_recordings()
    assert len(cell.recordings) == 0
    assert list(cell.recordings.columns) == ["rec_index", "state"]


def test_record_verbose_counts_new_rows(capsys):
    cell = y_cell()
    cell.branch(1).record()
    cell.branch([1, 2]).record()
    out = capsys.readouterr().out
    assert "Added 2 recordings" in out


def test_record_unknown_state_raises():
    cell = y_cell()
    cell.branch(1).insert(HH())
    with pytest.raises(ValueError, match="'HH_x'"):
        cell.record("HH_x", verbose=False)
    with pytest.raises(ValueError, match="'HH_m'"):
        cell.branch(0).record("HH_m", verbose=False)  # reference: refused too (KeyError there)


def test_stimulate_and_externals():
    cell = y_cell()
    cur = np.arange(5.0)
    cell.branch(0).stimulate(cur, verbose=False)
    cell.branch(2).loc(0.0).stimulate(2 * cur, verbose=False)
    # reference
    np.testing.assert_array_equal(cell.externals["i"], [cur, cur, 2 * cur])
    assert cell.external_inds["i"].tolist() == [0, 1, 4]
    cell.branch(1).stimulate(np.ones((2, 5)), verbose=False)
    assert cell.externals["i"].shape == (5, 5)  # reference
    assert cell.external_inds["i"].tolist() == [0, 1, 4, 2, 3]  # reference
    # the module's arrays are copies: later edits of cur do not leak in
    cur[:] = 100.0
    assert cell.externals["i"][0, 4] == 4.0
    cell.delete_stimuli()
    assert "i" not in cell.externals and "i" not in cell.external_inds


def test_stimulate_per_compartment_rows():
    cell = y_cell()
    currents = np.arange(12.0).reshape(3, 4)
    cell.branch("all").loc(1.0).stimulate(currents, verbose=False)
    assert cell.external_inds["i"].tolist() == [1, 3, 5]
    np.testing.assert_array_equal(cell.externals["i"], currents)


def test_clamps():
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(0).stimulate(np.zeros(5), verbose=False)
    cell.branch(1).clamp("v", np.zeros(5), verbose=False)
    cell.HH.clamp("HH_m", np.full((2, 5), 0.3), verbose=False)
    # reference
    assert {k: v.shape for k, v in cell.externals.items()} == {"i": (2, 5), "v": (2, 5),
                                                               "HH_m": (2, 5)}
    assert cell.external_inds["v"].tolist() == [2, 3]
    assert cell.external_inds["HH_m"].tolist() == [2, 3]
    cell.delete_clamps("v")
    assert list(cell.externals) == ["i", "HH_m"]  # reference
    cell.delete_clamps()
    assert list(cell.externals) == ["i"]  # reference
    with pytest.raises(ValueError, match="'v'"):
        cell.delete_clamps("v")


def test_stimulus_and_clamp_may_have_different_lengths():
    cell = y_cell()
    cell.branch(0).stimulate(np.zeros(10), verbose=False)
    cell.branch(1).clamp("v", np.zeros(7), verbose=False)  # reference: accepted
    assert cell.externals["i"].shape == (2, 10)
    assert cell.externals["v"].shape == (2, 7)


def test_data_stimulate_and_data_clamp():
    cell = y_cell()
    stim = cell.branch(1).loc(0.0).data_stimulate(jnp.ones(4))
    stim = cell.branch(2).data_stimulate(jnp.ones((2, 4)), stim)
    names, arrays, inds_ = stim
    assert names == ["i", "i"]
    assert [a.shape for a in arrays] == [(1, 4), (2, 4)]
    assert [i.tolist() for i in inds_] == [[2], [4, 5]]
    clamps = cell.branch(0).data_clamp("v", jnp.zeros(4))
    assert clamps[0] == ["v"] and clamps[2][0].tolist() == [0, 1]
    assert cell.externals == {}  # nothing stored on the module


# ================================================================== 7. trainable parameters
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


# ================================================================== 8. init_states
def test_init_states_hh_steady_state(x64):
    cell = y_cell()
    cell.insert(HH())
    cell.set("v", -65.0)
    cell.init_states()
    # reference
    np.testing.assert_allclose(cell.nodes["HH_m"], 0.052932482212781906, rtol=1e-6)
    np.testing.assert_allclose(cell.nodes["HH_h"], 0.5961207747459412, rtol=1e-6)
    np.testing.assert_allclose(cell.nodes["HH_n"], 0.31767693161964417, rtol=1e-6)


def test_init_states_only_where_channel_is(x64):
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(1).insert(K())
    cell.set("v", -65.0)
    cell.init_states()
    assert cell.nodes["HH_m"].isna().tolist() == [True, True, False, False, True, True]
    np.testing.assert_allclose(cell.nodes["HH_m"][2:4], 0.05293248, rtol=1e-6)
    assert np.all(np.isfinite(cell.nodes["K_n"][2:4]))


# ================================================================== 9. composition
@pytest.mark.parametrize(
    "prepare, match",
    [
        (lambda m: m.record(verbose=False), "recordings"),
        (lambda m: m.stimulate(np.zeros(3), verbose=False), "stimuli"),
        (lambda m: m.clamp("v", np.zeros(3), verbose=False), "stimuli or clamps"),
        (lambda m: m.make_trainable("radius", verbose=False), "trainable"),
    ],
)
def test_composition_refuses_parts_with_bookkeeping(prepare, match):
    comp = jx.Compartment()
    prepare(comp)
    with pytest.raises(ValueError, match=match):
        jx.Branch(comp, 2)
    branch = jx.Branch()
    prepare(branch)
    with pytest.raises(ValueError, match=match):
        jx.Cell(branch, [-1, 0])


@pytest.mark.parametrize(
    "build",
    [
        lambda: jx.Branch(["a"]),
        lambda: jx.Branch([jx.Compartment(), 3]),
        lambda: jx.Branch(jx.Branch(), 2),
        lambda: jx.Branch(jx.Cell(), 2),
        lambda: jx.Cell(jx.Compartment(), [-1]),
        lambda: jx.Cell([jx.Branch(), "b"], [-1, 0]),
        lambda: jx.Cell(jx.Cell(), [-1]),
        lambda: jx.Cell(y_cell().branch(0), [-1]),
        lambda: jx.Branch(y_cell().branch(0).comp(0), 1),
    ],
)
def test_composition_refuses_non_module_parts(build):
    with pytest.raises(TypeError):
        build()


def test_composition_copies_parts():
    branch = jx.Branch(jx.Compartment(), 2)
    cell = jx.Cell(branch, [-1, 0])
    cell.set("radius", 4.0)
    cell.insert(HH())
    assert branch.nodes["radius"].tolist() == [1.0, 1.0]
    assert "HH" not in branch.nodes.columns and branch.channels == []


# ================================================================== random trees
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


# ================================================================== misc
def test_pickle_and_deepcopy_roundtrip():
    cell = y_cell()
    cell.insert(HH())
    cell.branch(0).add_to_group("soma")
    cell.branch(1).loc(0.0).record(verbose=False)
    cell.soma.make_trainable("radius", verbose=False)
    cell.to_jax()
    for clone in (pickle.loads(pickle.dumps(cell)), copy.deepcopy(cell)):
        pd.testing.assert_frame_equal(clone.nodes, cell.nodes)
        assert inds(clone.soma) == [0, 1]
        assert clone.recordings["rec_index"].tolist() == [2]
        assert clone.num_trainable_params == 1
        clone.set("radius", 2.0)
        assert cell.nodes["radius"].tolist() == [1.0] * 6
    view = pickle.loads(pickle.dumps(cell.branch(1)))
    assert inds(view) == [2, 3]


def test_pickle_after_integrate(x64):
    cell = jx.Compartment()
    cell.insert(HH())
    cell.record(verbose=False)
    v = jx.integrate(cell, t_max=0.1)
    clone = pickle.loads(pickle.dumps(cell))
    np.testing.assert_allclose(jx.integrate(clone, t_max=0.1), v)


def test_to_jax_node_arrays(x64):
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(2).set("radius", 2.0)
    cell.to_jax()
    # 6 compartments + 1 branch point (node 6, filled with -1 as in the reference)
    np.testing.assert_array_equal(cell.jaxnodes["radius"], [1, 1, 1, 1, 2, 2, -1])
    assert np.isnan(cell.jaxnodes["HH_gNa"][0]) and cell.jaxnodes["HH_gNa"][2] == 0.12
