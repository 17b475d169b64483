"""Branches of an SWC graph as jaxley 0.14 traces them (``build_compartment_graph``).

The undirected SWC graph is walked depth first from its lowest-numbered leaf, visiting
lower-numbered neighbours first; a branch ends at a leaf, at a node of degree > 2, and
where the SWC type changes (types outside ``relevant_type_ids`` count as one). A soma
traced by a single point gets an extra sample (a 2 r long cylinder); at a somatic
branchpoint the dendrites start at their own first point. Branch order, and hence
``cell.branch(k)``, is jaxley's.

A branch is an (n_edges, 3) float array of rows ``(from_node, to_node, length_um)``.
"""

from __future__ import annotations

import numpy as np

from simulator.io.swc_graph import require_networkx

DEFAULT_RELEVANT_TYPE_IDS = (1, 2, 3, 4)


def _same_type(graph, i, j, relevant) -> bool:
    ti, tj = graph.nodes[i]["id"], graph.nodes[j]["id"]
    return (ti not in relevant and tj not in relevant) or ti == tj


def first_leaf(graph):
    """The lowest-numbered node of degree < 2 (where jaxley starts its traversals)."""
    return next(n for n in sorted(graph.nodes) if graph.degree(n) < 2)


def _single_point_soma(swc_graph, soma):
    """The graph (renumbered +1) with a copy of sample 1 in front of the soma point,
    joined to it by a 2 r long edge; the soma's own edges get length 0."""
    nx = require_networkx()
    for i, j in (*swc_graph.in_edges(soma), *swc_graph.out_edges(soma)):
        swc_graph.edges[i, j]["l"] = 0
    swc_graph.nodes[1]["p"] = 0
    for n in swc_graph.nodes:
        swc_graph.nodes[n]["p"] += 1
    swc_graph.add_node(0, **swc_graph.nodes[1])
    swc_graph.nodes[0]["p"] = -1
    swc_graph.add_edge(0, soma, l=2 * swc_graph.nodes[soma]["r"])
    return nx.relabel_nodes(swc_graph, {i: i + 1 for i in swc_graph.nodes})


def _walk(undirected, swc_graph, root, relevant):
    """(branches as lists of (i, j, l), their type ids) of the depth-first walk."""
    nx = require_networkx()
    branches, types, current = [], [], []
    for i, j in nx.dfs_edges(undirected, root, sort_neighbors=sorted):
        current.append((i, j, undirected.edges[i, j]["l"]))
        type_i = undirected.nodes[i]["id"]
        same = _same_type(undirected, i, j, relevant)
        if undirected.degree(j) < 2:  # a leaf
            if same:
                branches.append(current)
                types.append(type_i)
            else:  # the last edge is a branch of the leaf's own type
                branches += [current[:-1], current[-1:]]
                types += [type_i, undirected.nodes[j]["id"]]
            current = []
        elif undirected.degree(j) > 2:
            branches.append(current)
            types.append(type_i)
            current = []
        elif not same:
            if not swc_graph.has_edge(i, j) and swc_graph.has_edge(j, i):
                branches.append(current)
                current = []
            else:
                branches.append(current[:-1])
                current = [current[-1]]
            types.append(type_i)
    kept = [(np.array(b), t) for b, t in zip(branches, types, strict=True) if len(b) > 0]
    return [b for b, _ in kept], [t for _, t in kept]


def trace_branches(swc_graph, root=None, max_len=None, ignore_swc_tracing_interruptions=True,
                   relevant_type_ids=None):
    """``(undirected graph, branches, type id per branch, soma_ignore nodes)``.

    The returned undirected graph (a copy; ``swc_graph`` is not modified) has node
    attribute ``type``: ``"branchpoint"`` where a branch other than the first starts,
    else ``"spurious"``. ``soma_ignore`` lists nodes (single-point soma, somatic
    branchpoints) whose point is not part of the dendrites starting there.
    """
    nx = require_networkx()
    relevant = list(DEFAULT_RELEVANT_TYPE_IDS if relevant_type_ids is None
                    else relevant_type_ids)
    swc_graph = swc_graph.copy()
    soma_ignore = []
    somata = [n for n, t in nx.get_node_attributes(swc_graph, "id").items() if t == 1]
    if len(somata) == 1:
        swc_graph = _single_point_soma(swc_graph, somata[0])
        soma_ignore += [1, somata[0] + 1]
    undirected = swc_graph.to_undirected()
    for node in somata:  # (labels as before any renumbering, as jaxley 0.14 does)
        somatic = [n for n in undirected.neighbors(node) if undirected.nodes[n]["id"] == 1]
        if len(somatic) > 1:
            for i, j in undirected.edges(node):
                if undirected.nodes[j]["id"] != 1:
                    soma_ignore.append(i)
                    undirected.edges[i, j]["l"] = 0
    root = root if root else first_leaf(undirected)
    nx.set_node_attributes(undirected, "spurious", "type")
    branches, types = _walk(undirected, swc_graph, root, relevant)
    if max_len:
        extra, branches, types = split_long_branches(branches, types, max_len)
        for node in extra:
            undirected.nodes[node]["type"] = "branchpoint"
    for branch in branches[1:]:
        undirected.nodes[branch[0, 0]]["type"] = "branchpoint"
    if not ignore_swc_tracing_interruptions:
        extra, branches, types = split_at_interruptions(undirected, branches, types)
        for node in extra:
            undirected.nodes[node]["type"] = "branchpoint"
    return undirected, branches, types, soma_ignore


def split_long_branches(branches, types, max_len):
    """Cut each branch where its cumulative length crosses a multiple of ``max_len``.

    Returns (new branchpoint nodes, branches, types)."""
    extra, out, out_types = [], [], []
    for branch, kind in zip(branches, types, strict=True):
        piece = np.cumsum(branch[:, 2]) // max_len
        pieces = [branch[piece == k] for k in np.unique(piece)]
        out += pieces
        out_types += [kind] * len(pieces)
        extra += [int(p[0, 0]) for p in pieces[1:]]
    return extra, out, out_types


def tracing_interruptions(graph) -> list:
    """Parents of samples whose parent is not the previous line, where neither is a
    branchpoint (a neurite traced in several pieces)."""
    out = []
    for n in graph.nodes:
        parent = graph.nodes[n]["p"]
        if parent > -1 and parent != n - 1 and graph.nodes[n]["type"] != "branchpoint" \
                and graph.nodes[parent]["type"] != "branchpoint":
            out.append(parent)
    return out


def split_at_interruptions(graph, branches, types):
    """Split the branch through each :func:`tracing_interruptions` node there (as the
    NEURON reader does). Returns (new branchpoint nodes, branches, types)."""
    nodes = tracing_interruptions(graph)
    branches, types = list(branches), list(types)
    for node in nodes:
        k = next(i for i, b in enumerate(branches) if node in b[:, :2])
        rows = np.where(branches[k][:, :2] == node)[0]
        if len(rows) < 2:
            raise ValueError(f"cannot split the SWC tracing at sample {node}: it is the end"
                             " of a branch (pass ignore_swc_tracing_interruptions=True)")
        cut = rows[1]
        branches[k:k + 1] = [branches[k][:cut], branches[k][cut:]]
        types[k:k + 1] = [types[k], types[k]]
    return nodes, branches, types
