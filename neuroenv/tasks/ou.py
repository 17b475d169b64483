"""Ornstein–Uhlenbeck current noise, the drive of the Silence-v0 and Desynchronize-v0 tasks."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def ou_currents(x0, key, mean, std, tau, substeps: int, delta_t: float):
    """Ornstein–Uhlenbeck currents over one control period (exact discretisation).

    ``x[k+1] = mean + a (x[k] − mean) + std √(1 − a²) ξ[k]`` with ``a = exp(−delta_t / tau)``
    and ξ standard normal: the stationary law is N(mean, std²) for any ``delta_t``.

    Args:
        x0: (n,) OU state (nA) at the start of the period.
        key: PRNG key of the period's noise.
        mean, std: stationary mean and standard deviation (nA).
        tau: correlation time (ms).
        substeps: solver steps per period (static).
        delta_t: solver step (ms).

    Returns:
        ``(x_end, currents)``: (n,) state after the period and (substeps, n) currents (nA),
        the current of solver step k being the state after k + 1 updates.
    """
    a = jnp.exp(-delta_t / tau)
    kick = std * jnp.sqrt(1.0 - a * a)
    noise = jax.random.normal(key, (substeps, *x0.shape), jnp.float32)

    def update(x, xi):
        x = mean + a * (x - mean) + kick * xi
        return x, x

    return jax.lax.scan(update, x0, noise)
