"""``lax.scan`` with optional nested gradient checkpointing.

With lengths (l1, ..., lk), the scan is split into k nested levels, each wrapped in
``jax.checkpoint``: reverse-mode memory holds about Σ lᵢ carries instead of Π lᵢ.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax


def nested_checkpoint_scan(f, init, xs, lengths, n_steps: int):
    """Scan ``f`` over the first ``n_steps`` rows of ``xs`` (zero-padded to Π lengths)."""
    if lengths is None or len(lengths) == 1:
        return lax.scan(f, init, xs, length=n_steps)
    total = math.prod(lengths)
    xs = jax.tree_util.tree_map(
        lambda x: jnp.pad(x, [(0, total - x.shape[0])] + [(0, 0)] * (x.ndim - 1)), xs
    )
    return _nested(f, init, xs, tuple(lengths))


def _nested(f, carry, xs, lengths):
    if len(lengths) == 1:
        return lax.scan(f, carry, xs)
    outer, inner = lengths[0], math.prod(lengths[1:])
    split = jax.tree_util.tree_map(lambda x: x.reshape(outer, inner, *x.shape[1:]), xs)

    @jax.checkpoint
    def body(c, x):
        return _nested(f, c, x, lengths[1:])

    carry, ys = lax.scan(body, carry, split)
    return carry, jax.tree_util.tree_map(lambda y: y.reshape(outer * inner, *y.shape[2:]), ys)
