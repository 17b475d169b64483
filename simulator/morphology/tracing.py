"""Sections from SWC points, following the rules of NEURON's Import3d SWC reader.

So that ``read_swc(f, ncomp)`` and NEURON's ``Import3d`` with ``nseg = ncomp`` describe the
same cable, sections are cut exactly where NEURON cuts them:

* points are taken in id order; a section is a run of consecutive points, each the only
  child of the previous one with the same SWC type. A section ends at a point with no
  child, several children, a child of another type, or a child that is not the next point
  in the file (a tracing interruption);
* consecutive soma points stay in one section even where dendrites leave them, unless a
  non-root soma point has several soma children; dendrites leaving the inside of a soma
  section attach at its middle (x = 0.5), as NEURON does;
* every non-root section begins at its parent point, so the cable is continuous. After a
  soma point it takes its own first radius there; where NEURON connects it "by wire" (a
  dendrite leaving a single-point soma, the interior of a soma section, or a soma point
  with several soma children) it begins at its own first point instead;
* children of the root's first point attach at x = 0; children of a non-root point that
  ends a wire-connected dendrite attach to that dendrite's proximal end;
* a single-point soma (and NeuroMorpho's three-point soma) becomes a cylinder along x of
  length and diameter 2r (area 4πr²) whose children attach at x = 0.5.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simulator.morphology.swc_file import SwcPoints


@dataclasses.dataclass(frozen=True)
class Section:
    """One unbranched piece of the traced morphology.

    Attributes:
        xyz: (m, 3) traced points (µm), proximal first.
        radius: (m,) radii (µm).
        swc_type: SWC type id of the section's own points.
        parent: index of the parent section, -1 for the root.
        attach: position x in [0, 1] on the parent where this section begins.
        rows: SWC rows of the section's own points.
    """

    xyz: np.ndarray
    radius: np.ndarray
    swc_type: int
    parent: int
    attach: float
    rows: tuple[int, ...]

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.xyz, axis=0), axis=1).sum())


def _file_order(points: SwcPoints, depth_first: bool) -> np.ndarray:
    """Row order used for tracing: by id (NEURON), or depth-first if asked or if a parent
    follows its child. Depth-first order has no tracing interruptions."""
    order = np.argsort(points.ids, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    has_parent = points.parent[order] >= 0
    parents_first = np.all(rank[points.parent[order][has_parent]] < np.flatnonzero(has_parent))
    if parents_first and not depth_first:
        return order
    kids = points.children()
    root = int(np.flatnonzero(points.parent < 0)[0])
    stack, out = [root], []
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(sorted(kids[node], key=lambda r: points.ids[r], reverse=True))
    return np.asarray(out)


@dataclasses.dataclass(frozen=True)
class TracedSections:
    """All traced sections in flat arrays; section i is ``self[i]`` (a :class:`Section`).

    Attributes:
        xyz: (N, 3) traced points of every section (µm), section after section; section i's
            are rows ``offsets[i]:offsets[i + 1]``.
        radius: (N,) their radii (µm).
        offsets: (n + 1,) first point of each section, then N.
        swc_type, parent, attach: (n,) as in :class:`Section`.
        rows: SWC rows of every section's own points; section i's are
            ``rows[row_offsets[i]:row_offsets[i + 1]]``.
        row_offsets: (n + 1,).
    """

    xyz: np.ndarray
    radius: np.ndarray
    offsets: np.ndarray
    swc_type: np.ndarray
    parent: np.ndarray
    attach: np.ndarray
    rows: np.ndarray
    row_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.swc_type)

    def __getitem__(self, i: int) -> Section:
        a, b = self.offsets[i], self.offsets[i + 1]
        return Section(self.xyz[a:b], self.radius[a:b], int(self.swc_type[i]),
                       int(self.parent[i]), float(self.attach[i]),
                       tuple(self.rows[self.row_offsets[i] : self.row_offsets[i + 1]].tolist()))

    def to_list(self) -> list[Section]:
        return [self[i] for i in range(len(self))]

    @classmethod
    def from_list(cls, sections: list[Section]) -> TracedSections:
        n_points = [len(s.radius) for s in sections]
        n_rows = [len(s.rows) for s in sections]
        return cls(
            xyz=np.concatenate([s.xyz for s in sections]).reshape(-1, 3),
            radius=np.concatenate([s.radius for s in sections]),
            offsets=np.concatenate([[0], np.cumsum(n_points)]).astype(np.int64),
            swc_type=np.asarray([s.swc_type for s in sections], dtype=np.int64),
            parent=np.asarray([s.parent for s in sections], dtype=np.int64),
            attach=np.asarray([s.attach for s in sections], dtype=float),
            rows=np.asarray([r for s in sections for r in s.rows], dtype=np.int64),
            row_offsets=np.concatenate([[0], np.cumsum(n_rows)]).astype(np.int64),
        )

    def lengths(self) -> np.ndarray:
        """Path length (µm) of each section, equal bit for bit to :attr:`Section.length`
        (pieces summed in order where there are fewer than 8, as ``np.sum`` does)."""
        norms = np.linalg.norm(np.diff(self.xyz, axis=0), axis=1)
        first = self.offsets[:-1]
        pieces = np.maximum(np.diff(self.offsets) - 1, 0)
        out = np.zeros(len(self))
        for k in range(7):
            has = np.flatnonzero(pieces > k)
            out[has] += norms[first[has] + k]
        for i in np.flatnonzero(pieces >= 8):
            out[i] = float(norms[first[i] : first[i] + pieces[i]].sum())
        return out


def trace_sections_flat(points: SwcPoints, join_interruptions: bool = False) -> TracedSections:
    """Split a single-rooted point tree into sections (parents before children), without a
    Python loop per point or per section (linear time).

    ``join_interruptions=True`` does not end a section where the next point of a chain comes
    later in the file (a tracing interruption); NEURON does end it there.
    """
    order = _file_order(points, depth_first=join_interruptions)
    n = len(order)
    rank = np.empty(points.n, dtype=np.int64)
    rank[order] = np.arange(n)
    kind = points.types[order]
    par = np.where(points.parent[order] >= 0, rank[np.maximum(points.parent[order], 0)], -1)
    xyz, radius = points.xyz[order], points.radius[order]
    starts, ends, par, sphere, soma_children, to_proximal = _cut(kind, par, xyz, radius)

    # The root section (the soma).
    own0 = np.arange(starts[0], starts[0] + 1 if sphere else ends[0] + 1)
    root_xyz, root_radius = xyz[own0], radius[own0]
    if len(own0) == 1:
        c, r = root_xyz[0], root_radius[0]
        root_xyz = np.array([c - [r, 0, 0], c, c + [r, 0, 0]])
        root_radius = np.full(3, r)

    # Every other section: its own points, after its parent point unless wire-connected.
    psec, attach, wire, dendrite_on_soma = _attachments(kind, par, starts, ends, sphere,
                                                        soma_children, to_proximal)
    first = starts[1:]
    p = par[first]
    n_own = ends[1:] - first + 1
    prefix = (~wire).astype(np.int64)
    counts = n_own + prefix
    sec = np.repeat(np.arange(len(first)), counts)
    pos = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    at_prefix = (prefix[sec] == 1) & (pos == 0)
    own_point = first[sec] + pos - prefix[sec]
    point_src = np.where(at_prefix, p[sec], own_point)
    radius_src = np.where(at_prefix, np.where(dendrite_on_soma, first, p)[sec], own_point)

    n_points = np.concatenate([[len(root_radius)], counts])
    n_rows = np.concatenate([[len(own0)], n_own])
    own_rows = np.concatenate([own0, np.arange(starts[1], n) if len(first) else own0[:0]])
    return TracedSections(
        xyz=np.concatenate([root_xyz, xyz[point_src]]),
        radius=np.concatenate([root_radius, radius[radius_src]]),
        offsets=np.concatenate([[0], np.cumsum(n_points)]).astype(np.int64),
        swc_type=kind[starts].astype(np.int64),
        parent=np.concatenate([[-1], psec]).astype(np.int64),
        attach=np.concatenate([[0.0], attach]),
        rows=order[own_rows].astype(np.int64),
        row_offsets=np.concatenate([[0], np.cumsum(n_rows)]).astype(np.int64),
    )


def _cut(kind, par, xyz, radius):
    """Where sections start and end, in tracing order: ``(starts, ends, par, sphere,
    soma_children, to_proximal)`` with ``par`` the parents (a 3-point soma's third point
    re-parented to its second), ``sphere`` whether the soma is NeuroMorpho's 3-point one,
    ``soma_children`` the soma children per point and ``to_proximal`` the points that attach
    to their parent section's proximal end."""
    n = len(kind)
    idx = np.arange(n)
    # A point continues its section iff NEURON's weight of its children is exactly one:
    # 1 per child, +0.01 for a child that is not the next point or of another type; a child
    # that is not the next point of a wire-connected dendrite (or of a non-soma root)
    # resets the weight to 1 and attaches to the proximal end.
    child = idx[par >= 0]
    p_of = par[child]
    n_children = np.bincount(p_of, minlength=n)
    resets = ((idx > 1) & (kind != 1) & (kind[np.maximum(par, 0)] == 1)) | (
        (idx == 0) & (kind[0] != 1))
    non_next = child != p_of + 1
    to_proximal = np.zeros(n, dtype=bool)
    to_proximal[child] = resets[p_of] & non_next
    was_reset = np.zeros(n, dtype=bool)
    was_reset[p_of[resets[p_of] & non_next]] = True
    last_child = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_child, p_of, child)
    same_kind_last = kind[np.maximum(last_child, 0)] == kind
    continues = (was_reset & same_kind_last) | (
        ~was_reset & (n_children == 1) & (last_child == idx + 1) & same_kind_last)
    soma_pair = (kind[child] == 1) & (kind[p_of] == 1)
    soma_children = np.bincount(p_of[soma_pair], minlength=n)
    sphere = _three_point_soma(kind, par, xyz, radius, n_children)
    if sphere:
        par = par.copy()
        par[2] = 1
    i = idx[:-1]
    continues[:-1] |= ((kind[:-1] == 1) & (kind[1:] == 1) & (par[1:] == i)
                       & ~((i != 0) & (soma_children[:-1] > 1)))
    ends = np.flatnonzero(~continues)
    if len(ends) == 0 or ends[-1] != n - 1:
        ends = np.append(ends, n - 1)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return starts, ends, par, sphere, soma_children, to_proximal


