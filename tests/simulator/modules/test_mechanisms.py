"""Channels in a module (:mod:`simulator.modules.mechanisms`): ``insert``, ``delete``,
shared parameters, name clashes and ``init_states``.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import numpy as np
import pytest
from module_cells import BASE_COLUMNS, inds, y_cell

import simulator as jx
from simulator.channels import HH, K, Leak, Na


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


def test_init_states_hh_steady_state(x64):
    cell = y_cell()
    cell.insert(HH())
    cell.set("v", -65.0)
    cell.init_states()
    # reference
    np.testing.assert_allclose(cell.nodes["HH_m"], 0.052932482212781906, rtol=1e-6)
    np.testing.assert_allclose(cell.nodes["HH_h"], 0.5961207747459412, rtol=1e-6)
    np.testing.assert_allclose(cell.nodes["HH_n"], 0.31767693161964417, rtol=1e-6)


def test_init_states_of_a_channel_that_needs_concrete_values(x64):
    """init_states compiles each channel's steady state; a user channel whose init_state
    reads a value in Python (not traceable) is evaluated eagerly instead, with the same
    result."""

    class Picky(HH):
        def init_state(self, states, v, params, delta_t):
            if float(np.asarray(params[f"{self.name}_gNa"])[0]) <= 0:  # concrete only
                raise AssertionError("not reached")
            return super().init_state(states, v, params, delta_t)

    cells = [y_cell(), y_cell()]
    for cell, channel in zip(cells, (HH(), Picky(name="HH")), strict=True):
        cell.insert(channel)
        cell.set("v", -65.0)
        cell.init_states()
    for key in ("HH_m", "HH_h", "HH_n"):
        # measured: equal (the same arithmetic, compiled or eager)
        np.testing.assert_allclose(cells[1].nodes[key], cells[0].nodes[key], rtol=1e-12)


def test_init_states_only_where_channel_is(x64):
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(1).insert(K())
    cell.set("v", -65.0)
    cell.init_states()
    assert cell.nodes["HH_m"].isna().tolist() == [True, True, False, False, True, True]
    np.testing.assert_allclose(cell.nodes["HH_m"][2:4], 0.05293248, rtol=1e-6)
    assert np.all(np.isfinite(cell.nodes["K_n"][2:4]))


def test_initial_states_compile_once_per_channel_content():
    """Before: ``jax.jit`` of each channel's bound ``init_state`` compiled at every
    ``init_states`` call (504 compilations in one test run)."""
    from simulator.modules.mechanisms import _init_state_program

    def cell(channel):
        c = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)], parents=[-1])
        c.insert(channel)
        c.init_states()
        return c

    first = cell(HH())
    size = _init_state_program._cache_size()
    second = cell(HH())  # another instance of equal content: the same program
    assert _init_state_program._cache_size() == size
    for key in ("HH_m", "HH_h", "HH_n"):
        np.testing.assert_array_equal(second.nodes[key], first.nodes[key])
    renamed = cell(HH("other"))  # other state names: another program
    assert _init_state_program._cache_size() == size + 1
    np.testing.assert_array_equal(renamed.nodes["other_m"], first.nodes["HH_m"])
