"""``connect_graphs``: join two compartment graphs at a node of each (jaxley 0.14), the
step behind :func:`simulator.morphology.morph_connect`."""

from __future__ import annotations

from simulator.io.swc_graph import require_networkx

_AXES = ("x", "y", "z")


def _fill_missing_flags(source, target) -> None:
    """Every group and channel of ``source`` is a False flag in ``target``'s nodes lacking it."""
    names = [*source.graph.get("group_names", []),
             *(type(c).__name__ for c in source.graph.get("channels", []))]
    if "group_names" not in source.graph:
        return
    for name in names:
        for _, attrs in target.nodes(data=True):
            attrs.setdefault(name, False)


def _coordinate(graph, node, axis: int) -> float:
    """Where ``node`` attaches (µm): a branchpoint's own coordinate, a compartment's
    last traced point if an edge enters it, else its first."""
    attrs = graph.nodes[node]
    if attrs["type"] == "branchpoint":
        return attrs[_AXES[axis]]
    return attrs["xyzr"][-1 if graph.in_degree(node) == 1 else 0, axis]


def _merged_attrs(graph1, graph2) -> dict:
    out = {}
    for key in [*graph1.graph, *(k for k in graph2.graph if k not in graph1.graph)]:
        a, b = graph1.graph.get(key), graph2.graph.get(key)
        out[key] = a + b if isinstance(a, list) and isinstance(b, list) else (
            b if key in graph2.graph else a)
    groups = list(graph1.graph.get("group_names", []))
    out["group_names"] = groups + [g for g in graph2.graph.get("group_names", [])
                                   if g not in groups]
    return out


def _join(graph, node1, node2) -> None:
    kinds = (graph.nodes[node1]["type"], graph.nodes[node2]["type"])
    if kinds == ("comp", "comp"):  # a new branchpoint between them
        template = next((dict(a) for _, a in graph.nodes(data=True)
                         if a["type"] == "branchpoint"), {"type": "branchpoint"})
        for key in _AXES:
            template[key] = 0.5 * (graph.nodes[node1][key] + graph.nodes[node2][key])
        new = max(graph.nodes) + 1
        graph.add_node(new, **template)
        graph.add_edges_from([(node1, new), (new, node2)])
    elif "comp" in kinds:
        graph.add_edge(node1, node2)
    else:  # two branchpoints: node2's edges move to node1
        graph.add_edges_from([(i, node1) for i in graph.predecessors(node2)])
        graph.add_edges_from([(node1, i) for i in graph.successors(node2)])
        graph.remove_node(node2)


def connect_graphs(graph1, graph2, node1, node2):
    """One graph of ``graph1`` and ``graph2`` (copies; the inputs are not modified),
    ``graph2`` moved so that ``node2`` touches ``node1`` and joined there.

    Two compartments are joined through a new branchpoint, a compartment and a branchpoint
    directly, two branchpoints by merging them. Nodes are renamed: compartments
    ``0 .. n - 1`` (graph1's first), then branchpoints.
    """
    nx = require_networkx()
    graph1, graph2 = graph1.copy(), graph2.copy()
    for name, graph, node in (("node1", graph1, node1), ("node2", graph2, node2)):
        if node not in graph.nodes:
            raise ValueError(f"{name}={node!r} is not a node of its graph")
    _fill_missing_flags(graph1, graph2)
    _fill_missing_flags(graph2, graph1)
    for axis, key in enumerate(_AXES):
        offset = _coordinate(graph1, node1, axis) - _coordinate(graph2, node2, axis)
        for _, attrs in graph2.nodes(data=True):
            attrs[key] += offset
            if attrs["type"] == "comp":
                attrs["xyzr"] = attrs["xyzr"].copy()
                attrs["xyzr"][:, axis] += offset
    shift = max(graph1.nodes) + 1
    graph2 = nx.relabel_nodes(graph2, {n: n + shift for n in graph2.nodes})
    combined = nx.compose(graph1, graph2)
    combined.graph.update(_merged_attrs(graph1, graph2))
    _join(combined, node1, node2 + shift)
    order = sorted(combined.nodes)
    comps = [n for n in order if combined.nodes[n]["type"] == "comp"]
    points = [n for n in order if combined.nodes[n]["type"] != "comp"]
    return nx.relabel_nodes(combined, {n: i for i, n in enumerate(comps + points)})
