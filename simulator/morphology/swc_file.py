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
    table, lines_arr = _read_table(text, source)
    ids = table[:, 0].astype(np.int64)
    parent_ids = table[:, 6].astype(np.int64)
    radius = table[:, 5].copy()
    parent = _parent_rows(ids, parent_ids, lines_arr, source)
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
    return SwcPoints(ids=ids, types=table[:, 1].astype(np.int64), xyz=table[:, 2:5].copy(),
                     radius=radius, parent=parent, lines=lines_arr)


def _read_table_slow(text: str, source: str):
    """Line by line; raises the ValueError of the first bad line."""
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
    return np.asarray(rows), np.asarray(lines)


def _read_table(text: str, source: str):
    """(n, 7) values and the 1-based line number of each row, parsed in one pass over the
    text's tokens (no container per line, so the time stays linear); any bad line sends
    the text to :func:`_read_table_slow`, which names the first one."""
    lines = text.replace(",", " ").splitlines()
    if "#" in text:
        lines = [line.split("#", 1)[0] for line in lines]
    counts = np.fromiter(map(len, map(str.split, lines)), dtype=np.int64, count=len(lines))
    kept = np.flatnonzero(counts > 0)
    if kept.size == 0 or counts[kept].min() < 7:
        return _read_table_slow(text, source)
    if counts[kept].max() > 7:  # extra columns are ignored
        flat = [f for i in kept for f in lines[i].split()[:7]]
    else:
        flat = " ".join(lines).split()
    try:
        table = np.array(list(map(float, flat))).reshape(-1, 7)
    except ValueError:
        return _read_table_slow(text, source)
    ints = table[:, [0, 1, 6]]
    if not np.all(np.isfinite(table)) or np.any(ints != np.trunc(ints)):
        return _read_table_slow(text, source)
    return table, kept + 1


def _parent_rows(ids, parent_ids, lines_arr, source):
    """Row index of each point's parent (-1 for roots); refuses duplicate ids, missing
    parents and points that are their own parent (sorting, not a dict per point)."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.minimum(np.searchsorted(sorted_ids, parent_ids), len(ids) - 1)
    found = sorted_ids[pos] == parent_ids
    if (np.any(sorted_ids[1:] == sorted_ids[:-1]) or np.any(~found & (parent_ids != -1))
            or np.any(parent_ids == ids)):
        return _parent_rows_slow(ids, parent_ids, lines_arr, source)
    return np.where(parent_ids == -1, -1, order[pos]).astype(np.int64)


def _parent_rows_slow(ids, parent_ids, lines_arr, source):
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
    return parent


def _root_of(parent: np.ndarray) -> np.ndarray:
    """Row of the root above each row of an acyclic parent array (pointer doubling)."""
    up = np.where(parent < 0, np.arange(len(parent)), parent)
    while True:
        nxt = up[up]
        if np.array_equal(nxt, up):
            return up
        up = nxt


def _check_acyclic(parent, ids, lines, source) -> None:
    rows = np.arange(len(parent))
    if np.all(parent < rows):  # parents before children: no cycle possible
        return
    up = np.where(parent < 0, rows, parent)
    for _ in range(int(np.ceil(np.log2(max(len(parent), 2)))) + 1):
        up = up[up]
    if np.all(parent[up] < 0):  # every walk up ends at a root
        return
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


#: Dropped pieces named in the warning of :func:`keep_main_tree` (the rest are counted).
DROPPED_SHOWN = 20


def keep_main_tree(points: SwcPoints, source: str = "<swc>") -> SwcPoints:
    """Keep the connected piece holding the soma (else the largest); warn about the rest."""
    roots = np.flatnonzero(points.parent < 0)
    if len(roots) == 1:
        return points
    root_of = _root_of(points.parent)  # parents may come after children
    counts = np.bincount(root_of, minlength=points.n)
    sizes = {r: int(counts[r]) for r in roots}
    soma_counts = np.bincount(root_of, weights=points.types == 1, minlength=points.n)
    soma_roots = [r for r in roots if soma_counts[r] > 0]
    keep = max(soma_roots or roots, key=lambda r: sizes[r])
    others = [r for r in roots if r != keep]
    dropped = [f"{sizes[r]} points from id {points.ids[r]} (line {points.lines[r]})"
               for r in others[:DROPPED_SHOWN]]
    if len(others) > DROPPED_SHOWN:
        dropped.append(f"and {len(others) - DROPPED_SHOWN} more pieces")
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
