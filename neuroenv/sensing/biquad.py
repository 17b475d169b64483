"""A causal cascade of biquads (second-order sections) in JAX, transposed direct form II.

State layout: ``(..., n_channels, n_sections, 2)`` — the two delay registers of every
section of every channel; any leading batch axes. Samples: ``(..., n_channels)`` for one
step, ``(..., n_channels, n_samples)`` for a block (time last, as recordings are).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from neuroenv.sensing.design import Sos, check_sos


def sos_step(sos: jax.Array, state: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Filter one sample per channel.

    Args:
      sos: ``(n_sections, 6)`` coefficients, scipy layout, ``a0 == 1``.
      state: ``(..., n_sections, 2)`` delay registers.
      x: ``(...)`` input sample.

    Returns:
      ``(new_state, y)`` with ``y`` of the shape of ``x``.
    """
    registers = []
    for k in range(sos.shape[0]):
        b0, b1, b2, _, a1, a2 = (sos[k, i] for i in range(6))
        s1 = state[..., k, 0]
        s2 = state[..., k, 1]
        y = b0 * x + s1
        registers.append(jnp.stack([b1 * x - a1 * y + s2, b2 * x - a2 * y], axis=-1))
        x = y
    return jnp.stack(registers, axis=-2), x


def sos_block(sos: jax.Array, state: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Filter a block ``xs`` of shape ``(..., n_samples)`` with ``lax.scan`` over time.

    ``state`` is ``(..., n_sections, 2)``; returns ``(new_state, ys)`` with ``ys`` the shape
    of ``xs``. Running two blocks in turn equals running their concatenation.
    """

    def body(carry, x):
        return sos_step(sos, carry, x)

    state, ys = jax.lax.scan(body, state, jnp.moveaxis(xs, -1, 0))
    return state, jnp.moveaxis(ys, 0, -1)


@dataclasses.dataclass(frozen=True)
class SosFilter:
    """An IIR filter given by scipy ``sos`` coefficients (see ``neuroenv.sensing.design``).

    Hashable (coefficients are tuples of floats), so it can be a static ``jit`` argument;
    the filter is computed in the dtype of the state (coefficients are cast to it).
    """

    sos: Sos

    def __post_init__(self):
        object.__setattr__(self, "sos", check_sos(self.sos))

    @property
    def n_sections(self) -> int:
        """Number of biquads."""
        return len(self.sos)

    def init(self, batch_shape=(), n_channels: int = 1, dtype=jnp.float32) -> jax.Array:
        """Zero state ``(*batch_shape, n_channels, n_sections, 2)`` of ``dtype``."""
        return jnp.zeros((*tuple(batch_shape), n_channels, self.n_sections, 2), dtype)

    def coefficients(self, dtype) -> jax.Array:
        """The ``(n_sections, 6)`` coefficients as a JAX array of ``dtype``."""
        return jnp.asarray(self.sos, dtype)

    def step(self, state: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One sample ``x`` of shape ``(..., n_channels)``; returns ``(state, y)``."""
        return sos_step(self.coefficients(state.dtype), state, x.astype(state.dtype))

    def block(self, state: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
        """A block ``xs`` of shape ``(..., n_channels, n_samples)``; returns ``(state, ys)``."""
        return sos_block(self.coefficients(state.dtype), state, xs.astype(state.dtype))
