"""An identity that XLA cannot fuse into its consumers.

XLA fuses elementwise producers into a gather, and a fused gather evaluates its operand at
every gathered index: per-node terms gathered per synapse (``terms[inverse]``) are then
recomputed once per synapse instead of once per node. On CPU,
``jax.lax.optimization_barrier`` does not prevent this (XLA's CPU pipeline removes
barriers before fusion), but a scatter is never fused into a consumer, so writing the values
through an identity scatter keeps them computed once. Measured (float64, 1 CPU thread,
1,000 nodes gathered to 100k synapses, two exp per node): 316 µs -> 93 µs per step.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def materialised(x):
    """``x`` unchanged (bitwise), computed once before any consumer.

    Args:
        x: (n, ...) array.

    Returns:
        an array equal to ``x``, written by an identity scatter along axis 0.
    """
    rows = np.arange(x.shape[0])
    return jnp.zeros_like(x).at[rows].set(x, unique_indices=True, indices_are_sorted=True)
