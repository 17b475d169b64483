"""``select(edges=...)``: the synapses with their compartments, ``"all"``, nodes and edges
together, compared with the installed jaxley 0.14 (issue 17, gap 10)."""

from __future__ import annotations

import importlib

import pytest

import simulator as sim

jx = pytest.importorskip("jaxley")


def _net(lib):
    synapses = importlib.import_module(f"{lib.__name__}.synapses")
    connect = importlib.import_module(f"{lib.__name__}.connect").connect
    cell = lib.Cell(lib.Branch(lib.Compartment(), ncomp=2), parents=[-1, 0, 0])
    net = lib.Network([cell, cell, cell])
    connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(2).comp(1),
            synapses.IonotropicSynapse())
    connect(net.cell(1).branch(1).comp(0), net.cell(2).branch(0).comp(0),
            synapses.IonotropicSynapse())
    return net


def _content(view):
    return view.nodes["global_comp_index"].tolist(), view.edges.index.tolist()


@pytest.mark.parametrize("kwargs", [
    {"edges": [1]},
    {"edges": "all"},
    {"nodes": [0, 1], "edges": [0]},
    {"nodes": "all", "edges": [1]},
])
def test_select_edges_as_jaxley(kwargs):
    assert _content(_net(sim).select(**kwargs)) == _content(_net(jx).select(**kwargs))


def test_select_edges_holds_the_synapses_compartments():
    assert _content(_net(sim).select(edges=[1])) == ([8, 12], [1])


def test_all_edges_are_trainable_one_parameter_each():
    net = _net(sim)
    net.select(edges="all").make_trainable("IonotropicSynapse_gS", verbose=False)
    assert net.num_trainable_params == 2


def test_select_edges_rejects_other_strings():
    with pytest.raises(TypeError, match="select: edges"):
        _net(sim).select(edges="some")
