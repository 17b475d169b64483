"""Coordinates: ``compute_xyz``, ``compute_compartment_centers``, ``move``, ``move_to``, ``rotate``.

Two kinds of coordinates describe where a module lies, both in µm:

* ``xyzr``: one (N, 4) array per branch of traced points (x, y, z, radius), proximal
  first. ``read_swc`` fills it from the file; a hand-built module gets jaxley's synthetic
  layout when it is built (:func:`compute_xyz`; two points per branch, radius NaN).
* the compartment centres, columns ``x``, ``y``, ``z`` of ``.nodes``: the points at the
  middle of each compartment's stretch of its branch's traced path (compartment
  boundaries at the cumulative fractions of the compartment lengths).

The methods here keep the two consistent: moving or rotating a module transforms both.
Coordinates are for plotting only; the simulation never reads them.
"""

from __future__ import annotations

import numpy as np

from simulator.modules.arguments import real_array, real_scalar, show
from simulator.modules.selection import require_compartments, require_whole_module
from simulator.modules.synthetic_layout import synthetic_points

ROTATION_AXES = ("xy", "xz", "yz")


# ------------------------------------------------------------------ layout
def compute_xyz(module) -> None:
    """Lay out every branch without complete traced points (``xyzr`` with a NaN, as every
    hand-built branch) with jaxley 0.14's synthetic 2-D layout
    (:mod:`simulator.modules.synthetic_layout`) and place their compartment centres.

    Modules get this layout when they are built, as in jaxley; call it again after
    changing compartment lengths of a hand-built module. Branches with traced points (read
    from an SWC file, or given as ``xyzr``) keep them.
    """
    require_whole_module(module, "compute_xyz")
    base = module.base
    _layout_branches(base, np.array([np.isnan(np.asarray(x)).any() for x in base.xyzr]))


def compute_compartment_centers(module) -> None:
    """Recompute ``.nodes`` x, y, z from ``xyzr`` (for the whole module)."""
    require_whole_module(module, "compute_compartment_centers")
    _update_centres(module, np.arange(module.topology.n_branches))


def _layout_branches(base, todo: np.ndarray) -> None:
    """Give the branches ``todo`` (bool per branch) the synthetic layout; place their
    compartment centres."""
    if not todo.any():
        return
    topo = base.topology
    rows = row_of_comp(base)
    lengths = base._nodes["length"].to_numpy(dtype=float)[rows]
    first = base._data.first_comp
    branch_lengths = np.array([lengths[first[b]:first[b] + topo.ncomp[b]].sum()
                               for b in range(topo.n_branches)])
    points = synthetic_points(topo.parents, branch_lengths, todo,
                              lambda b: np.asarray(base.xyzr[b], dtype=float)[-1, :3])
    for b, ends in points.items():
        old = np.asarray(base.xyzr[b], dtype=float)
        new = np.full((2, 4), np.nan)
        new[:, :3] = ends
        new[:, 3] = old[[0, -1], 3]
        base.xyzr[b] = new
    _update_centres(base, np.flatnonzero(todo))


def _update_centres(module, branches: np.ndarray) -> None:
    """Place the compartment centres of ``branches`` on their traced paths."""
    base = module.base
    topo = base.topology
    first = base._data.first_comp
    rows = row_of_comp(base)
    lengths = base._nodes["length"].to_numpy(dtype=float)[rows]
    xyz = base._nodes[["x", "y", "z"]].to_numpy(dtype=float)[rows]
    for b in branches:
        comps = np.arange(first[b], first[b] + topo.ncomp[b])
        bounds = comp_bounds(lengths[comps])
        centres = (bounds[:-1] + bounds[1:]) / 2.0
        xyz[comps] = np.stack([point_at(base.xyzr[b], f)[:3] for f in centres])
    columns = [base._nodes.columns.get_loc(c) for c in ("x", "y", "z")]
    base._nodes.iloc[rows, columns] = xyz


