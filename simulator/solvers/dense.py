"""Dense reference path for tree-structured linear systems.

Builds the full ``(n, n)`` matrix of a tree system (see ``simulator.solvers.dhs``) and
solves it with ``jnp.linalg.solve``: O(n^3), meant for tests and small cells.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .dhs import TreeSchedule, check_parents

__all__ = ["dense_solve", "dense_tree_matrix"]


def _parents_of(parents_or_schedule) -> np.ndarray:
    if isinstance(parents_or_schedule, TreeSchedule):
        return parents_or_schedule.parents
    return check_parents(parents_or_schedule)


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
    par = _parents_of(parents)
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
    a = a.at[p, child].set(upper[child].astype(dtype))
    return a


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
