"""``build_compartment_graph``: an SWC graph discretised into compartments (jaxley 0.14).

Each traced branch (:mod:`simulator.io.branch_tracing`) becomes ``ncomp`` compartment
nodes of equal length, chained by edges; branches meet at ``"branchpoint"`` nodes. Node
names: compartments ``0 .. n_comp - 1`` in branch order, then the branchpoints ordered by
the branch that leads into them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from simulator.io.branch_tracing import trace_branches
from simulator.io.comp_geometry import compartment_attrs, split_xyzr
from simulator.io.swc_graph import require_networkx

#: Length (µm) given to a branch whose traced length is (almost) zero.
ZERO_BRANCH_LENGTH = 0.1
#: Group names of the SWC types (others: ``custom<type>``).
SWC_GROUPS = {0: "undefined", 1: "soma", 2: "axon", 3: "basal", 4: "apical"}
_GEOMETRY = ("r", "area", "volume", "resistive_load_in", "resistive_load_out")


def _ordered_nodes(branch: np.ndarray) -> np.ndarray:
    """Nodes of a branch's edges, in order of first appearance."""
    flat = np.concatenate(branch[:, :2])
    return flat[np.sort(np.unique(flat, return_index=True)[1])]


def _branch_table(graph, branch: np.ndarray) -> pd.DataFrame:
    nodes = _ordered_nodes(branch)
    table = pd.DataFrame([graph.nodes[i] for i in nodes])
    table["node_index"] = nodes
    table["l"] = np.cumsum(np.concatenate([[0], branch[:, 2]]))
    table = table.drop(columns=["type", "p"], errors="ignore")
    if table.loc[0, "id"] != table.loc[1, "id"]:  # no radius or type from the neighbour
        table.loc[0, ["r", "id"]] = table.loc[1, ["r", "id"]]
    return table


def _compartments(graph, branch, kind, ncomp, min_radius, soma_ignore, first_name):
    """DataFrame (index = node names from ``first_name``) of one branch's compartments."""
    table = _branch_table(graph, branch)
    xyzr = table[["x", "y", "z", "r"]].to_numpy()
    if branch[0, 0] in soma_ignore:
        xyzr = xyzr[1:]
    pieces = split_xyzr(xyzr, ncomp)
    attrs = np.asarray([compartment_attrs(p, min_radius, ncomp) for p in pieces])
    length = table["l"].max()
    if length < 1e-8:
        warnings.warn(f"an SWC branch has length 0; using {ZERO_BRANCH_LENGTH} µm (typically a"
                      " dendrite without further points attached to a single-point soma)",
                      stacklevel=4)
        length = ZERO_BRANCH_LENGTH
    comp_len = length / ncomp
    centres = np.linspace(comp_len / 2, length - comp_len / 2, ncomp)
    values = np.column_stack([np.interp(centres, table["l"].to_numpy(dtype=float),
                                        table[c].to_numpy(dtype=float)) for c in table.columns])
    comps = pd.DataFrame(values, columns=table.columns)
    comps["id"] = kind
    comps["l"] = comp_len
    comps["node_index"] = first_name + np.arange(ncomp)
    comps["type"] = "comp"
    comps["xyzr"] = pieces
    for k, name in enumerate(_GEOMETRY):
        comps[name] = attrs[:, k]
    return comps.set_index("node_index")


def _add_branch(comp_graph, graph, branch, comps: pd.DataFrame, comp_offset: int) -> None:
    comps = comps.copy()
    comps.insert(comps.columns.get_loc("branch_index") + 1, "comp_index",
                 comp_offset + np.arange(len(comps)))
    comp_graph.add_nodes_from(comps.to_dict(orient="index").items())
    names = list(comps.index)
    comp_graph.add_edges_from(zip(names[:-1], names[1:], strict=True))
    start, end = branch[0, 0], branch[-1, 1]
    if start in comp_graph.nodes and comp_graph.nodes[start]["type"] == "branchpoint":
        comp_graph.add_edge(start, names[0])
    if end in comp_graph.nodes and comp_graph.nodes[end]["type"] == "branchpoint":
        comp_graph.add_edge(names[-1], end)


