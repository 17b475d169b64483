"""Random connectivity drawn from numpy's global random state, draw for draw as jaxley 0.14.

jaxley's ``sparse_connect`` and ``random_post_comp=True`` draw from ``np.random`` (the
legacy global ``RandomState``), so a jaxley user reproduces a network with
``np.random.seed(s)``. With ``random_state=None`` the connect helpers of
:mod:`simulator.connect` make the same draws in the same order, so the same seed gives the
same synapses (pre- and postsynaptic compartments, in the same order) as jaxley 0.14:

* ``sparse_connect``: the number of synapses ``n ~ Binomial(n_pre * n_post, p)``, then
  ``n`` presynaptic and ``n`` postsynaptic cells drawn uniformly *with replacement* (a pair
  can repeat; ``p = 1`` does not connect every pair), ordered by presynaptic cell with
  numpy's default ``argsort``.
* ``random_post_comp=True``: for each postsynaptic cell in ascending order, its synapses'
  compartments drawn uniformly with replacement among the cell's compartments
  (``np.random.choice(n_comps, size=n_synapses_onto_the_cell)``, what pandas'
  ``DataFrame.sample(replace=True)`` does in jaxley).

One deliberate difference: the k-th compartment drawn for a cell goes to the k-th synapse
onto that cell. jaxley 0.14 lists the drawn compartments cell by cell while its presynaptic
sites are in synapse order, so, except where the two orders agree (``fully_connect`` with
as many pre as post cells, a single post cell), its synapses land on other cells than the
ones it drew. The compartments drawn for each cell are the same as jaxley's.
"""

from __future__ import annotations

import numpy as np


def global_state_pairs(pre_cells: np.ndarray, post_cells: np.ndarray, p: float):
    """jaxley's ``sparse_connect`` draw: (pre cell, post cell) of each synapse.

    Args:
        pre_cells, post_cells: global cell indices of the two selections, ascending.
        p: connection probability in [0, 1].

    Returns:
        Two int64 arrays of shape (n_synapses,), ordered by presynaptic cell.
    """
    # The legacy global state is the point here (NPY002): jaxley users seed it.
    n_synapses = np.random.binomial(len(pre_cells) * len(post_cells), p)  # noqa: NPY002
    if n_synapses == 0:  # jaxley stops here: no further draws
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    pre = np.random.choice(pre_cells, size=n_synapses)  # noqa: NPY002
    post = np.random.choice(post_cells, size=n_synapses)  # noqa: NPY002
    order = np.argsort(pre)  # numpy's default kind, as jaxley: the same order among ties
    return pre[order].astype(np.int64), post[order].astype(np.int64)


def global_state_post_comps(post_cells: np.ndarray, first: np.ndarray,
                            counts: np.ndarray) -> np.ndarray:
    """jaxley's ``random_post_comp`` draw: a postsynaptic node for each synapse.

    Args:
        post_cells: (n_synapses,) global postsynaptic cell of each synapse.
        first: per cell of the network, the node index of its first compartment (a cell's
            compartments are consecutive nodes).
        counts: per cell, its number of compartments.

    Returns:
        (n_synapses,) int64 node indices.
    """
    post_cells = np.asarray(post_cells, dtype=np.int64)
    nodes = np.empty(len(post_cells), dtype=np.int64)
    for cell in np.unique(post_cells):  # ascending, as pandas' groupby
        onto = np.flatnonzero(post_cells == cell)
        draw = np.random.choice(counts[cell], size=len(onto))  # noqa: NPY002 - as above
        nodes[onto] = first[cell] + draw
    return nodes