def ensure_coordinates(module) -> None:
    """Lay out branches without traced x, y, z (:func:`compute_xyz`'s layout); place
    missing compartment centres. Run when a module is built (jaxley fills coordinates at
    construction) and before drawing or moving."""
    base = module.base
    sizes = np.fromiter(map(len, base.xyzr), dtype=np.int64, count=len(base.xyzr))
    finite = np.isfinite(np.concatenate(base.xyzr)[:, :3]).all(axis=1)  # no per-branch loop
    missing = np.zeros(len(sizes), bool)
    has = sizes > 0  # a branch without points has nothing missing (as np.all of nothing)
    if has.any():
        missing[has] = ~np.logical_and.reduceat(finite, (np.cumsum(sizes) - sizes)[has])
    _layout_branches(base, missing)
    xyz = base._nodes[["x", "y", "z"]].to_numpy(dtype=float)
    branch = base._nodes["global_branch_index"].to_numpy()
    unplaced = np.unique(branch[~np.all(np.isfinite(xyz), axis=1)])
    if unplaced.size:
        _update_centres(module, unplaced)


# ------------------------------------------------------------------ moving
def move(module, x: float = 0.0, y: float = 0.0, z: float = 0.0,
         update_nodes: bool = False) -> None:
    """Translate the traced points and the compartment centres by (x, y, z) µm.

    Allowed on a module and on views made of whole cells (``net.cell(0)``); on a part of
    a cell it raises ValueError (move the whole cell). ``update_nodes`` is accepted for
    compatibility; the compartment centres always follow.
    """
    del update_nodes
    shift = np.array([real_scalar(f"move: {name}", value, unit="µm")
                      for name, value in (("x", x), ("y", y), ("z", z))])
    cells = _whole_cells(module, "move")
    for c in cells:
        _transform_cell(module, c, lambda p, s=shift: p + s)


def move_to(module, x=0.0, y=0.0, z=0.0, update_nodes: bool = False) -> None:
    """Move each selected cell so that the first traced point of its root branch lies
    at (x, y, z) µm; arrays of one value per selected cell place cells separately.

    Same restrictions as :meth:`move`. Cells without traced points are laid out with
    :meth:`compute_xyz` first.
    """
    del update_nodes
    cells = _whole_cells(module, "move_to")
    coords = [real_array(f"move_to: {name}", value, "a number (µm) or one per selected cell")
              for name, value in (("x", x), ("y", y), ("z", z))]
    try:
        target = np.stack(np.broadcast_arrays(*coords), axis=-1)
        target = np.broadcast_to(target, (len(cells), 3))
    except ValueError as err:
        raise ValueError(
            f"move_to expects scalars or one value per selected cell ({len(cells)}),"
            f" got x={x!r}, y={y!r}, z={z!r}"
        ) from err
    if not np.all(np.isfinite(target)):
        raise ValueError(f"move_to expects finite coordinates, got {(x, y, z)!r}")
    ensure_coordinates(module)
    topo = module.topology
    for c, point in zip(cells, target, strict=True):
        root = int(np.flatnonzero((topo.cell_of_branch == c) & (topo.parents < 0))[0])
        shift = point - np.asarray(module.base.xyzr[root], dtype=float)[0, :3]
        _transform_cell(module, c, lambda p, s=shift: p + s)


def rotate(module, degrees: float, rotation_axis: str = "xy", update_nodes: bool = False) -> None:
    """Rotate each selected cell clockwise by ``degrees`` about the origin in the plane
    ``rotation_axis`` ("xy", "xz" or "yz"), as jaxley 0.14: 90° in "xy" maps (1, 0) to
    (0, -1) (the first axis turns towards minus the second).

    Same restrictions as :meth:`move`; the compartment centres always follow.
    """
    del update_nodes
    if not isinstance(rotation_axis, str) or rotation_axis not in ROTATION_AXES:
        raise ValueError(f"rotation_axis must be one of {ROTATION_AXES}, got {rotation_axis!r}")

    angle = np.deg2rad(real_scalar("rotate: degrees", degrees, unit="degrees"))
    cells = _whole_cells(module, "rotate")
    ensure_coordinates(module)
    i, j = ("xyz".index(rotation_axis[0]), "xyz".index(rotation_axis[1]))
    matrix = np.eye(3)
    matrix[i, i] = matrix[j, j] = np.cos(angle)
    matrix[i, j], matrix[j, i] = np.sin(angle), -np.sin(angle)
    for c in cells:
        _transform_cell(module, c, lambda p, m=matrix: p @ m.T)


