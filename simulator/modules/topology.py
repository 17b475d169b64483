"""Branch topology and the node/edge numbering derived from it.

Numbering (identical to jaxley's, so that indices users know keep working):
within each cell, compartments come first (branch-major, proximal to distal), then one
branch point per branch that has at least one child branch, ordered by that parent branch.
Cells follow each other in blocks. A *node* is a row of the state vector: compartments and
branch points. Branch points are zero-capacitance algebraic nodes (Kirchhoff's current law).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simulator.modules.arguments import is_bool


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


def comp_offsets(ncomp) -> np.ndarray:
    """(n_branches + 1,) int64: global index of each branch's first compartment, then the
    number of compartments (branch ``b`` holds compartments ``[offsets[b], offsets[b + 1])``).

    Args:
        ncomp: (n_branches,) number of compartments of each branch, global branch order.
    """
    return np.concatenate([[0], np.cumsum(ncomp)]).astype(np.int64)


def first_comps(ncomp) -> np.ndarray:
    """(n_branches,) int64: global index of each branch's first compartment."""
    return comp_offsets(ncomp)[:-1]


def validate_parents(parents, n_branches: int | None = None) -> np.ndarray:
    """Check a per-cell parents list: parents[0] == -1, parents[i] < i otherwise."""
    try:
        arr = np.asarray(parents)
    except Exception as err:  # ragged nested lists
        raise ValueError(f"parents must be a list of ints, got {parents!r}") from err
    # np.asarray([-1, False]) is an int array: a bool would pass as branch 0.
    has_bool = isinstance(parents, list | tuple) and any(is_bool(p) for p in parents)
    if has_bool or arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"parents must be a non-empty 1-d list of ints (parent branch index, -1 for the"
            f" root), not bools or other objects; got {parents!r}"
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


def _attachment_sites(topology: Topology) -> tuple[np.ndarray, np.ndarray]:
    """Where each branch begins: (parent branch, position x on it), for every branch.

    A child at x = 0 of a non-root parent shares the node where that parent begins, so the
    walk moves up while x <= 0 and the parent has a parent itself (pointer doubling: time
    O(n log depth), not a Python loop per branch). Roots get (-1, their attach).
    """
    parents = np.asarray(topology.parents, dtype=np.int64)
    attach = topology.attach_positions()
    n = len(parents)
    idx = np.arange(n)
    grand = np.where(parents >= 0, parents[np.maximum(parents, 0)], -1)
    step = np.where((parents >= 0) & (attach <= 0.0) & (grand >= 0), parents, idx)
    while True:
        nxt = step[step]
        if np.array_equal(nxt, step):
            break
        step = nxt
    return parents[step], attach[step]


def number_nodes(topology: Topology) -> Numbering:
    """Compute the node numbering, the directed edges and the solve tree of a topology.

    Vectorised over branches and compartments (linear time); the edges come in the order
    of a walk over the branches: each branch's internal links, then its distal and proximal
    branch-point links, then the link to its parent, every link as the pair (parent ->
    child, child -> parent).
    """
    site_parent, site_x = _attachment_sites(topology)
    has_parent = np.asarray(topology.parents, dtype=np.int64) >= 0
    has_bp = []  # [has a distal branch point, has a proximal one], per branch
    for site in (has_parent & (site_x >= 1.0), has_parent & (site_x <= 0.0)):
        flags = np.zeros(len(has_parent), dtype=bool)
        flags[site_parent[site]] = True
        has_bp.append(flags)
    comp_nodes, distal_bp, proximal_bp, n_nodes = _node_layout(topology, *has_bp)
    l_parent, l_child, l_hp, l_hc = _links(topology, comp_nodes, (distal_bp, proximal_bp),
                                           has_bp, (site_parent, site_x), n_nodes)
    tree_parent = np.full(n_nodes, -1, dtype=np.int64)
    tree_parent[l_child] = l_parent
    edge_source = np.stack([l_parent, l_child], axis=1).ravel()
    edge_sink = np.stack([l_child, l_parent], axis=1).ravel()
    lower_edge = np.full(n_nodes, -1, dtype=np.int64)
    upper_edge = np.full(n_nodes, -1, dtype=np.int64)
    # Edges were appended in (parent -> child, child -> parent) pairs.
    lower_edge[edge_sink[0::2]] = np.arange(0, len(edge_sink), 2)
    upper_edge[edge_source[1::2]] = np.arange(1, len(edge_sink), 2)
    bps = np.concatenate([distal_bp[distal_bp >= 0], proximal_bp[proximal_bp >= 0]])
    return Numbering(
        n_nodes=n_nodes, comp_nodes=comp_nodes, branch_point_nodes=np.sort(bps),
        tree_parent=tree_parent, edge_source=edge_source, edge_sink=edge_sink,
        edge_halves=np.stack([l_hp, l_hc, l_hc, l_hp], axis=1).reshape(-1, 2),
        lower_edge=lower_edge, upper_edge=upper_edge,
    )


