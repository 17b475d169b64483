"""Point-source potentials in a homogeneous medium (mV per nA).

Isotropic: φ = I / (4π σ r). Units: I in nA, σ in S/m, r in µm give φ in mV
(1e-9 A / (S/m · 1e-6 m) = 1e-3 V); 1 nA at 100 µm in σ = 0.3 S/m gives 0.0026526 mV.

Anisotropic (σx, σy, σz along the axes): φ = I / (4π sqrt(σy σz x² + σx σz y² + σx σy z²))
with (x, y, z) the displacement, equivalently φ = I / (4π sqrt(σx σy σz) |r'|) with the
scaled displacement r' = (x/√σx, y/√σy, z/√σz).

Distances below ``min_distance`` (the compartment radius) are raised to it; in the
anisotropic case the displacement is scaled to that length, keeping its direction (as
LFPykit does). All values and gradients are finite for min_distance > 0.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.extracellular.medium import Medium, as_medium
from simulator.extracellular.near_field import warn_within_radius


def point_source_matrix(targets, sources, medium: Medium | float, min_distance):
    """Potential at each target per unit current of each point source.

    Args:
        targets: (n_targets, 3) µm, where the potential is evaluated.
        sources: (n_sources, 3) µm, the point current sources.
        medium: a :class:`Medium` or σ in S/m (a number or (σx, σy, σz)).
        min_distance: µm, > 0, broadcastable to (n_targets, n_sources): the radius of the
            compartment each pair involves; shorter distances are raised to it.

    Returns:
        (n_targets, n_sources) matrix in mV/nA (= MΩ; 1000 mV per µA).
    """
    medium = as_medium(medium)
    delta = jnp.asarray(targets)[:, None, :] - jnp.asarray(sources)[None, :, :]
    r2 = jnp.sum(delta * delta, axis=-1)
    lim = jnp.asarray(min_distance)
    warn_within_radius(r2, lim, "point source")
    lim2 = jnp.broadcast_to(lim * lim, r2.shape)
    if not medium.anisotropic:
        return 1.0 / (4.0 * jnp.pi * medium.sigma * jnp.sqrt(jnp.maximum(r2, lim2)))
    return _anisotropic(delta, r2, lim2, medium.sigma)


def _anisotropic(delta, r2, lim2, sigma):
    """φ per unit current for displacements ``delta`` (..., 3) µm, σ (3,) S/m."""
    close = r2 < lim2
    zero = r2 == 0.0
    safe_r2 = jnp.where(zero, 1.0, r2)
    # A coincident pair has no direction: use x, as LFPykit does.
    direction_x = jnp.stack([jnp.ones_like(r2), jnp.zeros_like(r2), jnp.zeros_like(r2)], -1)
    delta = jnp.where(zero[..., None], direction_x, delta)
    scale2 = jnp.where(close, lim2 / jnp.where(zero, 1.0, safe_r2), 1.0)
    scale2 = jnp.where(zero, lim2, scale2)
    d2 = delta * delta * scale2[..., None]
    sx, sy, sz = sigma[0], sigma[1], sigma[2]
    weighted = sy * sz * d2[..., 0] + sx * sz * d2[..., 1] + sx * sy * d2[..., 2]
    return 1.0 / (4.0 * jnp.pi * jnp.sqrt(weighted))
