"""A jittable Box space (gymnax-style) that converts to a gymnasium Box."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Box:
    """Continuous box ``low <= x <= high`` of a fixed shape and dtype (float32 by default).

    Attributes:
        low, high: numpy arrays of ``shape`` (finite).
        shape: tuple of ints.
        dtype: numpy dtype.
    """

    low: np.ndarray
    high: np.ndarray
    shape: tuple[int, ...]
    dtype: np.dtype = np.dtype(np.float32)

    @classmethod
    def make(cls, low, high, shape=None, dtype=np.float32) -> Box:
        shape = tuple(np.broadcast(np.asarray(low), np.asarray(high)).shape if shape is None
                      else shape)
        low = np.broadcast_to(np.asarray(low, dtype=dtype), shape).copy()
        high = np.broadcast_to(np.asarray(high, dtype=dtype), shape).copy()
        if np.any(low > high) or not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(f"Box bounds must be finite with low <= high, got {low}, {high}")
        return cls(low=low, high=high, shape=shape, dtype=np.dtype(dtype))

    def sample(self, key) -> jax.Array:
        """A uniform sample (jittable)."""
        return jax.random.uniform(key, self.shape, self.dtype, self.low, self.high)

    def contains(self, x) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.logical_and(jnp.all(x >= self.low), jnp.all(x <= self.high)) & (
            x.shape == self.shape)

    def to_gymnasium(self):
        import gymnasium

        return gymnasium.spaces.Box(self.low, self.high, self.shape, self.dtype)
