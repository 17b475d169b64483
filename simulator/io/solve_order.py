"""From a compartment graph to jaxley 0.14's solve graph: compartments and branches
renumbered by a depth-first walk, branchpoints replaced by direct edges.

The walk starts at the lowest-numbered leaf and visits lower-numbered neighbours first;
a new branch begins after every leaf and every branchpoint. This is what makes
``cell.branch(k)`` of a graph-read cell the same branch as in jaxley.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.io.branch_tracing import first_leaf
from simulator.io.compartment_graph import order_branchpoints
from simulator.io.swc_graph import require_networkx


def drop_dangling_branchpoints(graph):
    """The graph without branchpoints of degree < 2 (left over after deleting branches)."""
    keep = [n for n in graph.nodes
            if graph.in_degree(n) + graph.out_degree(n) > 1 or graph.nodes[n]["type"] == "comp"]
    return graph.subgraph(keep).copy()


def renumber(comp_graph, root=None):
    """A directed copy numbered in solve order (module docstring): compartments
    ``0 .. n - 1``, ``branch_index`` on every node, edges along the walk, and each
    compartment's ``xyzr`` reversed where the walk runs against the graph's edges."""
    nx = require_networkx()
    undirected = comp_graph.to_undirected()
    root = root if root else first_leaf(undirected)
    solve = nx.DiGraph()
    solve.graph.update(comp_graph.graph)
    solve.add_nodes_from(undirected.nodes(data=True))
    solve.nodes[root]["comp_index"] = 0
    solve.nodes[root]["branch_index"] = 0
    names, comp, branch, flip = {root: 0}, 1, 0, set()
    for i, j in nx.dfs_edges(undirected, root, sort_neighbors=sorted):
        solve.add_edge(i, j)
        node = solve.nodes[j]
        node["branch_index"] = branch
        if node["type"] == "comp":
            node["comp_index"] = names[j] = comp
            comp += 1
        if undirected.degree(j) < 2 or undirected.nodes[j]["type"] == "branchpoint":
            branch += 1
        if not comp_graph.has_edge(i, j) and comp_graph.has_edge(j, i):
            flip.update((i, j))
    if len(names) < sum(1 for _, t in undirected.nodes(data="type") if t == "comp"):
        raise ValueError(f"the compartment graph is not connected: only {len(names)}"
                         f" compartments are reachable from node {root!r} (deleting a branch"
                         " in the middle of a cell cuts off its children: delete them too)")
    for n in flip:
        if "xyzr" in solve.nodes[n]:
            solve.nodes[n]["xyzr"] = solve.nodes[n]["xyzr"][::-1]
    return order_branchpoints(nx.relabel_nodes(solve, names))


def bridge_branchpoints(graph):
    """A copy without branchpoints: each parent -> child pair through one becomes an
    edge of ``type='inter_branch'``; other edges (not synapses) get ``'intra_branch'``."""
    graph = graph.copy()
    for _, _, attrs in graph.edges(data=True):
        if attrs.get("type") != "synapse":
            attrs["type"] = "intra_branch"
    for node in list(graph.nodes):
        if graph.nodes[node].get("type") == "branchpoint":
            for child in list(graph.successors(node)):
                for parent in list(graph.predecessors(node)):
                    graph.add_edge(parent, child, type="inter_branch")
            graph.remove_node(node)
    return graph


def branch_xyzr(graph) -> list[np.ndarray]:
    """Per branch (in branch order), the concatenated ``xyzr`` of its compartments."""
    rows = pd.Series(dict(graph.nodes(data="branch_index")))
    return [np.concatenate([graph.nodes[n]["xyzr"] for n in sorted(nodes)])
            for _, nodes in rows.groupby(rows).groups.items()]
