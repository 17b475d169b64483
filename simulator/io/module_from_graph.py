"""``from_graph``: a module (Compartment, Branch, Cell or Network) from a compartment graph
(:func:`~simulator.io.graph.build_compartment_graph` or
:func:`~simulator.modules.graph_export.to_graph`), numbered as jaxley 0.14 numbers it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.io.graph_synapses import add_graph_synapses, synapse_edges
from simulator.io.solve_order import (
    branch_xyzr,
    bridge_branchpoints,
    drop_dangling_branchpoints,
    renumber,
)
from simulator.modules.branch import Branch
from simulator.modules.cell import Cell
from simulator.modules.columns import (
    BOOKKEEPING_COLUMNS,
    COMPARTMENT_PARAMS,
    COMPARTMENT_STATES,
    GEOMETRY_COLUMNS,
)
from simulator.modules.compartment import Compartment
from simulator.modules.network import Network
from simulator.modules.topology import Topology

#: Node attributes that are graph bookkeeping, not columns of the module.
_NOT_COLUMNS = {"type", "xyzr", "groups", "branch_index", "comp_index", "cell_index", "p",
                "id", "recordings", "externals", "external_inds", "trainable", "l", "r"}


def from_graph(comp_graph, assign_groups: bool = True, solve_root=None,
               traverse_for_solve_order: bool = True):
    """A module from a compartment graph.

    Args:
        comp_graph: ``networkx.DiGraph`` of ``"comp"`` and ``"branchpoint"`` nodes.
        assign_groups: add each compartment to the groups in its ``groups`` attribute
            (and to the boolean ``graph.graph["group_names"]`` columns of an exported graph).
        solve_root: node to start numbering from (default: lowest-numbered leaf).
        traverse_for_solve_order: renumber compartments and branches by a depth-first walk
            (as jaxley). False keeps the graph's ``comp_index``/``branch_index`` (a graph
            exported with ``to_graph`` and not modified).

    Returns:
        ``graph.graph["type"]`` (default ``"cell"``): a Compartment, Branch, Cell or Network.
    """
    graph = drop_dangling_branchpoints(comp_graph)
    n_synapses = len(synapse_edges(graph)) if traverse_for_solve_order else 0
    if n_synapses:
        raise ValueError("traverse_for_solve_order=True walks one cell's compartments; this "
                         f"graph has {n_synapses} synapse edges between cells:"
                         " pass traverse_for_solve_order=False (a graph from to_graph keeps "
                         "its numbering)")
    if traverse_for_solve_order:
        graph = renumber(graph, root=solve_root)
    graph = bridge_branchpoints(graph)
    kind = graph.graph.get("type", "cell")
    if kind not in ("compartment", "branch", "cell", "network"):
        raise ValueError(f"comp_graph.graph['type'] must be 'compartment', 'branch', 'cell' or"
                         f" 'network', got {kind!r}")
    nodes = pd.DataFrame([a for _, a in graph.nodes(data=True)], index=list(graph.nodes))
    nodes = nodes.sort_index()
    parents = _parents(graph, nodes)
    cls = {"compartment": Compartment, "branch": Branch}.get(kind, Cell)
    cells = [_cell(nodes[nodes["cell_index"] == c], parents[c], graph, assign_groups, cls)
             for c in sorted(nodes["cell_index"].unique())]
    if kind != "network":
        add_graph_synapses(cells[0], graph)  # raises if the graph has synapse edges
        return cells[0]
    net = Network(cells)
    add_graph_synapses(net, graph)
    return net


def _parents(graph, nodes: pd.DataFrame) -> list[list[int]]:
    """Per cell, the parent of each of its branches (cell-local, -1 for the root)."""
    pairs = [(graph.nodes[i]["branch_index"], graph.nodes[j]["branch_index"])
             for i, j, t in graph.edges(data="type") if t == "inter_branch"]
    parent_of = pd.DataFrame(pairs, columns=["parent", "child"]).set_index("child")["parent"]
    out = []
    for branches in nodes.groupby("cell_index")["branch_index"].unique():
        root = branches[0]
        out.append([-1, *(parent_of.loc[list(branches[1:])] - root).tolist()])
    return out


def _table(cell_nodes: pd.DataFrame, graph, assign_groups: bool):
    """(compartment table, group names): geometry and mechanism columns of one cell."""
    defaults = {**COMPARTMENT_PARAMS, **COMPARTMENT_STATES}
    table = {}
    for col in GEOMETRY_COLUMNS:
        default = defaults.get(col, np.nan)
        table[col] = (cell_nodes[col].to_numpy(dtype=float) if col in cell_nodes
                      else np.full(len(cell_nodes), default))
    groups = list(graph.graph.get("group_names", [])) if assign_groups else []
    if assign_groups and "groups" in cell_nodes:
        for name in cell_nodes["groups"].explode().dropna().unique():
            table[name] = cell_nodes["groups"].map(lambda g, n=name: n in g).to_numpy()
            groups += [name] if name not in groups else []
    for col in cell_nodes.columns:
        if col in _NOT_COLUMNS or col in table or col in BOOKKEEPING_COLUMNS:
            continue
        if col.startswith(("local_", "global_")) or col in graph.graph.get("group_names", []) \
                and not assign_groups:
            continue
        values = cell_nodes[col]
        table[col] = values.fillna(False).astype(bool).to_numpy() if col in groups else \
            values.to_numpy()
    groups = [g for g in groups if g in table]
    return pd.DataFrame(table), groups


def _cell(cell_nodes: pd.DataFrame, parents: list[int], graph, assign_groups: bool,
          cls=Cell):
    """A ``cls`` (Cell, Branch or Compartment) of the graph's compartments of one cell
    (rows in compartment order)."""
    ncomp = cell_nodes.groupby("branch_index").size().sort_index().to_numpy()
    table, groups = _table(cell_nodes, graph, assign_groups)
    channels = list({c.name: c for c in graph.graph.get("channels", [])
                     if c.name in table}.values())
    for channel in channels:  # compartments from a graph without this channel
        table[channel.name] = table[channel.name].fillna(False).astype(bool)
        has = table[channel.name].to_numpy()
        for col, default in {**channel.channel_params, **channel.channel_states}.items():
            if col in table:  # defaults where the channel is and the graph has no value;
                # NaN where it is not, as in a module built directly (and in jaxley)
                missing = table[col].isna().to_numpy() & has
                table[col] = table[col].mask(missing, default)
    first_branch = int(cell_nodes["branch_index"].min())
    xyzr = branch_xyzr(graph)[first_branch:first_branch + len(ncomp)] \
        if all("xyzr" in graph.nodes[n] for n in cell_nodes.index) else None
    topology = Topology(ncomp=ncomp.astype(np.int64), parents=np.asarray(parents, np.int64),
                        cell_of_branch=np.zeros(len(ncomp), dtype=np.int64))
    module = cls.__new__(cls)
    super(cls, module).__init__()  # Module.__init__, without the class's own
    module._init_data(table, topology, channels=channels, groups=groups, xyzr=xyzr)
    return module