def _node_layout(topology: Topology, has_distal: np.ndarray, has_proximal: np.ndarray):
    """Node indices, cell by cell: its compartments, then its distal and its proximal
    branch points. Returns ``(comp_nodes (n_comps,), distal_bp (n_branches,), proximal_bp
    (n_branches,), n_nodes)``; -1 where a branch has no such branch point."""
    ncomp = np.asarray(topology.ncomp, dtype=np.int64)
    first_comp = first_comps(ncomp)
    comp_nodes = np.empty(topology.n_comps, dtype=np.int64)
    distal_bp = np.full(len(ncomp), -1, dtype=np.int64)
    proximal_bp = np.full(len(ncomp), -1, dtype=np.int64)
    offset = 0
    for cell in range(topology.n_cells):
        branches = np.flatnonzero(topology.cell_of_branch == cell)
        n_cell_comps = int(ncomp[branches].sum())
        start = first_comp[branches[0]]
        comp_nodes[start : start + n_cell_comps] = offset + np.arange(n_cell_comps)
        offset += n_cell_comps
        for flags, table in ((has_distal, distal_bp), (has_proximal, proximal_bp)):
            chosen = branches[flags[branches]]
            table[chosen] = offset + np.arange(len(chosen))
            offset += len(chosen)
    return comp_nodes, distal_bp, proximal_bp, offset


def _links(topology: Topology, comp_nodes, bp_nodes, has_bp, sites, n_nodes: int):
    """Links ``(parent node, child node, parent's half, child's half)`` in walk order.

    Args:
        bp_nodes, has_bp: (distal, proximal) branch-point node and flag per branch.
        sites: (parent branch, position) where each branch begins (:func:`_attachment_sites`).
    Halves index ``concat(half_in, half_out, [0])``: ``n_nodes + i`` is node i's distal
    half, ``2 * n_nodes`` none.
    """
    ncomp = np.asarray(topology.ncomp, dtype=np.int64)
    first_comp = first_comps(ncomp)
    (distal_bp, proximal_bp), (has_distal, has_proximal) = bp_nodes, has_bp
    site_parent, site_x = sites
    has_parent = np.asarray(topology.parents, dtype=np.int64) >= 0
    half_out, none = n_nodes, 2 * n_nodes
    n_links = (ncomp - 1) + has_distal + has_proximal + has_parent
    base = np.cumsum(n_links) - n_links
    l_parent, l_child, l_hp, l_hc = np.empty((4, int(n_links.sum())), dtype=np.int64)
    branch_of_comp = np.repeat(np.arange(len(ncomp)), ncomp)
    inner = np.flatnonzero(np.arange(topology.n_comps) != first_comp[branch_of_comp])
    b = branch_of_comp[inner]
    pos = base[b] + inner - first_comp[b] - 1
    l_parent[pos] = comp_nodes[inner - 1]
    l_child[pos] = comp_nodes[inner]
    l_hp[pos] = half_out + comp_nodes[inner - 1]
    l_hc[pos] = comp_nodes[inner]
    last_node = comp_nodes[first_comp + ncomp - 1]
    first_node = comp_nodes[first_comp]
    b = np.flatnonzero(has_distal)
    pos = base[b] + ncomp[b] - 1
    l_parent[pos], l_child[pos] = last_node[b], distal_bp[b]
    l_hp[pos], l_hc[pos] = half_out + last_node[b], none
    b = np.flatnonzero(has_proximal)
    pos = base[b] + ncomp[b] - 1 + has_distal[b]
    l_parent[pos], l_child[pos] = first_node[b], proximal_bp[b]
    l_hp[pos], l_hc[pos] = first_node[b], none
    b = np.flatnonzero(has_parent)
    pos = base[b] + ncomp[b] - 1 + has_distal[b] + has_proximal[b]
    p = site_parent[b]
    # NEURON's rule for ``connect child(0), parent(x)``: segment floor(x * nseg), so a boundary
    # belongs to the distal compartment (verified against NEURON 9; .loc(x) keeps jaxley's
    # rule, which gives it to the proximal one).
    k = np.minimum((site_x[b] * ncomp[p]).astype(np.int64), ncomp[p] - 1)
    anchor = np.where(site_x[b] >= 1.0, distal_bp[p], np.where(
        site_x[b] <= 0.0, proximal_bp[p], comp_nodes[first_comp[p] + np.maximum(k, 0)]))
    l_parent[pos], l_child[pos] = anchor, first_node[b]
    l_hp[pos], l_hc[pos] = none, first_node[b]
    return l_parent, l_child, l_hp, l_hc