def order_branchpoints(graph):
    """Rename branchpoints ``max comp name + 1, ...`` in the order of the branch index of
    the node leading into each (as a module numbers them)."""
    nx = require_networkx()
    points, parent_branch, top = [], [], 0
    for node, attrs in graph.nodes(data=True):
        if attrs["type"] == "branchpoint":
            points.append(node)
            parent_branch.append(graph.nodes[next(iter(graph.predecessors(node)))]["branch_index"])
        else:
            top = max(top, attrs["comp_index"])
    order = np.asarray(points, dtype=object)[np.argsort(parent_branch)]
    return nx.relabel_nodes(graph, {k: top + 1 + i for i, k in enumerate(order)})


def build_compartment_graph(swc_graph, ncomp: int, root=None, min_radius=None, max_len=None,
                            ignore_swc_tracing_interruptions: bool = True,
                            relevant_type_ids=None):
    """Discretise an SWC graph (:func:`~simulator.io.graph.to_swc_graph`) into compartments.

    Args:
        swc_graph: the SWC graph (not modified).
        ncomp: compartments per branch (positive int).
        root: SWC node to start the traversal from (default: lowest-numbered leaf).
        min_radius: clip smaller compartment radii to this (µm).
        max_len: split branches longer than this (µm) where the cumulative length of
            their edges crosses multiples of it.
        ignore_swc_tracing_interruptions: False starts a new branch where the file's
            tracing order is interrupted.
        relevant_type_ids: SWC types that end a branch where they change (default 1-4).

    Returns:
        a ``networkx.DiGraph``. Compartment nodes: ``x, y, z, branch_index, comp_index,
        type='comp', xyzr ((n, 4) points), area, volume, resistive_load_in/out, groups,
        radius, length, cell_index``; branchpoints: ``x, y, z, type='branchpoint',
        groups, radius, length=0, cell_index``.
    """
    nx = require_networkx()
    if isinstance(ncomp, bool) or not isinstance(ncomp, int | np.integer) or ncomp < 1:
        raise ValueError(f"ncomp must be a positive int, got {ncomp!r}")
    graph, branches, kinds, soma_ignore = trace_branches(
        swc_graph, root=root, max_len=max_len,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids)
    comp_graph = nx.DiGraph()
    comp_graph.add_nodes_from((n, a) for n, a in graph.nodes(data=True)
                              if a["type"] == "branchpoint")
    nx.set_node_attributes(comp_graph, 0.0, "l")
    for b, (branch, kind) in enumerate(zip(branches, kinds, strict=True)):
        first = max(comp_graph.nodes) + 1 if comp_graph.nodes else 0
        comps = _compartments(graph, branch, kind, int(ncomp), min_radius, soma_ignore, first)
        comps.insert(comps.columns.get_loc("l") + 1, "branch_index", b)
        _add_branch(comp_graph, graph, branch, comps, b * int(ncomp))
    names, k = {}, 0
    for n, attrs in comp_graph.nodes(data=True):
        if "comp_index" in attrs:
            names[n] = attrs["comp_index"]
        else:
            names[n], k = f"n{k}", k + 1
    comp_graph = order_branchpoints(nx.relabel_nodes(comp_graph, names, copy=True))
    for n in comp_graph.nodes:
        attrs = comp_graph.nodes[n]
        attrs["groups"] = [SWC_GROUPS.get(kind := attrs.pop("id"), f"custom{kind}")]
        radius = attrs.pop("r")
        attrs["radius"] = max(radius, min_radius) if min_radius else radius
        attrs["length"] = attrs.pop("l")
    nx.set_node_attributes(comp_graph, 0, "cell_index")
    return comp_graph
