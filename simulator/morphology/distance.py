"""Distances between compartment centres: along the cable (path) and straight (Euclidean).

Both take two selections of one module (views such as ``cell.branch(2).loc(0.5)``, or the
module itself). With ``a`` a single compartment the result is a (n_b,) array in µm, one entry
per compartment of ``b`` in ``.nodes`` order; with several compartments in ``a`` it is
(n_a, n_b).

Path distance runs along the cable: within a branch ``|s_i − s_j|`` between the centres'
positions ``s`` (µm from the branch's proximal end, summed compartment lengths), across
branches through the branch tree, where a branch attached at ``x`` of its parent begins at
path position ``x · L_parent`` of the parent (x = 1: its distal end, x = 0: its proximal end,
NEURON's ``connect child(0), parent(x)``). Compartments of different cells are ``inf`` apart.
"""

from __future__ import annotations

import numpy as np

from simulator.modules.module_type import ModuleType


def _base_and_nodes(a, b):
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, ModuleType):
            raise TypeError(f"{name} must be a module or a view of one, got {x!r}")
    if a.base is not b.base:
        raise ValueError("a and b must be selections of the same module (a.base is b.base)")
    return a.base, np.asarray(a._node_inds), np.asarray(b._node_inds)


def _centre_positions(base):
    """Per compartment row of ``base.nodes``: branch and centre position s (µm)."""
    nodes = base._nodes
    branch = nodes["global_branch_index"].to_numpy()
    lengths = nodes["length"].to_numpy(dtype=float)
    n_branches = base._topology.n_branches
    branch_length = np.bincount(branch, weights=lengths, minlength=n_branches)
    cumulative = np.cumsum(lengths)
    first = base._data.first_comp
    start = cumulative[first] - lengths[first]  # cumulative length before each branch
    s = cumulative - lengths / 2.0 - start[branch]
    return branch, s, branch_length


def _branch_offsets(topology, branch_length, origin_branch: int, origin_s: float):
    """(alpha, beta): distance from the origin point to (c, u) is alpha[c] + |u − beta[c]|."""
    n = topology.n_branches
    parents = np.asarray(topology.parents)
    attach_pos = topology.attach_positions() * branch_length[np.maximum(parents, 0)]
    cells = np.asarray(topology.cell_of_branch)
    alpha = np.full(n, np.inf)
    beta = np.zeros(n)
    on_chain = np.zeros(n, dtype=bool)
    c, a, u = origin_branch, 0.0, origin_s
    while True:  # up the chain of ancestors: the path enters each at beta
        alpha[c], beta[c], on_chain[c] = a, u, True
        p = parents[c]
        if p < 0:
            break
        a, u, c = a + u, attach_pos[c], p  # to c's start, then on the parent at x·L
    for c in range(n):  # others (parents first): entered at their start from the parent
        p = parents[c]
        if on_chain[c] or p < 0 or cells[c] != cells[origin_branch]:
            continue
        alpha[c] = alpha[p] + abs(attach_pos[c] - beta[p])
        beta[c] = 0.0
    return alpha, beta


def path_distance(a, b) -> np.ndarray:
    """Distance (µm) along the cable between the compartment centres of ``a`` and ``b``.

    Returns (n_b,) if ``a`` is one compartment, else (n_a, n_b); ``inf`` across cells.
    """
    base, inds_a, inds_b = _base_and_nodes(a, b)
    branch, s, branch_length = _centre_positions(base)
    row = base._nodes.index.get_indexer
    rows_a, rows_b = row(inds_a), row(inds_b)
    topology = base._topology
    out = np.empty((len(rows_a), len(rows_b)))
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i, ra in enumerate(rows_a):
        key = int(ra)
        if key not in cache:
            cache[key] = _branch_offsets(topology, branch_length, int(branch[ra]), float(s[ra]))
        alpha, beta = cache[key]
        bb = branch[rows_b]
        out[i] = alpha[bb] + np.abs(s[rows_b] - beta[bb])
    return out[0] if len(rows_a) == 1 else out


def euclidean_distance(a, b) -> np.ndarray:
    """Straight-line distance (µm) between compartment centres (``.nodes`` x, y, z).

    Returns (n_b,) if ``a`` is one compartment, else (n_a, n_b). Raises ValueError where the
    centres have no coordinates (hand-built cells; read an SWC file, whose compartments have
    them).
    """
    base, inds_a, inds_b = _base_and_nodes(a, b)
    xyz = base._nodes[["x", "y", "z"]].to_numpy(dtype=float)
    row = base._nodes.index.get_indexer
    pa, pb = xyz[row(inds_a)], xyz[row(inds_b)]
    if not (np.all(np.isfinite(pa)) and np.all(np.isfinite(pb))):
        raise ValueError(
            "euclidean_distance needs compartment coordinates (.nodes x, y, z), but some of the"
            " selected compartments have none (NaN): hand-built cells have no 3-D positions."
            " Use path_distance (along the cable), or a cell read from an SWC file"
        )
    out = np.linalg.norm(pa[:, None, :] - pb[None, :, :], axis=-1)
    return out[0] if len(pa) == 1 else out


def distance_from(module, view, kind: str = "path") -> np.ndarray:
    """Distance (µm) from the single compartment ``view`` to every compartment of ``module``.

    Returns (n_compartments of module,) in ``module.nodes`` order, ready for
    ``module.set(key, f(distances))``.
    """
    if kind not in ("path", "euclidean"):
        raise ValueError(f"kind must be 'path' or 'euclidean', got {kind!r}")
    if len(view._node_inds) != 1:
        raise ValueError(
            f"distance_from needs a single compartment (e.g. cell.branch(0).loc(0.5)), got a"
            f" selection of {len(view._node_inds)} compartments"
        )
    fn = path_distance if kind == "path" else euclidean_distance
    return np.atleast_1d(fn(view, module))
