"""Per-node sums of per-synapse values: how synaptic currents reach their compartments.

Every synapse adds its linearised current terms to its post-synaptic node. Three exact ways
to form those sums are offered (each a sum over the same synapses; results agree to
rounding, see tests/simulator/test_synapse_sums.py):

* ``"scatter"``: ``zeros.at[post].add(values)`` (XLA scatter-add);
* ``"segment_sum"``: synapses ordered by post-synaptic node once at trace time (a static
  permutation), then ``jax.ops.segment_sum(..., indices_are_sorted=True)`` (CSR-style);
* ``"bcoo"``: a sparse (n_nodes, n_synapses) matrix of ones times the values
  (``jax.experimental.sparse.BCOO`` mat-vec).

Measured on 2 shared CPU cores (1,000 nodes, 100k synapses, float64; docs/performance.md):
the scatter is the fastest or tied, so it is :data:`DEFAULT_REDUCTION`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse

#: The reductions :func:`node_sums` offers.
REDUCTIONS = ("scatter", "segment_sum", "bcoo")
#: The reduction used by the step function.
DEFAULT_REDUCTION = "scatter"


def node_sums(values, post: np.ndarray, n_nodes: int, reduction: str = DEFAULT_REDUCTION):
    """Sum per-synapse ``values`` into their post-synaptic nodes.

    Args:
        values: (n_synapses, k) array (any units).
        post: (n_synapses,) static integer post-synaptic node of each synapse.
        n_nodes: number of nodes.
        reduction: one of :data:`REDUCTIONS`.

    Returns:
        (n_nodes, k) sums, zero at nodes without synapses.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    post = np.asarray(post)
    if reduction == "scatter":
        if values.ndim == 2:  # one 1-D scatter per column: XLA's CPU scatter of (n, 2)
            # rows took 248 µs per call against 142 for two columns apart (1,000 nodes,
            # 100k synapses, float64); the same additions in the same order.
            zeros = jnp.zeros(n_nodes, values.dtype)
            return jnp.stack([zeros.at[post].add(values[:, j])
                              for j in range(values.shape[1])], axis=1)
        return jnp.zeros((n_nodes, *values.shape[1:]), values.dtype).at[post].add(values)
    if reduction == "segment_sum":
        order = np.argsort(post, kind="stable")
        if np.any(order != np.arange(len(post))):
            values = values[order]
        return jax.ops.segment_sum(values, post[order], num_segments=n_nodes,
                                   indices_are_sorted=True)
    ones = jnp.ones(len(post), values.dtype)
    matrix = sparse.BCOO((ones, np.stack([post, np.arange(len(post))], axis=1)),
                         shape=(n_nodes, len(post)), indices_sorted=False, unique_indices=True)
    return matrix @ values


def conductance_sums(g, e, post: np.ndarray, n_nodes: int, reduction: str = DEFAULT_REDUCTION):
    """Per-node ``Σ g`` and ``Σ g·e`` of conductances ``g`` with reversal potentials ``e``.

    Where ``e`` is the same for every synapse (a runtime check, hoisted out of a time loop
    by XLA: ``e`` is a parameter), ``Σ g·e = e · Σ g`` needs one sum instead of two (1,000 HH
    cells, 100k synapses, float64: 26 % less time per step); results differ by rounding
    only. Under ``vmap`` with ``e`` batched both branches run. The derivative is that of
    the two sums (a custom JVP), so gradients reach every synapse's ``e``.

    Args:
        g: (n_synapses, ...) conductances (any units); e: ``g``'s shape or broadcastable
            to it (mV).
        post, n_nodes, reduction: as :func:`node_sums`.

    Returns:
        ``(Σ g, Σ g·e)``, each (n_nodes, ...).
    """
    post = np.asarray(post)

    def pair_sums(a, b):
        out = node_sums(jnp.stack([a, b], axis=1), post, n_nodes, reduction)
        return out[:, 0], out[:, 1]

    @jax.custom_jvp
    def sums(g, e):
        def shared(_):
            total = node_sums(g, post, n_nodes, reduction)
            return total, total * e[0]

        return jax.lax.cond(jnp.all(e == e[0]), shared, lambda _: pair_sums(g, g * e), None)

    @sums.defjvp
    def _(primals, tangents):  # d(Σ g, Σ g·e) = (Σ dg, Σ (dg·e + g·de))
        (g, e), (dg, de) = primals, tangents
        return sums(g, e), pair_sums(dg, dg * e + g * de)

    e = jnp.asarray(e)  # per synapse, with or without g's trailing (batch) axes
    e = jnp.broadcast_to(e.reshape(e.shape + (1,) * (jnp.ndim(g) - e.ndim)), jnp.shape(g))
    return sums(g, e)