def _attachments(kind, par, starts, ends, sphere, soma_children, to_proximal):
    """Of every non-root section: ``(parent section, attach x, wire, dendrite_on_soma)``;
    ``wire``: it begins at its own first point instead of at its parent point."""
    section_of = np.repeat(np.arange(len(ends)), ends - starts + 1)
    first, last = starts[1:], ends[1:]
    p = par[first]
    psec = section_of[p]
    parent_first = starts[psec]
    parent_soma = kind[parent_first] == 1
    dendrite_on_soma = parent_soma & (kind[first] != 1)
    n_own = last - first + 1
    on_root = psec == 0
    a = on_root & dendrite_on_soma & ((ends[0] - starts[0] == 0) | sphere)
    b = on_root & ~a & (p == parent_first)
    d = ~(a | b) & parent_soma
    e = d & (p < parent_first + (ends[psec] - starts[psec] + 1) - 1)
    f = d & ~e & (n_own > 1) & (soma_children[p] > 1) & (kind[first] != 1)
    attach = np.where(a | e, 0.5, np.where(b, 0.0, 1.0))
    wire = np.where(a, n_own > 1, np.where(
        b, (kind[first] != 1) & (soma_children[p] > 1),
        np.where(e, dendrite_on_soma & (n_own > 1), f)))
    attach[to_proximal[first]] = 0.0
    return psec, attach, wire, dendrite_on_soma


def _three_point_soma(kind, par, xyz, radius, n_children) -> bool:
    """NeuroMorpho's 3-point soma: a root with two leaf soma points one diameter apart."""
    if int(np.sum(kind == 1)) != 3 or len(kind) < 3:
        return False
    if not (par[1] == 0 and par[2] == 0 and n_children[1] == 0 and n_children[2] == 0):
        return False
    if not (radius[1] == radius[0] and radius[2] == radius[0]):
        return False
    length = np.linalg.norm(xyz[1] - xyz[0]) + np.linalg.norm(xyz[2] - xyz[0])
    return abs(length / (2 * radius[0]) - 1) < 0.01
