"""jaxley's descriptive attributes, ``show``/``copy`` and the low-level simulation methods
(issue 17, gap 4), compared with the installed jaxley 0.14 where it is a reference."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import simulator as jx

ATTRIBUTES = ("ncomp", "total_nbranches", "ncomp_per_branch", "nbranches_per_cell",
              "cumsum_ncomp", "membrane_current_names", "synapse_names", "group_names")
VIEWS = {
    "comp": lambda m: m["comp"], "branch": lambda m: m["branch"], "cell": lambda m: m["cell"],
    "net": lambda m: m["net"], "net.cell(0)": lambda m: m["net"].cell(0),
    "net.cell(1).branch(0)": lambda m: m["net"].cell(1).branch(0),
    "net.cell([0,2]).branch(1)": lambda m: m["net"].cell([0, 2]).branch(1),
    "cell.branch(1).comp(1)": lambda m: m["cell"].branch(1).comp(1),
    "net.dend": lambda m: m["net"].dend, "net.HH": lambda m: m["net"].HH,
}


def build(package: str) -> dict:
    """The same modules in ``package`` (``"simulator"`` or ``"jaxley"``)."""
    lib = importlib.import_module(package)
    channels = importlib.import_module(f"{package}.channels")
    synapses = importlib.import_module(f"{package}.synapses")
    comp = lib.Compartment()
    branch = lib.Branch(comp, 3)
    cell = lib.Cell([branch, lib.Branch(comp, 2), branch], parents=[-1, 0, 0])
    cell.branch(1).insert(channels.HH())
    cell.branch(0).comp(0).insert(channels.Leak())
    cell.branch(2).add_to_group("dend")
    net = lib.Network([cell, cell, cell])
    lib.connect(net.cell(0).branch(0).loc(0.0), net.cell(1).branch(0).loc(0.0),
                synapses.IonotropicSynapse())
    lib.connect(net.cell(1).branch(0).loc(0.0), net.cell(2).branch(0).loc(0.0),
                synapses.TestSynapse())
    net.cell(0).branch(1).make_trainable("HH_gNa", verbose=False)
    net.TestSynapse.make_trainable("TestSynapse_gC", verbose=False)
    return {"comp": comp, "branch": branch, "cell": cell, "net": net}


def plain(value):
    return np.asarray(value).tolist() if isinstance(value, np.ndarray) else value


@pytest.fixture(scope="module")
def reference():
    pytest.importorskip("jaxley")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = build("jaxley")
        return {name: {a: plain(getattr(make(modules), a)) for a in ATTRIBUTES}
                for name, make in VIEWS.items()}


@pytest.mark.parametrize("name", list(VIEWS))
def test_attributes_match_jaxley(reference, name):
    ours = VIEWS[name](build("simulator"))
    assert {a: plain(getattr(ours, a)) for a in ATTRIBUTES} == reference[name]


def test_attributes_follow_set_ncomp():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 2, parents=[-1, 0])
    cell.branch(1).set_ncomp(4)
    assert cell.ncomp_per_branch.tolist() == [2, 4]
    assert cell.cumsum_ncomp.tolist() == [0, 2, 6]
    assert cell.ncomp == 4 and cell.branch(1).ncomp == 4


def test_trainable_params_of_views():
    net = build("simulator")["net"]
    net.cell([0, 1]).make_trainable("radius", verbose=False)  # one value per cell
    assert [list(p) for p in net.cell(0).trainable_params] == [["HH_gNa"], ["radius"]]
    assert net.cell(2).trainable_params == []  # jaxley lists geometry trainables nowhere
    # A synapse view holds its pre- and postsynaptic compartments (jaxley 0.14): their
    # radius parameters act on it too.
    assert [list(p) for p in net.TestSynapse.trainable_params] == [["TestSynapse_gC"],
                                                                    ["radius"]]
    assert [list(p) for p in net.IonotropicSynapse.trainable_params] == [["radius"]]
    assert net.cell(0).num_trainable_params == 2 and net.num_trainable_params == 4
    part = net.cell(0).branch(0).comp(1)  # one compartment of cell 0's radius parameter
    np.testing.assert_array_equal(part.indices_set_by_trainables[0], [[1]])


def test_view_xyzr_interpolates_partial_branches():
    branch = jx.Branch(jx.Compartment(), 4)
    branch.xyzr = [np.array([[0.0, 0.0, 0.0, 1.0], [40.0, 0.0, 0.0, 3.0]])]
    np.testing.assert_array_equal(branch.comp(1).xyzr[0],
                                  [[10.0, 0.0, 0.0, 1.5], [20.0, 0.0, 0.0, 2.0]])
    gap = branch.select(nodes=[0, 2]).xyzr[0]
    assert np.isnan(gap[2]).all() and gap[3, 0] == 20.0
    assert branch.branch(0).xyzr[0] is branch.xyzr[0]
    with pytest.raises(AttributeError, match="read only"):
        branch.comp(0).xyzr = []


def test_show_and_copy():
    cell = build("simulator")["cell"]
    table = cell.branch(1).show()
    assert list(table.columns[:2]) == ["local_comp_index", "global_comp_index"]
    assert "HH_gNa" in table.columns and "HH_m" in table.columns and len(table) == 2
    assert list(cell.show("HH_gNa", indices=False).columns) == ["HH_gNa"]
    with pytest.warns(UserWarning, match="experimental"):
        copied = cell.copy()
    copied.set("radius", 2.0)
    assert (cell.nodes["radius"] == 1.0).all()
    with pytest.raises(NotImplementedError):
        cell.copy(as_module=True)


def test_module_and_view_import_paths():
    from simulator.modules.base import Module, View
    from simulator.synapses.test import TestSynapse
    assert jx.Module is Module and View is jx.View and issubclass(View, Module)
    assert TestSynapse is jx.synapses.TestSynapse


@pytest.mark.slow
def test_get_all_parameters_states_and_step_match_jaxley(precision):
    jaxley = pytest.importorskip("jaxley")
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (jx, jaxley):
            hh = importlib.import_module(f"{lib.__name__}.channels").HH
            cell = lib.Cell(lib.Branch(lib.Compartment(), 2), parents=[-1, 0, 0])
            cell.insert(hh())
            cell.branch(1).make_trainable("HH_gNa", verbose=False)
            params = cell.get_parameters()
            params[0]["HH_gNa"] = params[0]["HH_gNa"] * 0 + 0.2
            cell.to_jax()
            cell_utils = importlib.import_module(f"{lib.__name__}.utils.cell_utils")
            pstate = cell_utils.params_to_pstate(params, cell.indices_set_by_trainables)
            all_params = cell.get_all_parameters(pstate)
            states = cell.append_channel_currents_to_states(cell.get_all_states(pstate),
                                                            all_params, 0.025)
            new = cell.step(states, 0.025, {"i": np.array([0])}, {"i": np.array([0.5])},
                            all_params, voltage_solver="jaxley.dhs")
            results.append((all_params, new))
    (ours_p, ours_u), (ref_p, ref_u) = results
    assert sorted(ours_p) == sorted(ref_p) and sorted(ours_u) == sorted(ref_u)
    np.testing.assert_array_equal(ours_p["HH_gNa"], ref_p["HH_gNa"])
    # Measured max |Δv| 9.5e-5 mV (float32), 8.5e-13 mV (float64): the same step, other
    # rounding (jaxley and we order the sums of the implicit solve differently).
    tol = 1e-3 if precision == "float32" else 1e-11
    np.testing.assert_allclose(ours_u["v"], ref_u["v"], atol=tol)


def test_initialize_returns_the_module():
    cell = build("simulator")["cell"]
    cell.to_jax()
    assert cell.initialize() is cell and cell.initialized


def test_write_trainables_writes_synapse_parameters_and_keeps_them():
    # Before: write_trainables selected synapse parameters by node index (ValueError), and
    # integrate(module) afterwards re-applied the old trainable values.
    net = build("simulator")["net"]
    net.cell(0).branch(0).loc(0.0).record(verbose=False)
    params = net.get_parameters()
    params = [{k: v * 0 + 0.3 for k, v in p.items()} for p in params]
    net.write_trainables(params)
    # Values pass through float32 arrays: 0.3 is stored as 0.30000001 (|Δ| 1.2e-8).
    synapse = net.edges.loc[net.edges["type"] == "TestSynapse", "TestSynapse_gC"]
    assert synapse.tolist() == pytest.approx([0.3], abs=1e-7)
    assert net.cell(0).branch(1).nodes["HH_gNa"].tolist() == pytest.approx([0.3] * 2, abs=1e-7)
    assert net.cell(1).branch(1).nodes["HH_gNa"].tolist() == [0.12, 0.12]
    assert [float(v[0]) for p in net.get_parameters() for v in p.values()] == \
        pytest.approx([0.3, 0.3], abs=1e-7)
    with pytest.raises(ValueError, match="not on a view"):
        net.cell(0).write_trainables(params)
