"""Drawing a network (``Network.vis``): its cells, as morphologies or points, and its
synapses as lines from the pre- to the postsynaptic location (jaxley 0.14's signature).
"""

from __future__ import annotations

import warnings

import numpy as np

from simulator.modules import drawing
from simulator.modules.layout import ensure_coordinates, point_at

DETAILS = ("full", "point")


def vis(net, detail: str = "full", ax=None, color="k", synapse_color="b", dims=(0, 1),
        cell_plot_kwargs=None, synapse_plot_kwargs=None, synapse_scatter_kwargs=None,
        type="line", resolution=None, **kwargs):  # noqa: A002
    """Draw the network's cells and synapses with matplotlib and return the Axes.

    Args:
        detail: ``"full"``: each cell's morphology (as :meth:`Module.vis` with ``type``);
            ``"point"``: each cell as one dot at the mean of its traced points.
        ax: Axes to draw into (None: a new 3 x 3 inch figure; 3-D for three ``dims``).
        color: colour of the cells; synapse_color: colour of the synapses.
        dims: two or three of (0, 1, 2) = (x, y, z).
        cell_plot_kwargs: keyword arguments of the cells' matplotlib calls.
        synapse_plot_kwargs: of the synapse lines (``plot``); synapse_scatter_kwargs: of
            the dots at the postsynaptic ends (``scatter``).
        type, resolution: the ``"full"`` drawing's ``type`` and ``resolution`` (see
            :meth:`Module.vis`).
        **kwargs: accepted and ignored, as jaxley does (``net.cell(0).vis(type=...)``
            style calls).

    Warns (UserWarning) when every cell's root branch lies at the same place: move the
    cells first (:meth:`move`, :meth:`move_to`, :meth:`arrange_in_layers`).
    """
    del kwargs
    if detail not in DETAILS:
        raise ValueError(f"vis: detail must be one of {DETAILS}, got {detail!r}")
    ensure_coordinates(net)
    base = net.base
    roots = [np.asarray(base.xyzr[b])[:, :3] for b in _root_branches(base)]
    if len(roots) > 1 and all(r.shape == roots[0].shape and np.array_equal(r, roots[0])
                              for r in roots):
        warnings.warn("vis: all cells lie at the same coordinates; separate them with"
                      " net.cell(i).move(...), move_to(...) or net.arrange_in_layers(...)",
                      UserWarning, stacklevel=2)
    from simulator import plotting

    dims = plotting.check_dims(dims)
    cell_kwargs = dict(cell_plot_kwargs or {})
    resolution = cell_kwargs.pop("resolution", resolution)
    if detail == "full":
        ax = drawing.vis(net, ax=ax, color=color, dims=dims, type=type,
                         resolution=resolution, **cell_kwargs)
    else:
        ax = plotting.get_axes(ax, dims)
        centres = _cell_points(base)
        ax.scatter(*(centres[:, d] for d in dims), color=color, **cell_kwargs)
    _draw_synapses(net, ax, detail, dims, synapse_color, synapse_plot_kwargs or {},
                   synapse_scatter_kwargs or {})
    return ax


def _root_branches(base) -> list[int]:
    topo = base.topology
    return [int(np.flatnonzero((topo.cell_of_branch == c) & (topo.parents < 0))[0])
            for c in range(topo.n_cells)]


def _cell_points(base) -> np.ndarray:
    """(n_cells, 3) mean of each cell's traced points (µm)."""
    topo = base.topology
    return np.stack([np.concatenate([np.asarray(base.xyzr[b])[:, :3] for b in
                                     np.flatnonzero(topo.cell_of_branch == c)]).mean(axis=0)
                     for c in range(topo.n_cells)])


def _draw_synapses(net, ax, detail, dims, color, line_kwargs, dot_kwargs) -> None:
    """A line from each synapse's pre- to its postsynaptic location, a dot at the post end."""
    base = net.base
    edges = base.edges
    if len(edges) == 0:
        return
    nodes = base.nodes
    points = _cell_points(base) if detail == "point" else None
    ends = []
    for side in ("pre", "post"):
        rows = nodes.loc[edges[f"{side}_index"].to_numpy()]
        locs = edges[f"{side}_locs"].to_numpy(dtype=float)
        if detail == "point":
            ends.append(points[rows["global_cell_index"].to_numpy()])
        else:
            ends.append(np.stack([point_at(base.xyzr[b], loc)[:3] for b, loc in
                                  zip(rows["global_branch_index"].to_numpy(), locs,
                                      strict=True)]))
    pre, post = ends
    for a, b in zip(pre, post, strict=True):
        ax.plot(*([a[d], b[d]] for d in dims), color=color, **line_kwargs)
    ax.scatter(*(post[:, d] for d in dims), color=color, **dot_kwargs)
