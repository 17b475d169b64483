"""Sensing delay: a delay line that holds the last ``n`` samples of every channel.

State: ``(..., n_channels, n)`` — the samples still in flight, oldest first. A block of
``m`` samples comes out as the ``m`` samples that went in ``n`` samples earlier (zeros
before the first ``n``), exactly: no interpolation, any ``m`` (shorter or longer than
``n``). The buffer is shifted per block rather than indexed per sample, so a block costs
one concatenation and no scan.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class DelayLine:
    """Delay by ``n`` samples (``n`` >= 0; 0 passes the input through)."""

    n: int

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValueError(f"n (delay in samples) must be an integer >= 0, got {self.n!r}")

    def init(self, batch_shape=(), n_channels: int = 1, dtype=jnp.float32) -> jax.Array:
        """Zero buffer ``(*batch_shape, n_channels, n)``."""
        return jnp.zeros((*tuple(batch_shape), n_channels, self.n), dtype)

    def block(self, state: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
        """A block ``(..., n_channels, m)``; returns ``(state, delayed block)``."""
        m = xs.shape[-1]
        stream = jnp.concatenate([state, xs.astype(state.dtype)], axis=-1)
        return stream[..., m:], stream[..., :m]

    def step(self, state: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One sample ``(..., n_channels)``; returns ``(state, delayed sample)``."""
        state, ys = self.block(state, x[..., None])
        return state, ys[..., 0]
