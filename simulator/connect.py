"""Connecting cells of a Network with synapses (vectorised: 10⁵ synapses in well under 1 s).

``pre`` and ``post`` are views of the same Network. Cell-level helpers use each pre cell's
first compartment (branch 0, compartment 0) as the pre-synaptic site and each post cell's
first compartment, or a uniformly random one with ``random_post_comp=True``, as the
post-synaptic site.
"""

from __future__ import annotations

import numpy as np

from simulator.modules import connect_sampling
from simulator.modules.arguments import (
    flag,
    module_argument,
    random_generator,
    real_scalar,
    show,
)
from simulator.modules.network import Network


def _network_of(pre, post, names=("pre", "post")):
    for name, view in zip(names, (pre, post), strict=True):
        module_argument(name, view, "a view of a Network (e.g. net.cell(0))")
    if pre.base is not post.base:
        raise ValueError(f"{names[0]} and {names[1]} must be views of the same Network")
    if not isinstance(pre.base, Network):
        raise ValueError(f"synapses connect cells of a Network, got a {type(pre.base).__name__}")
    for name, view in zip(names, (pre, post), strict=True):
        if len(view._node_inds) == 0:
            raise ValueError(
                f"{name} selects no compartment (a view of synapses?); pass a view of cells or"
                " compartments, e.g. net.cell([0, 1])"
            )
    return pre.base


def _connectivity(matrix, shape: tuple[int, int]) -> np.ndarray:
    """``connectivity_matrix`` as a bool array of ``shape``: bools, or numbers that are 0 or 1."""
    if matrix is None or isinstance(matrix, str | bytes | dict | set):
        raise TypeError(
            f"connectivity_matrix must be a {shape} array of bools (or of 0 and 1); got"
            f" {show(matrix)}"
        )
    try:
        arr = np.asarray(matrix)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"connectivity_matrix must be a rectangular {shape} array of bools; got"
            f" {show(matrix)}"
        ) from err
    if arr.shape != shape:
        raise ValueError(
            f"connectivity_matrix must have shape {shape} (pre cells, post cells), got"
            f" {arr.shape}"
        )
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"connectivity_matrix must hold bools (or 0 and 1), got dtype {arr.dtype}:"
            f" {show(matrix)}"
        )
    bad = ~np.isin(arr, (0, 1))  # NaN, 2, -1, 0.5 are not connections or their absence
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"connectivity_matrix must hold only True/False (or 0/1); got"
            f" {arr[i, j].item()!r} at [{i}, {j}] ({int(bad.sum())} such entries)"
        )
    return arr.astype(bool)


def _cells_of(view) -> np.ndarray:
    return np.unique(view.nodes["global_cell_index"].to_numpy())


def _cell_comps(net) -> tuple[np.ndarray, np.ndarray]:
    """Node index of each cell's first compartment, and each cell's number of compartments
    (a cell's compartments are consecutive nodes)."""
    data = net._data
    cell_of_branch = data.topology.cell_of_branch
    _, first_branch = np.unique(cell_of_branch, return_index=True)
    counts = np.bincount(cell_of_branch, weights=data.topology.ncomp).astype(np.int64)
    return data.numbering.comp_nodes[data.first_comp[first_branch]].astype(np.int64), counts


def _post_sites(net, cells: np.ndarray, random_post_comp: bool, rng) -> np.ndarray:
    """Postsynaptic node of each synapse onto ``cells``: the first compartment, or a random
    one drawn from ``rng`` (None: numpy's global state, as jaxley)."""
    first, counts = _cell_comps(net)
    if not random_post_comp or not len(cells):
        return first[cells]
    if rng is None:
        return connect_sampling.global_state_post_comps(cells, first, counts)
    return first[cells] + (rng.random(len(cells)) * counts[cells]).astype(np.int64)


