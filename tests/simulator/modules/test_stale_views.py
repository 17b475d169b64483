"""Views made before a structural change of their module refuse to be used afterwards.

A view holds node indices. ``set_ncomp`` / ``set_ncomp_d_lambda`` renumber the rows of
``.nodes``, so an old view would write into compartments that now belong to another branch
(issue 13, section 6: ``v = c.branch(2); c.branch(0).set_ncomp(4); v.set("HH_gNa", .9)``
wrote branch 1; on a Network: KeyError '[8] not in index'). Every use of such a view raises
:class:`StaleViewError` naming the change.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, Leak
from simulator.modules.view import StaleViewError
from simulator.synapses import IonotropicSynapse


def y_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(HH())
    cell.branch(1).add_to_group("dend")
    return cell


def network():
    return jx.Network([y_cell(), y_cell()])


# (name, module factory, view maker, structural change, text naming the change)
CHANGES = {
    "branch_set_ncomp": (y_cell, lambda m: m.branch(0).set_ncomp(4), "set_ncomp(4)"),
    "module_set_ncomp": (y_cell, lambda m: m.set_ncomp(3), "set_ncomp(3)"),
    # Default compartments: lambda_f = 56.4 µm, a 20 µm branch gets 9 compartments at 0.05.
    "d_lambda": (y_cell, lambda m: m.set_ncomp_d_lambda(d_lambda=0.05), "set_ncomp_d_lambda"),
    "network_set_ncomp": (network, lambda m: m.cell(0).branch(0).set_ncomp(4), "set_ncomp(4)"),
}

VIEWS = {
    "branch": lambda m: m.branch(2) if len(m.shape) < 3 else m.cell(1).branch(2),
    "comp": lambda m: m.branch("all").comp(0),
    "loc": lambda m: m.branch(1).loc(0.5),
    "group": lambda m: m.dend,
    "channel": lambda m: m.HH,
    "select": lambda m: m.select(nodes=[0, 1]),
    "global_scope": lambda m: m.scope("global").comp(3),
    "nested": lambda m: m.branch(1).comp(0).scope("local"),
}

USES = {
    "set": lambda v: v.set("HH_gNa", 0.9),
    "set_radius": lambda v: v.set("radius", 2.0),
    "insert": lambda v: v.insert(Leak()),
    "delete": lambda v: v.delete("HH"),
    "record": lambda v: v.record("v", verbose=False),
    "stimulate": lambda v: v.stimulate(np.zeros(4), verbose=False),
    "clamp": lambda v: v.clamp("v", np.zeros(4), verbose=False),
    "make_trainable": lambda v: v.make_trainable("HH_gNa", verbose=False),
    "data_set": lambda v: v.data_set("HH_gNa", 0.5, None),
    "data_stimulate": lambda v: v.data_stimulate(np.zeros(4)),
    "nodes": lambda v: v.nodes,
    "len": lambda v: len(v),
    "shape": lambda v: v.shape,
    "subselect_branch": lambda v: v.branch(0),
    "subselect_comp": lambda v: v.comp(0),
    "subselect_loc": lambda v: v.loc(0.0),
    "select": lambda v: v.select(),
    "add_to_group": lambda v: v.add_to_group("newgroup"),
    "init_states": lambda v: v.init_states(),
    "set_ncomp": lambda v: v.set_ncomp(2),
    "distance_from_self": lambda v: v.distance_from(v.base.select(nodes=[0])),
    "distance_from_arg": lambda v: v.base.select(nodes=[0]).distance_from(v),
    "vis": lambda v: v.vis(),
}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _stale(change, view_name):
    factory, apply_change, text = CHANGES[change]
    module = factory()
    view = VIEWS[view_name](module)
    apply_change(module)
    return module, view, text


@pytest.mark.parametrize("view_name", sorted(VIEWS))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_stale_view_refuses_set(change, view_name):
    module, view, text = _stale(change, view_name)
    before = module.nodes.copy()
    with pytest.raises(StaleViewError, match="made before a structural change") as err:
        view.set("HH_gNa", 0.9)
    assert text in str(err.value) and "recreate the view" in str(err.value)
    assert module.nodes.equals(before)  # nothing was written


@pytest.mark.parametrize("use", sorted(USES))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_use_of_a_stale_view_is_refused(change, use):
    module, view, text = _stale(change, "branch")
    before = module.nodes.copy()
    with pytest.raises(StaleViewError, match=text.replace("(", r"\(").replace(")", r"\)")):
        USES[use](view)
    assert module.nodes.equals(before)
    assert len(module.recordings) == 0 and not module.externals and not module.trainable_params
    assert [c.name for c in module.channels] == ["HH"] and module.groups == ["dend"]


def test_issue_reproduction_cell():
    # Before the fix this set HH_gNa of branch 1 to 0.9 and left branch 2 at 0.12.
    cell = y_cell()
    view = cell.branch(2)
    cell.branch(0).set_ncomp(4)
    with pytest.raises(StaleViewError):
        view.set("HH_gNa", 0.9)
    cell.branch(2).set("HH_gNa", 0.9)  # a view made after the change is fine
    per_branch = cell.nodes.groupby("global_branch_index")["HH_gNa"].unique()
    assert [list(v) for v in per_branch] == [[0.12], [0.12], [0.9]]


def test_issue_reproduction_network():
    # Before the fix: KeyError '[8] not in index'.
    net = network()
    view = net.cell(1)
    net.cell(0).branch(0).set_ncomp(4)
    with pytest.raises(StaleViewError, match="Network"):
        view.set("HH_gNa", 0.9)


def test_stale_view_as_connect_argument():
    net = jx.Network([y_cell() for _ in range(3)])
    pre, post = net.cell(0), net.cell(1)
    net.cell(2).branch(0).set_ncomp(4)
    for call in (
        lambda: jx.connect(pre, post, IonotropicSynapse()),
        lambda: jx.fully_connect(pre, post, IonotropicSynapse()),
        lambda: jx.sparse_connect(pre, post, IonotropicSynapse(), 0.5),
        lambda: jx.connectivity_matrix_connect(pre, post, IonotropicSynapse(), [[True]]),
    ):
        with pytest.raises(StaleViewError):
            call()
    assert len(net.edges) == 0


def test_stale_view_refuses_move():
    net = network()
    view = net.cell(1)
    net.cell(0).branch(0).set_ncomp(4)
    with pytest.raises(StaleViewError):
        view.move(1.0, 0.0, 0.0)


def test_repr_of_a_stale_view_does_not_raise():
    cell = y_cell()
    view = cell.branch(1)
    cell.set_ncomp(3)
    assert "Stale view" in repr(view)


def test_stale_view_error_is_a_runtime_error():
    assert issubclass(StaleViewError, RuntimeError)


def test_changes_are_all_named():
    cell = y_cell()
    view = cell.branch(1)
    cell.branch(0).set_ncomp(4)
    cell.branch(2).set_ncomp(3)
    with pytest.raises(StaleViewError, match=r"set_ncomp\(4\) of branch\(es\) \[0\]; "
                                             r"set_ncomp\(3\) of branch\(es\) \[2\]"):
        _ = view.nodes


# ------------------------------------------------------------------ views that stay valid
NON_STRUCTURAL = {
    "set": lambda m: m.set("HH_gNa", 0.2),
    "insert": lambda m: m.insert(Leak()),
    "delete_channel_elsewhere": lambda m: m.branch(0).delete("HH"),
    "record": lambda m: m.record("v", verbose=False),
    "stimulate": lambda m: m.stimulate(np.zeros(3), verbose=False),
    "make_trainable": lambda m: m.make_trainable("HH_gK", verbose=False),
    "add_to_group": lambda m: m.branch(0).add_to_group("other"),
    "compute_xyz": lambda m: m.compute_xyz(),
    "move": lambda m: m.move(1.0, 2.0, 3.0),
    "rotate": lambda m: m.rotate(30.0),
    "init_states": lambda m: m.init_states(),
    # d_lambda = 100 gives every 10 µm branch 1 compartment, which it has already.
    "d_lambda_no_change": lambda m: m.set_ncomp_d_lambda(d_lambda=100.0),
    "refused_set_ncomp": lambda m: _refused_set_ncomp(m),
}


def _refused_set_ncomp(module):
    module.record("v", verbose=False)
    with pytest.raises(ValueError, match="recordings"):
        module.branch(0).set_ncomp(4)


@pytest.mark.parametrize("op", sorted(NON_STRUCTURAL))
def test_non_structural_operations_keep_views_valid(op):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), [-1, 0, 0])
    cell.insert(HH())
    view = cell.branch(2)
    NON_STRUCTURAL[op](cell)
    view.set("HH_gNa", 0.9)
    assert cell.nodes.loc[cell.nodes["global_branch_index"] == 2, "HH_gNa"].tolist() == [0.9]


def test_network_connect_keeps_views_valid():
    net = network()
    view = net.cell(1).branch(2)
    jx.fully_connect(net.cell(0), net.cell(1), IonotropicSynapse())
    view.set("HH_gNa", 0.9)
    edge_view = net.IonotropicSynapse
    jx.connect(net.cell(1).branch(0).comp(0), net.cell(0).branch(0).comp(0), IonotropicSynapse())
    edge_view.set("IonotropicSynapse_gS", 1e-3)


def test_pickle_keeps_staleness():
    cell = y_cell()
    fresh = cell.branch(1)
    stale = cell.branch(2)
    cell_copy, fresh_copy = pickle.loads(pickle.dumps((cell, fresh)))
    fresh_copy.set("HH_gNa", 0.3)
    cell.branch(0).set_ncomp(4)
    cell_copy2, stale_copy = pickle.loads(pickle.dumps((cell, stale)))
    with pytest.raises(StaleViewError):
        stale_copy.set("HH_gNa", 0.3)
    cell_copy2.branch(2).set("HH_gNa", 0.3)
