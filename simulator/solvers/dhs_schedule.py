"""The DHS schedule of a tree (numpy, at build time): node order, levels and parents.

``build_schedule`` turns a parent array into the :class:`TreeSchedule` that
:func:`simulator.solvers.dhs.tree_solve` sweeps (the module docstring there describes the
elimination order and the level width).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np


def _pointer_jump(parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(root, depth)``: (n,) root node and depth (edges to the root) of every node of a
    forest given by int64 ``parents`` (-1 at roots), by pointer doubling."""
    n = parents.shape[0]
    jump = np.where(parents >= 0, parents, np.arange(n))
    depth = (parents >= 0).astype(np.int64)
    for _ in range(max(1, int(n).bit_length())):
        depth = depth + depth[jump]
        jump = jump[jump]
    return jump, depth


def tree_roots(parents) -> np.ndarray:
    """(n,) root node of every node of a forest given by ``parents`` (-1 at roots)."""
    return _pointer_jump(np.asarray(parents, dtype=np.int64))[0]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def check_parents(parents) -> np.ndarray:
    """Validate a parent array and return it as a read-only int64 numpy array.

    Args:
        parents: ``(n,)`` integers; ``parents[i]`` is the parent of node ``i`` or ``-1``
            for a root. Several roots (a forest) are allowed; ``n == 0`` is allowed.

    Raises:
        TypeError: if ``parents`` is not an integer array.
        ValueError: if it is not 1-D, has an entry outside ``[-1, n)``, a node is its
            own parent, or the parent pointers contain a cycle.
    """
    arr = np.asarray(parents)
    if arr.ndim != 1:
        raise ValueError(f"parents must be a 1-D array, got shape {arr.shape}")
    n = arr.shape[0]
    if n == 0:
        return _readonly(np.zeros(0, np.int64))
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"parents must be an integer array, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < -1) | (arr >= n))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"parents[{i}] = {int(arr[i])} is out of range: entries must be -1 (root) "
            f"or a node index in [0, {n})"
        )
    selfp = np.flatnonzero(arr == np.arange(n))
    if selfp.size:
        i = int(selfp[0])
        raise ValueError(f"node {i} is its own parent (parents[{i}] = {i})")
    # Pointer jumping (tree_roots) reaches every root of a forest; a node that still points
    # at a non-root lies on or below a cycle.
    stuck = np.flatnonzero(arr[tree_roots(arr)] >= 0)
    if stuck.size:
        node = int(stuck[0])
        for _ in range(n):  # n steps from anywhere in a functional graph land on the cycle
            node = int(arr[node])
        cycle = [node]
        nxt = int(arr[node])
        while nxt != node:
            cycle.append(nxt)
            nxt = int(arr[nxt])
        path = " -> ".join(str(c) for c in cycle + [node])
        raise ValueError(f"parents contains a cycle through node {node}: {path}")
    return _readonly(arr)


@dataclasses.dataclass(frozen=True, eq=False)
class TreeSchedule:
    """Static DHS elimination schedule of a tree (forest); numpy arrays only.

    Attributes:
        n: number of unknowns.
        width: maximum number of nodes eliminated per level.
        order: ``(n,)`` solve position -> node index; parents precede children.
        position: ``(n,)`` node index -> solve position (inverse of ``order``).
        parent: ``(n,)`` solve position of each solve position's parent; roots get
            ``n`` (the dummy slot).
        levels: ``(n_levels, width)`` int32 solve positions eliminated per level, leaves
            first, padded with ``n``. Roots appear in no level; every other node in
            exactly one.
        level_parents: ``(n_levels, width)`` int32, ``parent`` of each ``levels`` entry
            (``n`` for padding).
        parents: ``(n,)`` the validated input: parent node of each node, ``-1`` at roots.

    Equality and hashing go by ``(parents, width)``, which determine everything else,
    so a schedule can be a static argument of ``jax.jit``.
    """

    n: int
    width: int
    order: np.ndarray
    position: np.ndarray
    parent: np.ndarray
    levels: np.ndarray
    level_parents: np.ndarray
    parents: np.ndarray

    @property
    def n_levels(self) -> int:
        """Number of sequential elimination steps."""
        return int(self.levels.shape[0])

    @property
    def n_roots(self) -> int:
        """Number of roots (independent trees)."""
        return int(np.count_nonzero(self.parents < 0))

    def __eq__(self, other) -> bool:
        if not isinstance(other, TreeSchedule):
            return NotImplemented
        return self.width == other.width and np.array_equal(self.parents, other.parents)

    def __hash__(self) -> int:
        return hash((self.n, self.width, self.parents.tobytes()))

    def __repr__(self) -> str:
        return (
            f"TreeSchedule(n={self.n}, width={self.width}, n_levels={self.n_levels}, "
            f"n_roots={self.n_roots})"
        )


