"""``from_graph(to_graph(module))``: channel columns of compartments without the channel stay
NaN, as in the module built directly (and in jaxley); before, from_graph filled them with the
channel's defaults (jaxley's test_graph_import_export_cycle and test_morph_attach failed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulator as jx
from simulator.channels import Leak, Na

pytest.importorskip("networkx")


def test_round_trip_keeps_nan_where_the_channel_is_absent():
    from simulator.io.graph import from_graph, to_graph

    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    net = jx.Network([cell, cell])
    net.cell(0).insert(Leak())
    net.cell(1).branch(1).insert(Na())
    back = from_graph(to_graph(net, channels=True), traverse_for_solve_order=False)
    for col in ("Leak_gLeak", "Na_gNa", "Na_m"):
        ours, orig = back.nodes[col].to_numpy(float), net.nodes[col].to_numpy(float)
        assert np.isnan(orig).any()  # the case under test: absent somewhere
        np.testing.assert_array_equal(ours, orig)  # NaN where absent, values where present
    assert not pd.isna(back.nodes.loc[back.nodes["Na"], "Na_gNa"]).any()


def test_round_trip_keeps_synapses_with_their_parameters():
    """Before: from_graph dropped the synapse edges to_graph(synapses=True) wrote (jaxley's
    test_graph_import_export_cycle failed on the edges table)."""
    from simulator.io.graph import from_graph, to_graph
    from simulator.synapses import IonotropicSynapse

    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    net = jx.Network([cell, cell, cell])
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(1).comp(1),
               IonotropicSynapse())
    jx.connect(net.cell(1).branch(0).comp(1), net.cell(2).branch(0).comp(0),
               IonotropicSynapse())
    net.select(edges=[1]).set("IonotropicSynapse_gS", 0.5)
    graph = to_graph(net, synapses=True)
    back = from_graph(graph, traverse_for_solve_order=False)
    pd.testing.assert_frame_equal(back.edges, net.edges)
    with pytest.raises(ValueError, match="2 synapse edges"):
        from_graph(graph, traverse_for_solve_order=True)
