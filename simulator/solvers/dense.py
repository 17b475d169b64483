"""Dense reference path for tree-structured linear systems.

Builds the full ``(n, n)`` matrix of a tree system (see ``simulator.solvers.dhs``) and
solves it: ``dense_solve`` with ``jnp.linalg.solve`` (LU, partial pivoting) from the
diagonal, ``dense_solve_row_sums`` by Gaussian elimination that carries row sums instead of
the diagonal (the dense analogue of ``tree_solve_row_sums``: for an M-matrix every update
adds numbers of one sign, so the small row sums of cable matrices with huge axial
couplings survive in float32). O(n^3), meant for tests and small cells.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .dhs import parents_of

__all__ = ["dense_solve", "dense_solve_row_sums", "dense_tree_matrix"]


def dense_tree_matrix(parents, diag, lower, upper):
    """Dense matrix of a tree system.

    Args:
        parents: ``(n,)`` parent array (``-1`` at roots) or a ``TreeSchedule``.
        diag: ``(n,)`` ``A[i, i]``.
        lower: ``(n,)`` ``A[i, parent(i)]`` (ignored at roots).
        upper: ``(n,)`` ``A[parent(i), i]`` (ignored at roots).

    Returns:
        ``(n, n)`` jnp matrix ``A``.
    """
    par = parents_of(parents)
    n = par.shape[0]
    diag, lower, upper = (jnp.asarray(a) for a in (diag, lower, upper))
    for name, a in (("diag", diag), ("lower", lower), ("upper", upper)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    dtype = jnp.result_type(diag, lower, upper)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.result_type(dtype, float)
    a = jnp.diag(diag.astype(dtype))
    child = np.flatnonzero(par >= 0)
    p = par[child]
    a = a.at[child, p].set(lower[child].astype(dtype))
    return a.at[p, child].set(upper[child].astype(dtype))


def dense_solve(parents, diag, lower, upper, rhs):
    """Solve the tree system ``A x = rhs`` densely with ``jnp.linalg.solve``.

    Args:
        parents: ``(n,)`` parent array (``-1`` at roots) or a ``TreeSchedule``.
        diag, lower, upper: ``(n,)`` entries of ``A`` as in ``dense_tree_matrix``.
        rhs: ``(n,)`` right-hand side.

    Returns:
        ``(n,)`` solution ``x``.
    """
    a = dense_tree_matrix(parents, diag, lower, upper)
    rhs = jnp.asarray(rhs)
    if rhs.shape != (a.shape[0],):
        raise ValueError(f"rhs must have shape ({a.shape[0]},), got {rhs.shape}")
    if a.shape[0] == 0:
        return jnp.zeros((0,), jnp.result_type(a, rhs))
    return jnp.linalg.solve(a, rhs.astype(jnp.result_type(a, rhs)))


def dense_solve_row_sums(parents, row_sums, lower, upper, rhs):
    """Solve the tree system ``A x = rhs`` densely, given ``A``'s row sums.

    Gaussian elimination without pivoting on the dense matrix, in the order of the node
    labels, tracking ``O = −(off-diagonal of A)`` and the row sums ``s`` of the remaining
    block: pivot ``d_k = s_k + Σ_{j>k} O_kj``, then for rows ``i > k`` with
    ``f_i = O_ik / d_k``: ``O_ij += f_i O_kj``, ``s_i += f_i s_k``, ``b_i += f_i b_k``;
    back substitution ``x_k = (b_k + Σ_{j>k} O_kj x_j) / d_k``. Algebraically LU; for an
    M-matrix with nonnegative row sums, free of subtraction (fill-in included).

    Args:
        parents: ``(n,)`` parent array (``-1`` at roots) or a ``TreeSchedule``.
        row_sums: ``(n,)`` ``Σ_j A[i, j]`` (see ``simulator.solvers.dhs.tree_solve_row_sums``).
        lower, upper: ``(n,)`` off-diagonals as in ``dense_tree_matrix``.
        rhs: ``(n,)`` right-hand side.

    Returns:
        ``(n,)`` solution ``x``.
    """
    par = parents_of(parents)
    n = par.shape[0]
    row_sums, rhs = jnp.asarray(row_sums), jnp.asarray(rhs)
    off = -dense_tree_matrix(par, jnp.zeros_like(row_sums), lower, upper)
    dtype = jnp.result_type(off, row_sums, rhs)
    for name, a in (("row_sums", row_sums), ("rhs", rhs)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    if n == 0:
        return jnp.zeros((0,), dtype)
    off, s, b = off.astype(dtype), row_sums.astype(dtype), rhs.astype(dtype)
    idx = jnp.arange(n)
    eye = jnp.eye(n, dtype=bool)

    def eliminate(k, carry):
        off, s, b, d = carry
        later = idx > k
        row = jnp.where(later, off[k], 0)
        d_k = s[k] + row.sum()
        f = jnp.where(later, off[:, k], 0) / d_k
        off = jnp.where(eye, 0, off + f[:, None] * row[None, :])
        return off, s + f * s[k], b + f * b[k], d.at[k].set(d_k)

    off, s, b, d = jax.lax.fori_loop(0, n, eliminate, (off, s, b, jnp.ones(n, dtype)))

    def substitute(j, x):
        k = n - 1 - j
        return x.at[k].set((b[k] + jnp.where(idx > k, off[k], 0) @ x) / d[k])

    return jax.lax.fori_loop(0, n, substitute, jnp.zeros(n, dtype))
