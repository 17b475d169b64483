"""Parse and validate SWC text.

SWC rows: ``id type x y z radius parent`` (µm; parent -1 marks a root; type 1 soma, 2 axon,
3 basal dendrite, 4 apical dendrite, anything else custom). Every problem is a ValueError that
names the line.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np


@dataclasses.dataclass(frozen=True)
class SwcPoints:
    """Validated SWC points, rows in file order.

    Attributes:
        ids: (n,) point ids.
        types: (n,) SWC type ids.
        xyz: (n, 3) coordinates (µm).
        radius: (n,) radii (µm).
        parent: (n,) row index of each point's parent, -1 for the root.
        lines: (n,) 1-based line number of each row in the file.
    """

    ids: np.ndarray
    types: np.ndarray
    xyz: np.ndarray
    radius: np.ndarray
    parent: np.ndarray
    lines: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    def children(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in range(self.n)]
        for row, p in enumerate(self.parent):
            if p >= 0:
                kids[p].append(row)
        return kids


def parse_swc(text: str, source: str = "<swc>", min_radius: float | None = None) -> SwcPoints:
    """Parse SWC ``text``; ``min_radius`` (µm) lifts smaller radii instead of refusing them.

    Several roots (disconnected pieces) are allowed here: :func:`keep_main_tree` then keeps
    the piece with the soma (or the largest) and warns about the rest.
    """
    rows, lines = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").split()
        if len(fields) < 7:
            raise ValueError(
                f"{source}, line {number}: expected 7 columns (id type x y z radius parent),"
                f" got {len(fields)}: {raw.strip()!r}"
            )
        try:
            values = [float(f) for f in fields[:7]]
        except ValueError:
            raise ValueError(
                f"{source}, line {number}: non-numeric value in {raw.strip()!r}"
            ) from None
        if not all(np.isfinite(values)):
            raise ValueError(f"{source}, line {number}: non-finite value in {raw.strip()!r}")
        for col, name in ((0, "id"), (1, "type"), (6, "parent")):
            if values[col] != int(values[col]):
                raise ValueError(f"{source}, line {number}: {name} must be an integer, got"
                                 f" {fields[col]!r}")
        rows.append(values)
        lines.append(number)
    if not rows:
        raise ValueError(f"{source}: no SWC points (the file is empty or only comments)")
    table = np.asarray(rows)
    lines_arr = np.asarray(lines)
    ids = table[:, 0].astype(np.int64)
    parent_ids = table[:, 6].astype(np.int64)
    radius = table[:, 5].copy()

    seen: dict[int, int] = {}
    for row, pid in enumerate(ids):
        if pid in seen:
            raise ValueError(f"{source}, line {lines_arr[row]}: duplicate id {pid} (first on line"
                             f" {lines_arr[seen[pid]]})")
        seen[pid] = row
    parent = np.full(len(ids), -1, dtype=np.int64)
    for row, pid in enumerate(parent_ids):
        if pid == -1:
            continue
        if pid not in seen:
            raise ValueError(f"{source}, line {lines_arr[row]}: parent id {pid} of point"
                             f" {ids[row]} does not exist")
        if pid == ids[row]:
            raise ValueError(f"{source}, line {lines_arr[row]}: point {pid} is its own parent")
        parent[row] = seen[pid]
    _check_acyclic(parent, ids, lines_arr, source)

    bad = np.flatnonzero(~(radius > 0)) if min_radius is None else np.array([], dtype=int)
    if bad.size:
        row = bad[0]
        raise ValueError(
            f"{source}, line {lines_arr[row]}: radius {radius[row]} of point {ids[row]} is not"
            f" positive ({bad.size} such points); pass min_radius=... to read_swc to lift"
            " small radii"
        )
    if min_radius is not None:
        if not min_radius > 0:
            raise ValueError(f"min_radius must be positive (µm), got {min_radius!r}")
        radius = np.maximum(radius, min_radius)
    return SwcPoints(
        ids=ids,
        types=table[:, 1].astype(np.int64),
        xyz=table[:, 2:5].copy(),
        radius=radius,
        parent=parent,
        lines=lines_arr,
    )


def _check_acyclic(parent, ids, lines, source) -> None:
    state = np.zeros(len(parent), dtype=np.int8)  # 0 new, 1 on current path, 2 done
    for start in range(len(parent)):
        path = []
        node = start
        while node >= 0 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node >= 0 and state[node] == 1:
            raise ValueError(f"{source}, line {lines[node]}: the parent links of point"
                             f" {ids[node]} form a cycle")
        state[path] = 2


def keep_main_tree(points: SwcPoints, source: str = "<swc>") -> SwcPoints:
    """Keep the connected piece holding the soma (else the largest); warn about the rest."""
    roots = np.flatnonzero(points.parent < 0)
    if len(roots) == 1:
        return points
    root_of = np.empty(points.n, dtype=np.int64)
    for row in range(points.n):  # parents may come after children: walk up
        node = row
        while points.parent[node] >= 0:
            node = points.parent[node]
        root_of[row] = node
    sizes = {r: int(np.sum(root_of == r)) for r in roots}
    soma_roots = [r for r in roots if np.any((root_of == r) & (points.types == 1))]
    keep = max(soma_roots or roots, key=lambda r: sizes[r])
    dropped = [f"{sizes[r]} points from id {points.ids[r]} (line {points.lines[r]})"
               for r in roots if r != keep]
    warnings.warn(
        f"{source}: {len(roots)} disconnected pieces; kept the one rooted at id"
        f" {points.ids[keep]} ({sizes[keep]} points), dropped " + "; ".join(dropped),
        stacklevel=3,
    )
    rows = np.flatnonzero(root_of == keep)
    new_index = np.full(points.n, -1, dtype=np.int64)
    new_index[rows] = np.arange(len(rows))
    parent = points.parent[rows]
    return SwcPoints(
        ids=points.ids[rows], types=points.types[rows], xyz=points.xyz[rows],
        radius=points.radius[rows], parent=np.where(parent >= 0, new_index[parent], -1),
        lines=points.lines[rows],
    )