def connect(pre, post, synapse_type) -> None:
    """One synapse (a ``synapse_type`` instance) from each compartment of ``pre`` to the
    matching compartment of ``post``."""
    net = _network_of(pre, post)
    pre_nodes, post_nodes = pre._node_inds, post._node_inds
    if len(pre_nodes) != len(post_nodes):
        raise ValueError(
            f"connect pairs compartments one to one: pre has {len(pre_nodes)}, post has"
            f" {len(post_nodes)}"
        )
    net._append_synapses(pre_nodes, post_nodes, synapse_type)


def connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse_type,
                                connectivity_matrix,
                                random_post_comp: bool = False, random_state=None) -> None:
    """Synapses where ``connectivity_matrix[i, j]`` (bool, (n_pre_cells, n_post_cells)).

    ``random_post_comp``: a uniformly random postsynaptic compartment per synapse, drawn
    from ``random_state`` (a seed or numpy Generator) or, if None, from numpy's global
    state as jaxley 0.14 draws it (``np.random.seed`` reproduces jaxley's compartments; see
    :mod:`simulator.modules.connect_sampling`).
    """
    net = _network_of(pre_cell_view, post_cell_view, ("pre_cell_view", "post_cell_view"))
    flag("random_post_comp", random_post_comp)
    rng = None if random_state is None else random_generator("random_state", random_state)
    pre_cells, post_cells = _cells_of(pre_cell_view), _cells_of(post_cell_view)
    matrix = _connectivity(connectivity_matrix, (len(pre_cells), len(post_cells)))
    i, j = np.nonzero(matrix)
    pre_nodes = _cell_comps(net)[0][pre_cells[i]]
    post_nodes = _post_sites(net, post_cells[j], random_post_comp, rng)
    net._append_synapses(pre_nodes, post_nodes, synapse_type)


def fully_connect(pre_cell_view, post_cell_view, synapse_type, random_post_comp: bool = False,
                  random_state=None) -> None:
    """Every pre cell to every post cell (pre-major order)."""
    _network_of(pre_cell_view, post_cell_view, ("pre_cell_view", "post_cell_view"))
    n_pre, n_post = len(_cells_of(pre_cell_view)), len(_cells_of(post_cell_view))
    connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse_type,
                                np.ones((n_pre, n_post), dtype=bool), random_post_comp,
                                random_state)


def sparse_connect(pre_cell_view, post_cell_view, synapse_type, p: float,
                   random_post_comp: bool = False, random_state=None) -> None:
    """Each (pre cell, post cell) pair independently with probability ``p``.

    ``random_state=None`` (default) draws from numpy's global state exactly as jaxley 0.14
    does, so ``np.random.seed(s)`` gives jaxley's network: a binomial number of synapses
    whose pre and post cells are drawn with replacement (a pair can repeat and ``p = 1``
    does not connect every pair; see :mod:`simulator.modules.connect_sampling`). With
    ``random_state`` (a seed or a numpy Generator) each pair is connected independently
    with probability ``p``, at most once, so ``p = 1`` is full connectivity.
    """
    if not 0.0 <= real_scalar("p", p, expected="a probability in [0, 1]") <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    net = _network_of(pre_cell_view, post_cell_view, ("pre_cell_view", "post_cell_view"))
    flag("random_post_comp", random_post_comp)
    if random_state is None:
        pre, post = connect_sampling.global_state_pairs(
            _cells_of(pre_cell_view), _cells_of(post_cell_view), float(p))
        if len(pre):
            net._append_synapses(_cell_comps(net)[0][pre],
                                 _post_sites(net, post, random_post_comp, None), synapse_type)
        return
    rng = random_generator("random_state", random_state)
    n_pre, n_post = len(_cells_of(pre_cell_view)), len(_cells_of(post_cell_view))
    matrix = rng.random((n_pre, n_post)) < p
    connectivity_matrix_connect(pre_cell_view, post_cell_view, synapse_type, matrix,
                                random_post_comp, rng)
