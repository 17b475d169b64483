"""Branch topology and the node/edge numbering derived from it.

Numbering (identical to the reference simulator, so that indices users know keep working):
within each cell, compartments come first (branch-major, proximal to distal), then one
branch point per branch that has at least one child branch, ordered by that parent branch.
Cells follow each other in blocks. A *node* is a row of the state vector: compartments and
branch points. Branch points are zero-capacitance algebraic nodes (Kirchhoff's current law).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Topology:
    """Branch structure of a module.

    Attributes:
        ncomp: (n_branches,) number of compartments of each branch, global branch order.
        parents: (n_branches,) global index of the parent branch, -1 for the root branch of a cell.
        cell_of_branch: (n_branches,) global cell index of each branch.
        attach: (n_branches,) position x on the parent where each branch begins: 1 (the
            parent's distal end, the only choice of ``Cell(branches, parents)``), 0 (the
            parent's proximal end) or in between (the parent's compartment at x, as NEURON
            connects a child to ``parent(x)``); None means 1 everywhere.
    """

    ncomp: np.ndarray
    parents: np.ndarray
    cell_of_branch: np.ndarray
    attach: np.ndarray | None = None

    @property
    def n_branches(self) -> int:
        return len(self.ncomp)

    @property
    def n_cells(self) -> int:
        return int(self.cell_of_branch.max()) + 1 if self.n_branches else 0

    @property
    def n_comps(self) -> int:
        return int(self.ncomp.sum())

    def attach_positions(self) -> np.ndarray:
        if self.attach is None:
            return np.ones(self.n_branches)
        return np.asarray(self.attach, dtype=float)


def comp_at(x: float, ncomp: int) -> int:
    """Compartment that a child attached at position x of its parent connects to.

    NEURON's rule for ``connect child(0), parent(x)``: segment ``floor(x * nseg)``, so a
    position on a boundary belongs to the distal compartment (x = 0.5 with four
    compartments: the third; verified against NEURON 9). ``.loc(x)`` keeps the reference's
    rule instead, which gives a boundary to the proximal compartment.
    """
    return min(int(x * ncomp), ncomp - 1)


def validate_parents(parents, n_branches: int | None = None) -> np.ndarray:
    """Check a per-cell parents list: parents[0] == -1, parents[i] < i otherwise."""
    try:
        arr = np.asarray(parents)
    except Exception as err:  # pragma: no cover - numpy accepts nearly everything
        raise ValueError(f"parents must be a list of ints, got {parents!r}") from err
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"parents must be a non-empty 1-d list of ints (parent branch index, -1 for the root),"
            f" got {parents!r}"
        )
    if n_branches is not None and arr.size != n_branches:
        raise ValueError(f"parents has {arr.size} entries but {n_branches} branches were given")
    if arr[0] != -1:
        raise ValueError(f"parents[0] must be -1 (the root branch), got {arr[0]} in {list(arr)}")
    for i, p in enumerate(arr[1:], start=1):
        if not 0 <= p < i:
            raise ValueError(
                f"parents is not a tree in branch order: parents[{i}] = {p}, expected an index of"
                f" an earlier branch in [0, {i - 1}] (the root alone has -1)"
            )
    return arr.astype(np.int64)


@dataclasses.dataclass(frozen=True)
class Numbering:
    """Node and edge layout derived from a :class:`Topology` (all numpy, static).

    Attributes:
        n_nodes: compartments + branch points.
        comp_nodes: (n_comps,) node index of each compartment in global compartment order.
        branch_point_nodes: (n_bps,) node index of each branch point.
        tree_parent: (n_nodes,) parent node in the tree rooted at each cell's first
            compartment, -1 for roots.
        edge_source, edge_sink: (n_edges,) directed edges; every physical link appears in
            both directions. The conductance of edge e enters the equation of its sink.
        edge_halves: (n_edges, 2) indices into ``concat(half_in, half_out, [0])`` (length
            2 * n_nodes + 1) naming the half-compartment resistances between source and sink.
        lower_edge, upper_edge: (n_nodes,) for each non-root node i: the edge parent -> i and
            the edge i -> parent (-1 for roots).
    """

    n_nodes: int
    comp_nodes: np.ndarray
    branch_point_nodes: np.ndarray
    tree_parent: np.ndarray
    edge_source: np.ndarray
    edge_sink: np.ndarray
    edge_halves: np.ndarray
    lower_edge: np.ndarray
    upper_edge: np.ndarray


def _attachment_site(topology: Topology, branch: int) -> tuple[str, int, int]:
    """Where ``branch`` begins: ("distal"|"proximal", parent branch, -1) or ("comp", parent, k).

    A child at x = 0 of a non-root parent shares the node where that parent begins.
    """
    attach = topology.attach_positions()
    parent, x = int(topology.parents[branch]), float(attach[branch])
    while x <= 0.0 and topology.parents[parent] >= 0:
        parent, x = int(topology.parents[parent]), float(attach[parent])
    if x >= 1.0:
        return "distal", parent, -1
    if x <= 0.0:
        return "proximal", parent, -1
    return "comp", parent, comp_at(x, int(topology.ncomp[parent]))


def number_nodes(topology: Topology) -> Numbering:
    """Compute the node numbering, the directed edges and the solve tree of a topology."""
    ncomp, parents, cells = topology.ncomp, topology.parents, topology.cell_of_branch
    n_branches = len(ncomp)
    first_comp = np.concatenate([[0], np.cumsum(ncomp)[:-1]]).astype(np.int64)
    sites = {b: _attachment_site(topology, b) for b in range(n_branches) if parents[b] >= 0}
    has_distal = np.zeros(n_branches, dtype=bool)
    has_proximal = np.zeros(n_branches, dtype=bool)
    for kind, p, _ in sites.values():
        if kind == "distal":
            has_distal[p] = True
        elif kind == "proximal":
            has_proximal[p] = True

    comp_nodes = np.empty(topology.n_comps, dtype=np.int64)
    distal_bp = np.full(n_branches, -1, dtype=np.int64)
    proximal_bp = np.full(n_branches, -1, dtype=np.int64)
    offset = 0
    for cell in range(topology.n_cells):
        branches = np.flatnonzero(cells == cell)
        n_cell_comps = int(ncomp[branches].sum())
        start = first_comp[branches[0]]
        comp_nodes[start : start + n_cell_comps] = offset + np.arange(n_cell_comps)
        offset += n_cell_comps
        for flags, table in ((has_distal, distal_bp), (has_proximal, proximal_bp)):
            chosen = branches[flags[branches]]
            table[chosen] = offset + np.arange(len(chosen))
            offset += len(chosen)
    n_nodes = offset
    half_out = n_nodes  # offset of the distal halves in the concatenated half array
    none = 2 * n_nodes

    tree_parent = np.full(n_nodes, -1, dtype=np.int64)
    src, snk, halves = [], [], []

    def link(parent: int, child: int, h_parent: int, h_child: int) -> None:
        tree_parent[child] = parent
        src.extend((parent, child))
        snk.extend((child, parent))
        halves.extend(((h_parent, h_child), (h_child, h_parent)))

    def comps_of(b: int) -> np.ndarray:
        return comp_nodes[first_comp[b] : first_comp[b] + ncomp[b]]

    for b in range(n_branches):
        nodes = comps_of(b)
        for a, c in zip(nodes[:-1], nodes[1:], strict=True):
            link(a, c, half_out + a, c)
        if has_distal[b]:
            link(nodes[-1], distal_bp[b], half_out + nodes[-1], none)
        if has_proximal[b]:
            link(nodes[0], proximal_bp[b], nodes[0], none)
        if parents[b] >= 0:
            kind, p, k = sites[b]
            anchor = {"distal": distal_bp[p], "proximal": proximal_bp[p]}.get(kind)
            anchor = comps_of(p)[k] if anchor is None else anchor
            link(anchor, nodes[0], none, nodes[0])

    edge_source = np.asarray(src, dtype=np.int64)
    edge_sink = np.asarray(snk, dtype=np.int64)
    lower_edge = np.full(n_nodes, -1, dtype=np.int64)
    upper_edge = np.full(n_nodes, -1, dtype=np.int64)
    # Edges were appended in (parent -> child, child -> parent) pairs.
    lower_edge[edge_sink[0::2]] = np.arange(0, len(edge_sink), 2)
    upper_edge[edge_source[1::2]] = np.arange(1, len(edge_sink), 2)
    bps = np.concatenate([distal_bp[distal_bp >= 0], proximal_bp[proximal_bp >= 0]])
    return Numbering(
        n_nodes=n_nodes,
        comp_nodes=comp_nodes,
        branch_point_nodes=np.sort(bps),
        tree_parent=tree_parent,
        edge_source=edge_source,
        edge_sink=edge_sink,
        edge_halves=np.asarray(halves, dtype=np.int64).reshape(-1, 2),
        lower_edge=lower_edge,
        upper_edge=upper_edge,
    )
