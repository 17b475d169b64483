"""Synapses in views of compartments, compartments in views of synapses, and the order of
``select(nodes=...)``, compared with jaxley 0.14."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import simulator as sim
from simulator.modules.selection import CompScopeWarning

jaxley = pytest.importorskip("jaxley")


def _net(lib, synapses):
    """3 cells x 3 branches x 3 compartments; TestSynapse from cell 0's branch 0 to cell
    1's branch 0 (3 synapses) and one IonotropicSynapse from cell 1 to cell 2."""
    connect = __import__(f"{lib.__name__}.connect", fromlist=["connect"]).connect
    cell = lib.Cell(lib.Branch(lib.Compartment(), ncomp=3), parents=[-1, 0, 0])
    net = lib.Network([cell] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        connect(net[0, 0, :], net[1, 0, :], synapses.TestSynapse())
        connect(net[1, 1, 0], net[2, 0, 0], synapses.IonotropicSynapse())
    return net


@pytest.fixture
def nets():
    import jaxley.synapses

    import simulator.synapses
    return _net(sim, simulator.synapses), _net(jaxley, jaxley.synapses)


def _frame(table, columns):
    return table[columns].reset_index().values.tolist()


NODE_COLS = ["global_cell_index", "global_branch_index", "global_comp_index",
             "local_cell_index", "local_branch_index", "local_comp_index"]
EDGE_COLS = ["global_edge_index", "pre_index", "post_index", "type"]


@pytest.mark.parametrize("make", [
    lambda n: n.cell([0, 1]), lambda n: n.cell(1), lambda n: n.cell([1, 2]),
    lambda n: n.cell([0, 1]).branch(0), lambda n: n.cell("all").branch(1).comp(0),
])
def test_a_view_of_compartments_holds_the_synapses_inside_it(nets, make):
    ours, theirs = (make(n) for n in nets)
    assert _frame(ours.edges, EDGE_COLS) == _frame(theirs.edges, EDGE_COLS)
    assert sorted(ours.synapse_names) == sorted(theirs.synapse_names)


@pytest.mark.parametrize("make", [
    lambda n: n.TestSynapse, lambda n: n.cell([0, 1]).TestSynapse,
    lambda n: n.TestSynapse.cell([0, 1]), lambda n: n.IonotropicSynapse,
    lambda n: n.select(edges=[1, 3]), lambda n: n.TestSynapse.edge([0, 2]),
])
def test_a_view_of_synapses_holds_their_compartments(nets, make):
    ours, theirs = (make(n) for n in nets)
    assert _frame(ours.nodes, NODE_COLS) == _frame(theirs.nodes, NODE_COLS)
    assert _frame(ours.edges, EDGE_COLS) == _frame(theirs.edges, EDGE_COLS)


def test_synapse_parameters_set_through_a_cell_view(nets):
    """jaxley writes the synapses inside the view (cells 0 and 1: the TestSynapses)."""
    for net in nets:
        net.cell([0, 1]).set("TestSynapse_gC", 0.7)
    ours, theirs = (n.edges["TestSynapse_gC"].to_numpy(np.float64) for n in nets)
    np.testing.assert_array_equal(ours, theirs)
    assert np.count_nonzero(ours == 0.7) == 3


@pytest.mark.parametrize("labels", [[5, 3, 1], [20, 0, 11, 2], np.array([7, 6])])
def test_select_keeps_the_given_order_unless_sorted(nets, labels):
    ours, theirs = (n.select(nodes=labels) for n in nets)
    assert ours.nodes.index.tolist() == theirs.nodes.index.tolist() == list(labels)
    # jaxley's select(nodes, sorted=True) without edges raises (np.sort(None)): ours only
    assert nets[0].select(nodes=labels, sorted=True).nodes.index.tolist() == sorted(labels)


def test_select_in_given_order_sets_values_in_that_order(nets):
    for net in nets:
        net.select(nodes=[5, 3, 1]).set("radius", np.array([5.0, 3.0, 1.0]))
    ours, theirs = (n.nodes.loc[[1, 3, 5], "radius"].tolist() for n in nets)
    assert ours == theirs == [1.0, 3.0, 5.0]


@pytest.mark.parametrize("nodes", [None, [11, 2, 0, 21]])
def test_select_edges_keeps_the_given_order(nets, nodes):
    ours, theirs = (n.select(edges=[3, 0, 2], nodes=nodes) for n in nets)
    assert ours.edges.index.tolist() == theirs.edges.index.tolist() == [3, 0, 2]
    assert ours.nodes.index.tolist() == theirs.nodes.index.tolist()


def test_a_synapse_type_view_shares_one_parameter(nets):
    ours, theirs = (n.cell([0, 1]).TestSynapse for n in nets)
    assert ours.nodes["controlled_by_param"].tolist() == \
        theirs.nodes["controlled_by_param"].tolist() == [0] * 6
    assert ours.edges["controlled_by_param"].tolist() == \
        theirs.edges["controlled_by_param"].tolist() == [0] * 3


def test_view_of_a_module_or_view_holds_everything(nets):
    """jaxley's View(module) / View(view): the same nodes and edges (was a TypeError)."""
    from jaxley.modules.base import View as JaxleyView

    from simulator.modules.base import View
    ours, theirs = nets
    for make in (lambda n: n, lambda n: n.cell([0, 1])):
        mine, ref = View(make(ours)), JaxleyView(make(theirs))
        assert _frame(mine.nodes, NODE_COLS) == _frame(ref.nodes, NODE_COLS)
        assert _frame(mine.edges, EDGE_COLS) == _frame(ref.edges, EDGE_COLS)
    with pytest.warns(CompScopeWarning, match="comp\\(0\\) selects compartment 0 of each"):
        first = (View(ours).comp(0), JaxleyView(theirs).comp(0))
    assert first[0].nodes.index.tolist() == first[1].nodes.index.tolist()
