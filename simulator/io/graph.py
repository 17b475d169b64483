"""jaxley 0.14's ``jaxley.io.graph`` API: morphologies as networkx graphs.

``to_swc_graph`` (SWC file -> sample graph), ``build_compartment_graph`` (-> compartment
graph with jaxley's sectioning), ``from_graph`` (-> module), ``to_graph`` (module ->
compartment graph), ``vis_compartment_graph`` and ``connect_graphs``. networkx is needed
(the ``graph`` extra); it is imported only when one of these functions runs.
"""

from __future__ import annotations

from simulator.io.compartment_graph import build_compartment_graph
from simulator.io.connect_graphs import connect_graphs
from simulator.io.module_from_graph import from_graph
from simulator.io.swc_graph import complete_swc_graph, require_networkx, to_swc_graph
from simulator.modules.graph_export import to_graph

#: jaxley's private name for :func:`~simulator.io.swc_graph.complete_swc_graph` (its tests use it).
_add_missing_graph_attrs = complete_swc_graph

__all__ = ["build_compartment_graph", "connect_graphs", "from_graph", "to_graph",
           "to_swc_graph", "vis_compartment_graph"]


def vis_compartment_graph(comp_graph, ax=None, font_size: float = 7.0, node_size: float = 150.0,
                          arrowsize: float = 10.0, comp_color: str = "r",
                          branchpoint_color: str = "orange"):
    """Draw a compartment graph at its nodes' (x, y) positions (µm) with node names.

    Args:
        comp_graph: from :func:`build_compartment_graph` or :func:`to_graph`.
        ax: matplotlib axes (default: a new 4 x 4 inch figure).
        font_size, node_size, arrowsize: matplotlib sizes of labels, nodes and arrows.
        comp_color, branchpoint_color: colours of compartments and branchpoints.

    Returns:
        the axes.
    """
    nx = require_networkx()
    import matplotlib.pyplot as plt

    colours = {"comp": comp_color, "branchpoint": branchpoint_color}
    node_color = [colours.get(a.get("type"), comp_color) for _, a in comp_graph.nodes(data=True)]
    pos = {n: (a["x"], a["y"]) for n, a in comp_graph.nodes(data=True)}
    if ax is None:
        _, ax = plt.subplots(1, 1, figsize=(4, 4))
    nx.draw(comp_graph, pos=pos, with_labels=True, font_size=font_size, node_size=node_size,
            ax=ax, node_color=node_color, arrowsize=arrowsize)
    return ax
