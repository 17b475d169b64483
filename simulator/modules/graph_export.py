"""``to_graph``: a module as a networkx compartment graph (jaxley 0.14's
``jaxley.modules.base.to_graph``), and :class:`GraphExportMixin`, which makes it the
method ``module.to_graph()``.

Nodes: one per compartment (name = global compartment index) with the ``.nodes`` columns
(``global_`` dropped from the index names, ``local_`` columns left out), ``type='comp'``
and ``xyzr`` (the branch's traced points split evenly among its compartments); one
``type='branchpoint'`` node (x, y, z in µm) per branch that has children, named after the
compartments in the order of that parent branch. Edges: compartment -> next compartment
within a branch; parent compartment -> branchpoint -> first compartment of each child.
"""

from __future__ import annotations

import warnings

import numpy as np

from simulator.io.swc_graph import require_networkx

_GRAPH_ATTRS = ("externals", "external_inds", "recordings", "trainable_params",
                "indices_set_by_trainables")


def _node_columns(module, channels: bool):
    nodes = module.nodes.copy()
    nodes = nodes.drop(columns=[c for c in nodes.columns if "local" in c])
    nodes.columns = [c.replace("global_", "") for c in nodes.columns]
    if not channels:
        for channel in module.channels:
            names = [channel.name, *channel.channel_params, *channel.channel_states]
            nodes = nodes.drop(columns=[c for c in names if c in nodes.columns])
    nodes["type"] = "comp"
    return nodes


def _branch_structure(graph, module, nodes) -> None:
    """Add the branchpoints and all compartment edges of ``module`` to ``graph``."""
    topology = module.topology
    first = nodes.groupby("branch_index").apply(lambda t: t.index.min(), include_groups=False)
    last = nodes.groupby("branch_index").apply(lambda t: t.index.max(), include_groups=False)
    for _, table in nodes.groupby("branch_index"):
        names = table.index.to_numpy()
        graph.add_edges_from(zip(names[:-1], names[1:], strict=True))
    parents = np.asarray(topology.parents)
    attach = topology.attach_positions()
    name = int(nodes.index.max()) + 1
    for parent in sorted({int(p) for p in parents if p >= 0}):
        xyz = np.asarray(module.xyzr[parent])[-1, :3]
        graph.add_node(name, x=xyz[0], y=xyz[1], z=xyz[2], type="branchpoint")
        graph.add_edge(int(last[parent]), name)
        for child in np.flatnonzero(parents == parent):
            if attach[child] == 0.0:  # attached at the parent's start (NEURON sections)
                graph.add_edge(int(first[parent]), name)
            graph.add_edge(name, int(first[child]))
        name += 1


def _add_synapses(graph, module) -> None:
    edges = module.edges.copy()
    duplicated = edges[["pre_index", "post_index"]].duplicated(keep=False)
    if duplicated.any():
        warnings.warn(f"synapses {edges.index[duplicated].tolist()} connect the same"
                      " compartments; the graph keeps one synapse per pair", stacklevel=3)
    for attr in ("synapses", "synapse_param_names", "synapse_state_names", "synapse_names",
                 "synapse_current_names"):
        graph.graph[attr] = getattr(module, attr, [])
    edges["syn_type"] = edges["type"]
    edges["type"] = "synapse"
    for _, row in edges.iterrows():
        attrs = row.to_dict()
        graph.add_edge(int(attrs.pop("pre_index")), int(attrs.pop("post_index")), **attrs)


def to_graph(module, synapses: bool = False, channels: bool = False):
    """``module`` (a base module or view's base) as a ``networkx.DiGraph`` (module docstring).

    Args:
        module: the module to export.
        synapses: add synapses as edges ``type='synapse'`` with their parameters.
        channels: keep channel columns and store the channels in ``graph.graph``.

    Returns:
        the graph; ``graph.graph`` holds ``type`` (the class name, lower case), ``ncomp``,
        ``group_names`` and the recordings, inputs and trainables.
    """
    nx = require_networkx()
    module = module.base
    graph = nx.DiGraph()
    graph.graph["type"] = type(module).__name__.lower()
    graph.graph["ncomp"] = int(np.asarray(module.topology.ncomp)[0])
    for attr in _GRAPH_ATTRS:
        graph.graph[attr] = getattr(module, attr)
    nodes = _node_columns(module, channels)
    if channels:
        graph.graph["channels"] = list(module.channels)
        graph.graph["membrane_current_names"] = [c.current_name for c in module.channels]
    for col in nodes.columns:  # column by column keeps each column's dtype
        graph.add_nodes_from(nodes[[col]].to_dict(orient="index").items())
    graph.graph["group_names"] = list(module.groups)
    for branch, table in nodes.groupby("branch_index"):
        pieces = np.array_split(np.asarray(module.xyzr[branch]), len(table))
        for comp, piece in zip(table.index, pieces, strict=True):
            graph.nodes[comp]["xyzr"] = piece
    _branch_structure(graph, module, nodes)
    if synapses:
        _add_synapses(graph, module)
    return graph


class GraphExportMixin:
    """``module.to_graph(synapses=False, channels=False)``: see :func:`to_graph`."""

    def to_graph(self, synapses: bool = False, channels: bool = False):
        return to_graph(self, synapses=synapses, channels=channels)
