"""Connecting cells of a Network with synapses (vectorised: 10⁵ synapses in well under 1 s).

``pre`` and ``post`` are views of the same Network. Cell-level helpers use each pre cell's
first compartment (branch 0, compartment 0) as the pre-synaptic site and each post cell's
first compartment, or a uniformly random one with ``random_post_comp=True``, as the
post-synaptic site.
"""

from __future__ import annotations

import numpy as np


def _network_of(pre, post):
    from simulator.modules.network import Network

    if pre.base is not post.base:
        raise ValueError("pre and post must be views of the same Network")
    if not isinstance(pre.base, Network):
        raise ValueError(f"synapses connect cells of a Network, got a {type(pre.base).__name__}")
    return pre.base


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def _cells_of(view) -> np.ndarray:
    return np.unique(view.nodes["global_cell_index"].to_numpy())


def _first_comp_of_cells(net, cells: np.ndarray) -> np.ndarray:
    nodes = net.nodes
    first = nodes.groupby("global_cell_index").apply(lambda t: t.index.min(),
                                                     include_groups=False)
    return first.loc[cells].to_numpy().astype(np.int64)


def _post_sites(net, cells: np.ndarray, random_post_comp: bool, rng) -> np.ndarray:
    if not random_post_comp:
        return _first_comp_of_cells(net, cells)
    nodes = net.nodes
    counts = nodes.groupby("global_cell_index").size().loc[cells].to_numpy()
    starts = _first_comp_of_cells(net, cells)
    comp_index = nodes.index.to_numpy()
    by_cell = {c: comp_index[nodes["global_cell_index"].to_numpy() == c] for c in np.unique(cells)}
    picks = (rng.random(len(cells)) * counts).astype(np.int64)
    return np.array([by_cell[c][k] for c, k in zip(cells, picks, strict=True)]) if len(cells) \
        else starts


def connect(pre, post, synapse) -> None:
    """One synapse from each compartment of ``pre`` to the matching compartment of ``post``."""
    net = _network_of(pre, post)
    pre_nodes, post_nodes = pre._node_inds, post._node_inds
    if len(pre_nodes) != len(post_nodes):
        raise ValueError(
            f"connect pairs compartments one to one: pre has {len(pre_nodes)}, post has"
            f" {len(post_nodes)}"
        )
    net._append_synapses(pre_nodes, post_nodes, synapse)


def connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse, connectivity_matrix,
                                random_post_comp: bool = False, random_state=None) -> None:
    """Synapses where ``connectivity_matrix[i, j]`` (bool, (n_pre_cells, n_post_cells))."""
    net = _network_of(pre_cell_view, post_cell_view)
    pre_cells, post_cells = _cells_of(pre_cell_view), _cells_of(post_cell_view)
    matrix = np.asarray(connectivity_matrix)
    if matrix.shape != (len(pre_cells), len(post_cells)):
        raise ValueError(
            f"connectivity_matrix must have shape ({len(pre_cells)}, {len(post_cells)}) (pre"
            f" cells, post cells), got {matrix.shape}"
        )
    i, j = np.nonzero(matrix.astype(bool))
    rng = _rng(random_state)
    pre_nodes = _first_comp_of_cells(net, pre_cells)[i]
    post_nodes = _post_sites(net, post_cells[j], random_post_comp, rng)
    net._append_synapses(pre_nodes, post_nodes, synapse)


def fully_connect(pre_cell_view, post_cell_view, synapse, random_post_comp: bool = False,
                  random_state=None) -> None:
    """Every pre cell to every post cell (pre-major order)."""
    n_pre, n_post = len(_cells_of(pre_cell_view)), len(_cells_of(post_cell_view))
    connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse,
                                np.ones((n_pre, n_post), dtype=bool), random_post_comp,
                                random_state)


def sparse_connect(pre_cell_view, post_cell_view, synapse, p: float,
                   random_post_comp: bool = False, random_state=None) -> None:
    """Each (pre cell, post cell) pair independently with probability ``p``.

    Unlike the reference (which samples pairs with replacement), every pair appears at most
    once, so ``p = 1`` is full connectivity. ``random_state``: seed or numpy Generator.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    rng = _rng(random_state)
    n_pre, n_post = len(_cells_of(pre_cell_view)), len(_cells_of(post_cell_view))
    matrix = rng.random((n_pre, n_post)) < p
    connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse, matrix,
                                random_post_comp, rng)
