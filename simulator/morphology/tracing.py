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


def trace_sections(points: SwcPoints, join_interruptions: bool = False) -> list[Section]:
    """Split a single-rooted point tree into sections (parents before children).

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

    # Section ends: weight of children (1 per child, +0.01 if not the next point or of
    # another type); a point ends a section unless its weight is exactly one.
    weight = np.zeros(n)
    to_proximal = np.zeros(n, dtype=bool)
    for i in range(1, n):
        p = par[i]
        if p < 0:
            continue
        weight[p] += 1.0
        if p != i - 1:
            weight[p] += 0.01
            wire_dendrite = p > 1 and kind[p] != 1 and kind[par[p]] == 1
            if wire_dendrite or (p == 0 and kind[0] != 1):
                to_proximal[i] = True
                weight[p] = 1.0
        if kind[p] != kind[i]:
            weight[p] += 0.01
    soma_children = np.zeros(n, dtype=np.int64)
    for i in range(1, n):
        if kind[i] == 1 and par[i] >= 0 and kind[par[i]] == 1:
            soma_children[par[i]] += 1
    sphere = _three_point_soma(kind, par, xyz, radius, weight)
    if sphere:
        par = par.copy()
        par[2] = 1
    for i in range(n - 1):
        if kind[i] == 1 and kind[i + 1] == 1 and par[i + 1] == i:
            if not (i != 0 and soma_children[i] > 1):
                weight[i] = 1.0
    ends = np.flatnonzero(weight != 1.0)
    if len(ends) == 0 or ends[-1] != n - 1:
        ends = np.append(ends, n - 1)
    starts = np.concatenate([[0], ends[:-1] + 1])
    section_of = np.repeat(np.arange(len(ends)), ends - starts + 1)

    sections: list[Section] = []
    for s, (first, last) in enumerate(zip(starts, ends, strict=True)):
        own = np.arange(first, last + 1)
        if s == 0:
            if sphere:
                own = own[:1]
            pts, rad = xyz[own], radius[own]
            if len(own) == 1:
                c, r = pts[0], rad[0]
                pts = np.array([c - [r, 0, 0], c, c + [r, 0, 0]])
                rad = np.full(3, r)
            sections.append(Section(pts, rad, int(kind[first]), -1, 0.0,
                                    tuple(order[own].tolist())))
            continue
        p = par[first]
        psec = section_of[p]
        parent_first = starts[psec]
        parent_soma = kind[parent_first] == 1
        dendrite_on_soma = parent_soma and kind[first] != 1
        n_own = len(own)
        attach, wire = 1.0, False
        handled = False
        if psec == 0:
            handled = True
            if dendrite_on_soma and (ends[0] - starts[0] == 0 or sphere):
                attach, wire = 0.5, n_own > 1
            elif p == parent_first:
                attach = 0.0
                wire = kind[first] != 1 and soma_children[p] > 1
            else:
                handled = False
        if not handled and parent_soma:
            n_parent_pts = ends[psec] - starts[psec] + 1
            if p < parent_first + n_parent_pts - 1:  # not the soma section's last point
                attach = 0.5
                wire = dendrite_on_soma and n_own > 1
            elif n_own > 1 and soma_children[p] > 1 and kind[first] != 1:
                wire = True
        if to_proximal[first]:
            attach = 0.0
        if wire:
            pts, rad = xyz[own], radius[own]
        else:
            pts = np.vstack([xyz[p], xyz[own]])
            rad = np.concatenate([[radius[first] if dendrite_on_soma else radius[p]],
                                  radius[own]])
        sections.append(Section(pts, rad, int(kind[first]), int(psec), attach,
                                tuple(order[own].tolist())))
    return sections


def _three_point_soma(kind, par, xyz, radius, weight) -> bool:
    """NeuroMorpho's 3-point soma: a root with two leaf soma points one diameter apart."""
    if int(np.sum(kind == 1)) != 3 or len(kind) < 3:
        return False
    if not (par[1] == 0 and par[2] == 0 and weight[1] == 0 and weight[2] == 0):
        return False
    if not (radius[1] == radius[0] and radius[2] == radius[0]):
        return False
    length = np.linalg.norm(xyz[1] - xyz[0]) + np.linalg.norm(xyz[2] - xyz[0])
    return abs(length / (2 * radius[0]) - 1) < 0.01