def _transform_cell(module, cell: int, transform) -> None:
    base = module.base
    topo = base.topology
    for b in np.flatnonzero(topo.cell_of_branch == cell):
        points = np.array(base.xyzr[b], dtype=float)
        points[:, :3] = transform(points[:, :3])
        base.xyzr[b] = points
    rows = base._nodes["global_cell_index"].to_numpy() == cell
    xyz = base._nodes.loc[rows, ["x", "y", "z"]].to_numpy(dtype=float)
    base._nodes.loc[rows, ["x", "y", "z"]] = transform(xyz)


def _whole_cells(module, action: str) -> np.ndarray:
    """Global indices of the cells of the selection; ValueError if only part of a
    cell is selected."""
    require_compartments(module, action)
    base = module.base
    cell_col = base._nodes["global_cell_index"].to_numpy()
    selected = np.isin(base._nodes.index.to_numpy(), module._node_inds)
    cells = np.unique(cell_col[selected])
    if not np.all(selected[np.isin(cell_col, cells)]):
        raise ValueError(
            f"{action} acts on whole cells, but this {type(module).__name__} selects only"
            f" part of a cell: move the whole cell (call {action} on the cell, e.g."
            f" view.base.{action}(...))"
        )
    return cells


# ---------------------------------------------------------------------- checks
def check_xyzr(xyzr, n_branches: int) -> list[np.ndarray]:
    """Check user-given traced points: one (N, 4) array of x, y, z, radius (µm) per branch.

    N >= 1 points per branch; coordinates finite or NaN (NaN: not traced, as hand-built
    branches); radii positive or NaN. Returns float copies.
    """
    if isinstance(xyzr, np.ndarray) and xyzr.ndim == 3:
        xyzr = list(xyzr)
    if not isinstance(xyzr, list | tuple):
        raise TypeError(
            f"xyzr must be a list with one (N, 4) array (x, y, z, radius in µm) per branch;"
            f" got {show(xyzr)}"
        )
    if len(xyzr) != n_branches:
        raise ValueError(f"xyzr needs one array per branch ({n_branches}), got {len(xyzr)}")
    checked = []
    for b, points in enumerate(xyzr):
        name = f"xyzr[{b}]"
        arr = real_array(name, points, "an (N, 4) array of x, y, z, radius (µm)")
        if arr.ndim != 2 or arr.shape[1] != 4 or arr.shape[0] < 1:
            raise ValueError(
                f"{name} must have shape (N, 4) with N >= 1 (columns x, y, z, radius in µm);"
                f" got shape {arr.shape}"
            )
        if np.any(np.isinf(arr)):
            raise ValueError(f"{name} must be finite (NaN marks untraced points); got"
                             f" {show(points)}")
        radius = arr[:, 3]
        if np.any(radius[~np.isnan(radius)] <= 0):
            raise ValueError(f"{name} radii (column 3) must be positive µm or NaN; got"
                             f" {radius.tolist()[:8]}")
        checked.append(arr)
    return checked


# ---------------------------------------------------------------------- helpers
def row_of_comp(base) -> np.ndarray:
    """Row position in ``base._nodes`` of each compartment, in global compartment order."""
    return np.argsort(base._nodes["global_comp_index"].to_numpy(), kind="stable")


def comp_bounds(lengths: np.ndarray) -> np.ndarray:
    """Compartment boundaries as fractions of the branch's path, from their lengths."""
    total = float(np.sum(lengths))
    if not np.isfinite(total) or total <= 0:
        return np.linspace(0.0, 1.0, len(lengths) + 1)
    bounds = np.concatenate([[0.0], np.cumsum(lengths) / total])
    bounds[-1] = 1.0
    return bounds


def path_fractions(points: np.ndarray) -> np.ndarray:
    """Cumulative path length of each traced point as a fraction of the total."""
    steps = np.linalg.norm(np.diff(points[:, :3], axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(steps)])
    if s[-1] <= 0:
        return np.linspace(0.0, 1.0, len(points)) if len(points) > 1 else np.zeros(1)
    return s / s[-1]


def point_at(points: np.ndarray, fraction: float) -> np.ndarray:
    """The point (x, y, z, r) at ``fraction`` of the polyline's path length."""
    points = np.asarray(points, dtype=float)
    if len(points) == 1:
        return points[0].copy()
    s = path_fractions(points)
    return np.array([np.interp(fraction, s, points[:, d]) for d in range(points.shape[1])])
