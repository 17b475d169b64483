"""Drawing morphologies with matplotlib (optional: ``pip install 'neuroenv[plot]'``).

Use the ``vis`` method of a module or view (:func:`simulator.modules.drawing.vis`);
the functions here draw prepared coordinates into an Axes. matplotlib is imported only
when something is drawn, so the simulator itself never needs it.

All coordinates are in µm. ``dims`` names the axes to project onto: (0, 1) is the x-y
plane, (0, 2) the x-z plane, three entries give a 3-D plot.
"""

from __future__ import annotations

import numpy as np

VIS_TYPES = ("line", "scatter", "comp", "morph")
#: Vertices of the polygons that stand for circles (a frustum seen along its axis, joints).
CIRCLE_VERTICES = 16
#: Points around the circumference of a 3-D compartment cylinder.
CYLINDER_VERTICES = 12


def _matplotlib():
    """Import matplotlib.pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "plotting needs matplotlib, which is not installed: pip install 'neuroenv[plot]'"
        ) from err
    return plt


def check_dims(dims) -> tuple[int, ...]:
    """``dims`` as a tuple of 2 or 3 distinct axes out of (0, 1, 2), or ValueError."""
    try:
        values = tuple(int(d) for d in dims)
        ok = (
            len(values) in (2, 3)
            and len(set(values)) == len(values)
            and all(v in (0, 1, 2) for v in values)
            and all(float(d) == int(d) for d in dims)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"dims must be 2 or 3 distinct axes out of (0, 1, 2) (x, y, z), e.g. (0, 1) or"
            f" (0, 1, 2); got {dims!r}"
        )
    return values


def check_type(kind: str, dims: tuple[int, ...]) -> None:
    """ValueError for an unknown plot type."""
    del dims  # every type draws in 2-D and 3-D
    if not isinstance(kind, str) or kind not in VIS_TYPES:
        raise ValueError(f"type must be one of {VIS_TYPES}, got {kind!r}")


def get_axes(ax, dims: tuple[int, ...]):
    """``ax`` after checking it suits ``dims``, or a new Axes (3-D for three dims)."""
    three_d = len(dims) == 3
    if ax is None:
        plt = _matplotlib()
        fig = plt.figure()
        if three_d:
            return fig.add_subplot(projection="3d")
        ax = fig.add_subplot()
        ax.set_aspect("equal")
        return ax
    _matplotlib()
    is_3d = getattr(ax, "name", "") == "3d"
    if three_d and not is_3d:
        raise ValueError(
            f"dims={dims} needs a 3-D Axes (fig.add_subplot(projection='3d')), got a 2-D one"
        )
    if not three_d and is_3d:
        raise ValueError(f"dims={dims} needs a 2-D Axes, got a 3-D one; give three dims")
    return ax


def plot_lines(ax, polylines, dims, color="k", **kwargs) -> list:
    """One line per polyline (rows x, y, z, r); returns the Line2D artists."""
    lines = []
    for points in polylines:
        lines += ax.plot(*(points[:, d] for d in dims), color=color, **kwargs)
    return lines


def plot_scatter(ax, xyz: np.ndarray, dims, color="k", **kwargs):
    """The points ``xyz`` (n, 3) as one scatter artist."""
    if "c" not in kwargs:
        kwargs["color"] = color
    return ax.scatter(*(xyz[:, d] for d in dims), **kwargs)


def plot_morph(ax, polylines, dims, color="k", **kwargs) -> list:
    """Filled frustums of the polylines (rows x, y, z, r), true widths; 2-D only.

    One PolyCollection per polyline: a trapezoid per traced segment (a circle where the
    segment points along the hidden axis) and a disc at each interior point to close the
    joints.
    """
    options = {"facecolor": color, "edgecolor": "none", "linewidth": 0.0, **kwargs}
    polygons = (_frustum_polygons(p[:, list(dims)], p[:, 3]) for p in polylines)
    return _add_collections(ax, polygons, options)


def plot_morph_3d(ax, polylines, dims, color="k", resolution=None, **kwargs) -> list:
    """3-D: a cylinder surface per traced segment of the polylines (rows x, y, z, r), of
    the segment's mean radius, ``resolution`` points around (None: CYLINDER_VERTICES).
    One surface per segment: slow for densely traced cells (jaxley warns the same)."""
    options = {"color": color, "linewidth": 0.0, "shade": True, **kwargs}
    n = int(resolution or CYLINDER_VERTICES)
    surfaces = []
    for p in polylines:
        for k in range(max(len(p) - 1, 1)):
            seg = p[k:k + 2]
            grid = _cylinder(seg[:, :3], float(np.mean(seg[:, 3])), n)
            surfaces.append(ax.plot_surface(*(grid[..., d] for d in dims), **options))
    return surfaces


def plot_comps(ax, branches, dims, color="k", resolution=None, **kwargs) -> list:
    """Each compartment as a tube of its radius along its traced piece.

    ``branches`` is a list (one entry per branch) of lists of compartment pieces (rows x, y,
    z, r with r the compartment radius). In 2-D one PolyCollection of outlines per branch;
    in 3-D one cylinder surface per compartment, ``resolution`` points around its
    circumference (None: :data:`CYLINDER_VERTICES`).
    """
    if len(dims) == 3:
        options = {"color": color, "linewidth": 0.0, "shade": True, **kwargs}
        surfaces = []
        for pieces in branches:
            for piece in pieces:
                grid = _cylinder(piece[:, :3], float(piece[0, 3]),
                                 int(resolution or CYLINDER_VERTICES))
                surfaces.append(ax.plot_surface(*(grid[..., d] for d in dims), **options))
        return surfaces
    options = {"facecolor": "none", "edgecolor": color, **kwargs}
    polygons = ([_tube_polygon(p[:, list(dims)], float(p[0, 3])) for p in pieces]
                for pieces in branches)
    return _add_collections(ax, polygons, options)


def _add_collections(ax, polygon_lists, options: dict) -> list:
    """One PolyCollection (``options``) per non-empty list of polygons, added to ``ax``."""
    from matplotlib.collections import PolyCollection

    collections = [ax.add_collection(PolyCollection(polygons, **options), autolim=True)
                   for polygons in polygon_lists if polygons]
    ax.autoscale_view()
    return collections


# ---------------------------------------------------------------------- polygon geometry
def _circle(centre: np.ndarray, radius: float, n: int = CIRCLE_VERTICES) -> np.ndarray:
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return centre + radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _tolerance(xy: np.ndarray) -> float:
    return 1e-9 * (1.0 + float(np.max(np.abs(xy)))) if xy.size else 1e-9


def _frustum_polygons(xy: np.ndarray, radius: np.ndarray) -> list[np.ndarray]:
    """Trapezoids of the projected frustums plus discs at the interior points."""
    if len(xy) == 1:
        return [_circle(xy[0], float(radius[0]))]
    d = np.diff(xy, axis=0)
    length = np.linalg.norm(d, axis=1)
    flat = length <= _tolerance(xy)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.where(flat, 1.0, length)[:, None]
    r0, r1 = radius[:-1, None], radius[1:, None]
    p0, p1 = xy[:-1], xy[1:]
    quads = np.stack([p0 + normal * r0, p1 + normal * r1, p1 - normal * r1, p0 - normal * r0],
                     axis=1)
    polygons = list(quads[~flat])
    for k in np.flatnonzero(flat):
        polygons.append(_circle(xy[k], float(max(radius[k], radius[k + 1]))))
    for k in range(1, len(xy) - 1):
        polygons.append(_circle(xy[k], float(radius[k])))
    return polygons


def _distinct(points: np.ndarray) -> np.ndarray:
    """``points`` (m, k) without each point that coincides with the one before it."""
    moved = np.linalg.norm(np.diff(points, axis=0), axis=1) > _tolerance(points)
    return points[np.concatenate([[True], moved])]


def _at_vertices(seg: np.ndarray) -> np.ndarray:
    """Unit vectors at the m vertices from the m - 1 segments' unit vectors ``seg``: the
    normalised mean of the two adjacent ones (at a hairpin turn, the next segment's)."""
    vertex = np.vstack([seg[:1], seg[:-1] + seg[1:], seg[-1:]])
    size = np.linalg.norm(vertex, axis=1)
    return np.where(size[:, None] > 1e-9, vertex / np.maximum(size, 1e-12)[:, None],
                    np.vstack([seg, seg[-1:]]))


def _tube_polygon(xy: np.ndarray, radius: float) -> np.ndarray:
    """Outline of a tube of constant ``radius`` along the 2-D polyline ``xy``."""
    xy = _distinct(xy)
    if len(xy) == 1:
        return _circle(xy[0], radius)
    d = np.diff(xy, axis=0)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.linalg.norm(d, axis=1)[:, None]
    vertex = _at_vertices(normal)
    return np.vstack([xy + radius * vertex, (xy - radius * vertex)[::-1]])


def _cylinder(xyz: np.ndarray, radius: float, n: int = CYLINDER_VERTICES) -> np.ndarray:
    """(m, n + 1, 3) surface grid of a tube of ``radius`` along the 3-D polyline ``xyz``."""
    xyz = _distinct(xyz)
    if len(xyz) == 1:  # a point: a cylinder of length and diameter 2r along x
        xyz = xyz[0] + np.array([[-radius, 0.0, 0.0], [radius, 0.0, 0.0]])
    d = np.diff(xyz, axis=0)
    tangent = _at_vertices(d / np.linalg.norm(d, axis=1)[:, None])
    reference = np.eye(3)[np.argmin(np.abs(tangent[0]))]
    u = np.cross(tangent, reference)
    small = np.linalg.norm(u, axis=1) < 1e-6
    if small.any():
        u[small] = np.cross(tangent[small], np.eye(3)[np.argmin(np.abs(tangent[small]), axis=1)])
    u /= np.linalg.norm(u, axis=1)[:, None]
    v = np.cross(tangent, u)
    theta = np.linspace(0.0, 2 * np.pi, n + 1)
    ring = np.cos(theta)[None, :, None] * u[:, None, :] + np.sin(theta)[None, :, None] * v[
        :, None, :]
    return xyz[:, None, :] + radius * ring
