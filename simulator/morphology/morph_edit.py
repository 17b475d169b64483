"""jaxley 0.14's ``morph_delete`` and ``morph_connect``: edit a cell's morphology through
its compartment graph (:mod:`simulator.io.graph`); both return a new Cell."""

from __future__ import annotations

import numpy as np

from simulator.io.connect_graphs import connect_graphs
from simulator.io.module_from_graph import from_graph
from simulator.io.swc_graph import require_networkx
from simulator.modules.cell import Cell
from simulator.modules.graph_export import to_graph


def _check_plain_cell(view, name: str) -> None:
    base = getattr(view, "base", None)
    if not isinstance(base, Cell):
        raise TypeError(f"{name} must be a view of a Cell, got a view of"
                        f" {type(base).__name__}")
    for what, items, fix in (("recordings", base.recordings, "delete_recordings()"),
                             ("stimuli or clamps", base.externals,
                              "delete_stimuli() / delete_clamps()"),
                             ("trainable parameters", base.trainable_params,
                              "delete_trainables()")):
        if len(items):
            raise ValueError(f"{name}: the cell has {len(items)} {what}, which a morphology"
                             f" edit cannot keep; call cell.{fix} first")
    if np.isnan(np.asarray(base.xyzr[0])[0, 0]):
        base.compute_xyz()


def morph_delete(module_view):
    """A new Cell without the compartments of ``module_view`` (whole branches, e.g.
    ``cell.axon`` or ``cell.branch([3, 4])``). Channels are not carried over (as jaxley).

    Raises:
        TypeError: the view is not of a Cell. ValueError: the cell has recordings,
            stimuli, clamps or trainable parameters.
    """
    nx = require_networkx()
    _check_plain_cell(module_view, "morph_delete")
    doomed = set(module_view.nodes.index.tolist())
    graph = to_graph(module_view.base)
    keep = [n for n, a in graph.nodes(data=True)
            if a["type"] == "branchpoint" or a["comp_index"] not in doomed]
    return from_graph(nx.subgraph(graph, keep))


def _anchor(graph, view) -> int:
    """The node of ``graph`` where ``view`` attaches: for ``loc(0.0)`` the branchpoint its
    branch starts from, for ``loc(1.0)`` the one its branch ends in; the compartment
    itself where there is none (a tip) or the view is not such a ``loc``."""
    comp = int(view.nodes.index.to_numpy()[0])
    at = getattr(view, "_loc_at", None)
    if at is None or len(at) != 1 or at[0] not in (0.0, 1.0):
        return comp
    points = [n for n in (graph.predecessors(comp) if at[0] == 0.0 else graph.successors(comp))
              if graph.nodes[n]["type"] == "branchpoint"]
    return max(points) if points else comp


def morph_connect(module_view1, module_view2):
    """A new Cell of both views' cells, the second moved and attached where
    ``module_view1`` ends (views such as ``cell.branch(0).loc(0.0)`` or ``loc(1.0)``: at
    the branchpoint there, or at the compartment where the branch ends in a tip).
    Channels, groups and parameters are kept.

    Raises:
        TypeError: a view is not of a Cell. ValueError: a cell has recordings, stimuli,
            clamps or trainable parameters.
    """
    _check_plain_cell(module_view1, "module_view1")
    _check_plain_cell(module_view2, "module_view2")
    graph1 = to_graph(module_view1.base, channels=True)
    graph2 = to_graph(module_view2.base, channels=True)
    node1, node2 = _anchor(graph1, module_view1), _anchor(graph2, module_view2)
    return from_graph(connect_graphs(graph1, graph2, node1, node2))
