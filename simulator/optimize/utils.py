"""Helpers for training loops (jaxley's ``jaxley.optimize.utils``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["l2_norm"]


def l2_norm(x):
    """Euclidean norm of all entries of a pytree, ``sqrt(Σ_leaves Σ leaf²)``.

    Args:
        x: a pytree of scalars / arrays (e.g. gradients from ``jax.grad``).

    Returns:
        A scalar array (the leaves' unit). Leaves are summed in pytree order.
    """
    total = 0.0
    for leaf in jax.tree_util.tree_leaves(x):
        total = total + jnp.sum(jnp.square(leaf))
    return jnp.sqrt(total)
