"""jaxley's synthetic 2-D layout of branches without traced points, and ``arrange_in_layers``.

A hand-built module (``Compartment``, ``Branch``, ``Cell(branches, parents)``) has no traced
morphology. As jaxley 0.14 does at construction (and in ``compute_xyz``), every branch
without complete traced points gets two points (start, end) in the z = 0 plane:

* a root branch starts at the origin and runs along +x;
* a branch starts at its parent's end point (its distal end, where it attaches);
* the k-th of n > 1 children of a parent leaves in the direction (1, y) / |(1, y)| with
  ``y = (k / (n - 1) - 0.5) * spread[level]``, an only child continues along +x; ``spread``
  runs linearly from 5 at level 0 (children of a root) to 0.5 at the deepest level of the
  module (levels counted from the roots);
* its length is the sum of its compartment lengths (µm).

Directions are absolute, not relative to the parent's direction (so a branch may cross its
siblings' subtrees; the layout is for plotting only). Radii of the points stay as they were
(NaN for hand-built branches, as in jaxley; drawing uses the compartment radii).
"""

from __future__ import annotations

import numpy as np

#: ``y`` spread of the children's directions at level 0 and at the deepest level.
ROOT_SPREAD, DEEPEST_SPREAD = 5.0, 0.5


def branch_levels(parents: np.ndarray) -> np.ndarray:
    """Level of each branch (roots 0); parents precede their children."""
    levels = np.zeros(len(parents), dtype=np.int64)
    for b, p in enumerate(parents):
        levels[b] = 0 if p < 0 else levels[p] + 1
    return levels


def synthetic_points(parents: np.ndarray, lengths: np.ndarray, todo: np.ndarray,
                     end_of) -> dict[int, np.ndarray]:
    """Start and end point, (2, 3) µm, of each branch ``b`` with ``todo[b]``.

    Args:
        parents: (n,) parent branch of each branch, -1 for roots, parents first.
        lengths: (n,) branch lengths (µm).
        todo: (n,) bool, the branches to lay out.
        end_of: ``end_of(b)`` -> (3,) end point of a branch that is not laid out here
            (its last traced point).
    """
    parents = np.asarray(parents, dtype=np.int64)
    levels = branch_levels(parents)
    spread = np.linspace(ROOT_SPREAD, DEEPEST_SPREAD, int(levels.max(initial=0)) + 1)
    n_children = np.bincount(parents[parents >= 0], minlength=len(parents))
    seen = np.zeros(len(parents), dtype=np.int64)
    out: dict[int, np.ndarray] = {}
    for b, p in enumerate(parents):
        index = 0
        if p >= 0:
            index, seen[p] = seen[p], seen[p] + 1
        if not todo[b]:
            continue
        if p < 0:
            start, y = np.zeros(3), 0.0
        else:
            start = out[p][1] if p in out else np.asarray(end_of(p), dtype=float)
            n = n_children[p]
            y = (index / (n - 1) - 0.5) * spread[levels[b]] if n > 1 else 0.0
        direction = np.array([1.0, y, 0.0]) / np.sqrt(1.0 + y * y)
        out[b] = np.stack([start, start + float(lengths[b]) * direction])
    return out


def arrange_in_layers(net, layers, within_layer_offset: float = 500.0,
                      between_layer_offset: float = 1500.0,
                      vertical_layers: bool = False) -> None:
    """Move the cells of a network into layers (for plotting; jaxley 0.14's method).

    Args:
        layers: number of cells in each layer, in cell order; must sum to the number of
            cells (layer 0 holds the first ``layers[0]`` cells, ...).
        within_layer_offset: distance (µm) between neighbouring cells of a layer.
        between_layer_offset: distance (µm) between neighbouring layers.
        vertical_layers: False: layer l at x = l * between_layer_offset, its cells along
            y, centred on y = 0; True: layers stacked along y (the first on top, at
            y = (L - 1 - l) * between_layer_offset), cells along x centred on x = 0.

    The first traced point of each cell's root branch is moved to its place (z = 0), as
    :meth:`move_to` does.
    """
    from simulator.modules.arguments import real_scalar, show

    n_cells = int(net.base.topology.n_cells)
    counts = np.asarray(layers) if isinstance(layers, list | tuple | np.ndarray) else None
    if (counts is None or counts.ndim != 1 or counts.size == 0
            or not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 0)):
        raise TypeError(f"arrange_in_layers: layers must be a list of non-negative ints (cells"
                        f" per layer); got {show(layers)}")
    if int(counts.sum()) != n_cells:
        raise ValueError(f"arrange_in_layers: the layers hold {int(counts.sum())} cells, the"
                         f" network has {n_cells}; got layers={list(counts)}")
    within = real_scalar("arrange_in_layers: within_layer_offset", within_layer_offset,
                         unit="µm")
    between = real_scalar("arrange_in_layers: between_layer_offset", between_layer_offset,
                          unit="µm")
    layer = np.repeat(np.arange(counts.size), counts)
    position = np.arange(n_cells) - np.repeat(np.cumsum(counts) - counts, counts)
    across = (position - (counts[layer] - 1) / 2.0) * within
    if vertical_layers:
        x, y = across, (counts.size - 1 - layer) * between
    else:
        x, y = layer * between, across
    net.base.move_to(x=x.astype(float), y=y.astype(float), z=np.zeros(n_cells))
