"""Compartment segments of a module: straight pieces of its traced morphology (µm).

Each compartment of a branch covers the stretch of the branch's traced path (``xyzr``)
between the cumulative fractions of its compartment lengths (the convention of the
compartment centres ``.nodes`` x, y, z, which lie at the middle of each stretch). Its
segment is the straight line from the start to the end of that stretch; its diameter is
twice the compartment radius. Compartments are in global compartment order.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
from jax import Array, tree_util

from simulator.extracellular.checks import points_array, positive_array


@tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True)
class Segments:
    """Line segments of compartments.

    Attributes:
        starts, ends: (n_comps, 3) µm, the segment end points.
        diameters: (n_comps,) µm.
        centres: (n_comps, 3) µm, where a compartment's V_e is evaluated for stimulation
            (the compartment centres; the segment midpoints when built from arrays).
    """

    starts: Array
    ends: Array
    diameters: Array
    centres: Array

    @property
    def midpoints(self) -> Array:
        """(n_comps, 3) µm, the middle of each straight segment (the point-source position)."""
        return (self.starts + self.ends) / 2.0

    def tree_flatten(self):
        return (self.starts, self.ends, self.diameters, self.centres), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        del aux
        return cls(*children)


def segments_from_arrays(starts, ends, diameters, centres=None) -> Segments:
    """Checked :class:`Segments` from (n, 3) µm end points and (n,) µm diameters."""
    starts, ends = points_array("starts", starts), points_array("ends", ends)
    diameters = positive_array("diameters", diameters, "µm")
    n = starts.shape[0] if starts.ndim == 2 else -1
    if starts.shape != (n, 3) or ends.shape != (n, 3) or diameters.shape != (n,):
        raise ValueError(
            "segments need starts and ends of shape (n, 3) µm and diameters of shape (n,) µm;"
            f" got {starts.shape}, {ends.shape}, {diameters.shape}"
        )
    centres = (starts + ends) / 2.0 if centres is None else points_array("centres", centres)
    return Segments(*(jnp.asarray(a) for a in (starts, ends, diameters, centres)))


def module_segments(module) -> Segments:
    """The :class:`Segments` of every compartment of ``module`` (a cell, network or view).

    Reads ``module.base.xyzr`` (per global branch) and ``module.nodes`` (columns
    global_comp_index, global_branch_index, length, radius, x, y, z); a view gives the
    segments of its own compartments. Raises ValueError if a branch has no traced
    coordinates (a hand-built cell: call ``compute_xyz()`` first or read an SWC).
    """
    xyzr = module.base.xyzr
    nodes = module.nodes.sort_values("global_comp_index", kind="stable")
    branch = nodes["global_branch_index"].to_numpy()
    lengths = nodes["length"].to_numpy(dtype=float)
    starts, ends = [], []
    for b in _in_order(branch):
        path = np.asarray(xyzr[b], dtype=float)[:, :3]
        if not np.all(np.isfinite(path)):
            raise ValueError(
                f"branch {b} has no traced coordinates (xyzr is NaN): call"
                " module.compute_xyz() for a synthetic layout, or read the cell from an SWC"
                " file, before computing extracellular segments"
            )
        bounds = _bounds(lengths[branch == b])
        starts.append(_points_at(path, bounds[:-1]))
        ends.append(_points_at(path, bounds[1:]))
    centres = nodes[["x", "y", "z"]].to_numpy(dtype=float)
    diameters = 2.0 * nodes["radius"].to_numpy(dtype=float)
    return segments_from_arrays(np.concatenate(starts), np.concatenate(ends), diameters,
                                centres)


def _in_order(values: np.ndarray) -> np.ndarray:
    """Unique values in order of first appearance."""
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _bounds(lengths: np.ndarray) -> np.ndarray:
    """Compartment boundaries (n + 1,) as fractions of the branch path, from lengths (µm)."""
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    if cumulative[-1] <= 0:
        return np.linspace(0.0, 1.0, len(lengths) + 1)
    return cumulative / cumulative[-1]


def _points_at(path: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Points (k, 3) at the given fractions of the polyline ``path`` (m, 3)'s length."""
    if len(path) == 1:
        return np.repeat(path, len(fractions), axis=0)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    s = arc / arc[-1] if arc[-1] > 0 else np.linspace(0.0, 1.0, len(path))
    return np.stack([np.interp(fractions, s, path[:, d]) for d in range(3)], axis=-1)