def _deepest_ready_first(par: np.ndarray, depth: np.ndarray, width: int):
    """``(elim, sizes)``: the non-root nodes in elimination order, filled into levels of at
    most ``width`` nodes, deepest ready node (all children eliminated) first; ``sizes`` the
    number of nodes of each level."""
    nonroot = par >= 0
    n_children = np.bincount(par[nonroot], minlength=par.shape[0])
    max_depth = int(depth.max()) if par.shape[0] else 0
    buckets = [deque() for _ in range(max_depth + 1)]
    for leaf in np.flatnonzero(nonroot & (n_children == 0)).tolist():
        buckets[depth[leaf]].append(leaf)
    remaining = n_children.tolist()
    par_l = par.tolist()
    depth_l = depth.tolist()
    top = max_depth
    elim: list[int] = []
    sizes: list[int] = []
    total = int(np.count_nonzero(nonroot))
    while len(elim) < total:
        level: list[int] = []
        while len(level) < width:
            while top > 0 and not buckets[top]:
                top -= 1
            if top == 0:  # depth 0 holds only roots, which are never eliminated
                break
            level.append(buckets[top].popleft())
        for c in level:
            p = par_l[c]
            remaining[p] -= 1
            if remaining[p] == 0 and par_l[p] >= 0:
                dp = depth_l[p]
                buckets[dp].append(p)
                top = max(top, dp)
        elim.extend(level)
        sizes.append(len(level))
    return np.asarray(elim, np.int64), np.asarray(sizes, np.int64)


def build_schedule(parents, width: int = 1) -> TreeSchedule:
    """Build the DHS schedule of a tree or forest.

    Args:
        parents: ``(n,)`` ints, ``parents[i]`` = parent node of node ``i``, ``-1`` for a
            root. Node labels need not be topologically ordered.
        width: maximum number of nodes eliminated per level (positive int); 1 gives
            sequential Hines order.

    Returns:
        The ``TreeSchedule``. Levels are filled deepest-ready-node first, which gives
        the minimal number of levels for the given width.

    Raises:
        ValueError: bad ``width``, or ``parents`` out of range, self-parented or cyclic
            (see ``check_parents``).
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    width = int(width)
    par = check_parents(parents)
    n = par.shape[0]
    nonroot = par >= 0
    roots = np.flatnonzero(~nonroot)
    depth = _pointer_jump(par)[1]

    if width == 1:
        # With one node per level the deepest remaining node is always ready (its
        # children are deeper), so deepest-first is a stable sort by depth.
        cand = np.flatnonzero(nonroot)
        elim = cand[np.argsort(-depth[cand], kind="stable")]
        sizes = np.ones(elim.shape[0], np.int64)
    else:
        elim, sizes = _deepest_ready_first(par, depth, width)

    # Solve positions: roots first, then the reverse elimination sequence.
    order = np.concatenate([roots, elim[::-1]]).astype(np.int32)
    position = np.empty(n, np.int32)
    position[order] = np.arange(n, dtype=np.int32)
    parent = np.where(nonroot[order], position[np.maximum(par[order], 0)], n).astype(np.int32)

    n_levels = sizes.shape[0]
    levels = np.full((n_levels, width), n, np.int32)
    rows = np.repeat(np.arange(n_levels), sizes)
    cols = np.arange(elim.shape[0]) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    levels[rows, cols] = n - 1 - np.arange(elim.shape[0])  # position of elim[j]
    level_parents = np.append(parent, np.int32(n)).astype(np.int32)[levels]

    return TreeSchedule(
        n=int(n),
        width=width,
        order=_readonly(order),
        position=_readonly(position),
        parent=_readonly(parent),
        levels=_readonly(levels),
        level_parents=_readonly(level_parents),
        parents=par,
    )
