"""Drawing a module or view (``vis``) from its coordinates (see :mod:`simulator.modules.layout`).

A selection draws only its own compartments: per branch, the stretches of the traced path
(``xyzr``, µm) that its compartments cover.
"""

from __future__ import annotations

import numpy as np

from simulator import plotting
from simulator.modules.layout import (
    comp_bounds,
    ensure_coordinates,
    path_fractions,
    point_at,
    row_of_comp,
)


def vis(module, ax=None, color="k", dims=(0, 1), type="line", resolution=None,  # noqa: A002
        **kwargs):
    """Draw the selection with matplotlib and return the Axes.

    Args:
        ax: Axes to draw into; None creates a figure (a 3-D one if ``dims`` has three
            entries; 2-D figures get an equal aspect ratio).
        color: matplotlib colour.
        dims: two or three of (0, 1, 2) = (x, y, z): the axes to project onto.
        type: ``"line"`` the traced paths (``xyzr``); ``"scatter"`` the compartment
            centres; ``"comp"`` each compartment as a tube outline of its own length
            and diameter along the traced path (cylinder surfaces in 3-D); ``"morph"``
            the traced frustums as filled polygons of their true widths (3-D: a cylinder
            per traced segment).
        resolution: points around the circumference of each 3-D ``"comp"``/``"morph"`` cylinder
            (jaxley's mesh resolution; default 12); 2-D drawings are exact outlines and
            ignore it. Must be an int >= 3 when given.
        **kwargs: passed to the matplotlib call (``plot``, ``scatter``, the polygon
            collections or ``plot_surface``).

    A view draws only its own compartments: ``cell.apical.vis(ax=ax, color="r")`` on top
    of ``cell.vis(ax=ax)`` highlights the apical tree. A selection covering part of a
    branch draws that part of the branch.

    Cells without traced points (built by hand) get the synthetic layout of
    :meth:`compute_xyz` first, and missing compartment centres are computed from
    ``xyzr``: vis writes these coordinates into the module.
    """
    dims = plotting.check_dims(dims)
    plotting.check_type(type, dims)
    if resolution is not None and (isinstance(resolution, bool)
                                   or not isinstance(resolution, int | np.integer)
                                   or resolution < 3):
        raise ValueError(f"vis: resolution must be an int >= 3 (points around a cylinder),"
                         f" got {resolution!r}")
    plt_ax = plotting.get_axes(ax, dims)
    ensure_coordinates(module)
    if type == "line":
        plotting.plot_lines(plt_ax, _selected_runs(module), dims, color, **kwargs)
    elif type == "scatter":
        xyz = module.base._nodes.loc[module._node_inds, ["x", "y", "z"]].to_numpy(dtype=float)
        plotting.plot_scatter(plt_ax, xyz, dims, color, **kwargs)
    elif type == "comp":
        plotting.plot_comps(plt_ax, _selected_comp_pieces(module), dims, color, resolution,
                            **kwargs)
    elif len(dims) == 3:
        plotting.plot_morph_3d(plt_ax, _selected_runs(module), dims, color, resolution,
                               **kwargs)
    else:
        plotting.plot_morph(plt_ax, _selected_runs(module), dims, color, **kwargs)
    return plt_ax


def _selected_comps(module) -> dict[int, np.ndarray]:
    """Positions (within their branch) of the selected compartments, per global branch."""
    base = module.base
    table = base._nodes.loc[module._node_inds]
    first = base._data.first_comp
    branches = table["global_branch_index"].to_numpy()
    comps = table["global_comp_index"].to_numpy()
    return {int(b): np.sort(comps[branches == b] - first[b]) for b in np.unique(branches)}


def _branch_path(module, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Traced points of branch ``b`` (missing radii filled by compartment radii) and its
    compartment boundaries as fractions of the path."""
    base = module.base
    first = base._data.first_comp[b]
    rows = row_of_comp(base)[first : first + base.topology.ncomp[b]]
    bounds = comp_bounds(base._nodes["length"].to_numpy(dtype=float)[rows])
    points = np.array(base.xyzr[b], dtype=float)
    bad = ~np.isfinite(points[:, 3])
    if bad.any():
        comp_r = base._nodes["radius"].to_numpy(dtype=float)[rows]
        frac = path_fractions(points)
        k = np.clip(np.searchsorted(bounds, frac, side="right") - 1, 0, len(comp_r) - 1)
        points[bad, 3] = comp_r[k[bad]]
    return points, bounds


def _selected_runs(module) -> list[np.ndarray]:
    """Traced polylines of the selection: per branch, one per run of consecutive
    selected compartments (the whole branch when all of it is selected)."""
    runs = []
    for b, positions in _selected_comps(module).items():
        points, bounds = _branch_path(module, b)
        for lo, hi in _consecutive_runs(positions):
            runs.append(_piece(points, bounds[lo], bounds[hi + 1]))
    return runs


def _selected_comp_pieces(module) -> list[list[np.ndarray]]:
    """Per selected branch, each selected compartment's traced piece with radius set
    to the compartment radius."""
    base = module.base
    first = base._data.first_comp
    radius = base._nodes["radius"].to_numpy(dtype=float)
    row = row_of_comp(base)
    out = []
    for b, positions in _selected_comps(module).items():
        points, bounds = _branch_path(module, b)
        pieces = []
        for k in positions:
            piece = _piece(points, bounds[k], bounds[k + 1])
            piece[:, 3] = radius[row[first[b] + k]]
            pieces.append(piece)
        out.append(pieces)
    return out


def _piece(points: np.ndarray, a: float, b: float) -> np.ndarray:
    """The part of the polyline between path fractions a < b (ends interpolated)."""
    points = np.asarray(points, dtype=float)
    if len(points) == 1 or (a <= 0.0 and b >= 1.0):
        return points.copy()
    s = path_fractions(points)
    inner = points[(s > a) & (s < b)]
    return np.vstack([point_at(points, a), inner, point_at(points, b)])


def _consecutive_runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive integers in sorted ``positions``."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(positions) - 1]])
    return [(int(positions[s]), int(positions[e])) for s, e in zip(starts, ends, strict=True)]
