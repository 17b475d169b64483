"""Static node-index reads and writes of mechanisms, without indexing where none is needed.

Mechanisms are evaluated on the nodes they are inserted in (``inds``, a NumPy array known
at trace time): gather ``x[inds]``, compute, scatter ``x.at[inds].set(y)``. A mechanism
inserted in every node (point neurons, single compartments, unbranched cables) needs no
gather or scatter at all; these functions then pass the arrays through, which saves XLA
two loops per state and parameter. Otherwise they gather and scatter.
Measured alternatives that did not pay: docs/performance.md.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def covers_all(inds, n: int) -> bool:
    """Whether ``inds`` is exactly ``0, 1, ..., n-1``."""
    inds = np.asarray(inds)
    return inds.shape == (n,) and bool(np.all(inds == np.arange(n)))


def take(x, inds):
    """``x[inds]`` along the first axis (``x`` itself when ``inds`` covers every node)."""
    return x if covers_all(inds, x.shape[0]) else x[inds]


def put(x, inds, values):
    """``x.at[inds].set(values)`` (``values`` broadcast to ``x`` when ``inds`` covers all)."""
    if covers_all(inds, x.shape[0]):
        return jnp.broadcast_to(jnp.asarray(values, x.dtype), x.shape)
    return x.at[inds].set(values)


def add(x, inds, values):
    """``x.at[inds].add(values)`` (repeated indices accumulate, as a scatter-add)."""
    return x + values if covers_all(inds, x.shape[0]) else x.at[inds].add(values)
