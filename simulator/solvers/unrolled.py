"""Hines elimination of a small tree, unrolled at trace time.

The same arithmetic as the width-1 sweep of :mod:`simulator.solvers.dhs` (row sums carried
instead of the diagonal, the same elimination and substitution order), written as a Python
loop over the nodes so that the traced program holds the scalar operations themselves
instead of two ``lax.scan`` loops. XLA then fuses a small tree's whole solve into a few
kernels; derivatives and ``vmap`` follow from the operations. Meant for small trees (the
trace grows linearly with ``n``; beyond :data:`MAX_UNROLLED_NODES` the scan is faster).
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.solvers.dhs_schedule import TreeSchedule

#: Largest tree solved unrolled by default on CPU (see simulator.solvers.voltage). Measured
#: per solve (2 shared cores, float64, in a loop of 200): 4 nodes 0.10 µs vs the scan's 0.30,
#: 8: 0.13 vs 0.43, 16: 0.50 vs 0.51, 32: 4.1 vs 0.72, 64: 4.6 vs 1.5; dense LU slower at
#: every size (1.0-26 µs). Command in docs/performance.md.
MAX_UNROLLED_NODES = 16


def unrolled_solve_row_sums(schedule: TreeSchedule, row_sums, lower, upper, rhs):
    """Solve ``A x = rhs`` given ``A``'s row sums, unrolled (see the module docstring).

    Args:
        schedule: from ``build_schedule`` (static; any width, its node order is used).
        row_sums, lower, upper, rhs: ``(n,)`` as in
            :func:`simulator.solvers.dhs.tree_solve_row_sums` (node order).

    Returns:
        ``(n,)`` ``x`` in node order.
    """
    n, n_roots = schedule.n, schedule.n_roots
    order, parent = schedule.order, schedule.parent
    s = [row_sums[i] for i in order]
    b = [rhs[i] for i in order]
    up = [upper[i] for i in order]
    lo = [lower[i] if k >= n_roots else None for k, i in enumerate(order)]
    for c in range(n - 1, n_roots - 1, -1):
        p = int(parent[c])
        m = up[c] / (s[c] - lo[c])
        s[p] = s[p] + -m * s[c]
        b[p] = b[p] + -m * b[c]
    x = [None] * n
    for c in range(n_roots):
        x[c] = b[c] / s[c]
    for c in range(n_roots, n):
        d = s[c] - lo[c]
        x[c] = b[c] / d - lo[c] / d * x[int(parent[c])]
    return jnp.stack(x)[schedule.position]
