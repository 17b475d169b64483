"""``to_swc_graph``: an SWC file as a networkx directed graph (jaxley 0.14's ``io.graph``).

One node per SWC line, keyed by the sample number, with attributes ``id`` (SWC type),
``x``, ``y``, ``z``, ``r`` (µm) and ``p`` (parent sample, -1 at the root); one edge
parent -> child per line with a parent, with attribute ``l``: the Euclidean distance of
the two points in µm (``2 r`` for a self-loop), never below :data:`MIN_EDGE_LENGTH`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Shortest edge length (µm): two samples never lie on top of each other.
MIN_EDGE_LENGTH = 1e-5
_NODE_DEFAULTS = {"id": 0, "x": float("nan"), "y": float("nan"), "z": float("nan"),
                  "r": 1, "p": 0}


def require_networkx():
    """The networkx module; ImportError naming the extra to install when it is missing."""
    try:
        import networkx
    except ImportError as err:  # pragma: no cover - exercised only without networkx
        raise ImportError(
            "this function needs networkx, which is not a core dependency of simulator:"
            " install the extra with `pip install 'neuroenv[graph]'` (or `pip install networkx`)"
        ) from err
    return networkx


def to_swc_graph(fname, num_lines: int | None = None):
    """Read an SWC file into a ``networkx.DiGraph`` (see the module docstring).

    Args:
        fname: path of the SWC file (str or pathlib.Path).
        num_lines: read only the first ``num_lines`` samples (None: all of them).

    Returns:
        the graph; nodes ``{'id', 'x', 'y', 'z', 'r', 'p'}``, edges ``{'l'}``.
    """
    nx = require_networkx()
    if not isinstance(fname, str | Path):
        raise TypeError(f"fname must be a path (str or pathlib.Path), got {fname!r}")
    if num_lines is not None and (isinstance(num_lines, bool) or not isinstance(num_lines, int)
                                  or num_lines < 1):
        raise ValueError(f"num_lines must be a positive int or None, got {num_lines!r}")
    try:
        rows = np.atleast_2d(np.loadtxt(fname))[:num_lines]
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read SWC file {str(fname)!r}: {err}") from err
    if rows.shape[1] != 7:
        raise ValueError(f"SWC file {str(fname)!r} must have 7 columns per line, got"
                         f" {rows.shape[1]}")
    graph = nx.DiGraph()
    for sample, kind, x, y, z, r, parent in rows:
        graph.add_node(int(sample), id=int(kind), x=x, y=y, z=z, r=r, p=int(parent))
    graph.add_edges_from((parent, sample) for sample, parent in rows[:, [0, 6]]
                         if parent != -1)
    return complete_swc_graph(graph)


def complete_swc_graph(graph):
    """Give every node the SWC attributes it lacks (defaults: ``id`` 0, ``x/y/z`` NaN,
    ``r`` 1, ``p`` 0) and every edge its length ``l`` (µm; 1 where coordinates are NaN)."""
    nx = require_networkx()
    first = next(iter(graph.nodes)) if 1 not in graph.nodes else 1
    present = graph.nodes[first].keys()
    for key in set(_NODE_DEFAULTS) - set(present):
        nx.set_node_attributes(graph, _NODE_DEFAULTS[key], key)
    add_edge_lengths(graph)
    lengths = list(nx.get_edge_attributes(graph, "l").values())
    if lengths and np.isnan(lengths[0]):
        nx.set_edge_attributes(graph, 1, "l")
    return graph


def add_edge_lengths(graph, min_len: float = MIN_EDGE_LENGTH):
    """Set each edge's ``l`` to its end points' distance (µm), at least ``min_len``."""
    for i, j in graph.edges:
        a, b = graph.nodes[i], graph.nodes[j]
        if i == j:
            d = 2 * a["r"]
        else:
            d = np.sqrt((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2 + (a["z"] - b["z"]) ** 2)
        graph.edges[i, j]["l"] = d if d >= min_len else min_len
    return graph
