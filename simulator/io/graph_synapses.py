"""Synapses of a compartment graph: the ``type="synapse"`` edges that :func:`to_graph`
writes with ``synapses=True`` become synapses of the network :func:`from_graph` builds."""

from __future__ import annotations

import numpy as np


def synapse_edges(graph) -> list[tuple[int, int, dict]]:
    """``(pre node, post node, attributes)`` of the graph's synapse edges, in the order of
    their ``global_edge_index`` (graph order where it is missing)."""
    rows = [(u, v, d) for u, v, d in graph.edges(data=True) if d.get("type") == "synapse"]
    order = [d.get("global_edge_index", i) for i, (_, _, d) in enumerate(rows)]
    return [rows[i] for i in np.argsort(order, kind="stable")]


def add_graph_synapses(module, graph) -> None:
    """Connect ``module`` (built from ``graph``) as the graph's synapse edges say, with each
    synapse's parameters and states from its edge attributes.

    Raises:
        ValueError: synapse edges in a graph that is not a network, or of a synapse type
            that ``graph.graph["synapses"]`` does not hold.
    """
    from simulator.connect import connect
    from simulator.modules.network import Network

    rows = synapse_edges(graph)
    if not rows:
        return
    if not isinstance(module, Network):
        raise ValueError(f"the graph has {len(rows)} synapse edges, but synapses connect "
                         f"cells of a Network; graph.graph['type'] is "
                         f"{graph.graph.get('type', 'cell')!r}")
    types = {s.name: s for s in graph.graph.get("synapses", [])}
    comps = module.nodes["global_comp_index"].to_numpy()
    label = dict(zip(comps.tolist(), module.nodes.index.tolist(), strict=True))
    for u, v, attrs in rows:
        name = attrs.get("syn_type")
        if name not in types:
            raise ValueError(f"synapse edge ({u}, {v}) has syn_type {name!r}; "
                             f"graph.graph['synapses'] holds {sorted(types)}")
        pre = module.select(nodes=[label[int(graph.nodes[u]["comp_index"])]])
        post = module.select(nodes=[label[int(graph.nodes[v]["comp_index"])]])
        connect(pre, post, types[name])
    for i, (_, _, attrs) in enumerate(rows):
        syn = types[attrs["syn_type"]]
        for col in (*syn.synapse_params, *syn.synapse_states):
            if col in attrs:
                module.select(edges=[i]).set(col, attrs[col])
