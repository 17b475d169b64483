"""Line-source potentials (Holt & Koch 1999) in a homogeneous medium (mV per nA).

A segment from a to b (length L, µm) carries its current I (nA) spread uniformly along its
axis. At a contact with perpendicular distance r from the axis line and axial coordinates
h (of the contact relative to b) and l = h + L (relative to a), both along the unit vector
from a to b, the potential is

    φ = I / (4π σ L) · [asinh(l / r) − asinh(h / r)]      (mV for nA, S/m, µm).

Holt's thesis splits this into three cases (contact before the segment: h < 0, l < 0;
alongside: h < 0 ≤ l; beyond it: h ≥ 0), which LFPykit evaluates as logarithms. Here the
alongside case uses the asinh difference (no cancellation: the terms have opposite signs)
and the two outer cases the exact rewrite

    asinh(l/r) − asinh(h/r) = asinh(L (|l| + |h|) / (|l| √(r² + h²) + |h| √(r² + l²))),

which has no cancellation when h and l share a sign (a contact far along the axis).
r below the segment radius is raised to it (LFPykit's rule); a zero-length segment falls
back to the point source at its position.

Anisotropic media (σx, σy, σz): in the scaled coordinates r' = (x/√σx, y/√σy, z/√σz) the
point source is φ = I / (4π √(σx σy σz) |r'|) (see :mod:`point_source`), so the line
source is the isotropic formula above on the scaled contact and segment with σ replaced by
√(σx σy σz). The minimum distance is applied in the scaled space as radius / g^(1/2), g the
geometric mean (σx σy σz)^(1/3), which is exact when σx = σy = σz.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.extracellular.medium import Medium, as_medium
from simulator.extracellular.near_field import warn_within_radius


def line_source_matrix(contacts, starts, ends, medium: Medium | float, radii):
    """Potential at each contact per unit current of each line segment.

    Args:
        contacts: (n_contacts, 3) µm.
        starts, ends: (n_segments, 3) µm, the segments' end points.
        medium: a :class:`Medium` or σ in S/m (a number or (σx, σy, σz)).
        radii: (n_segments,) µm, > 0: minimum perpendicular distance to each axis.

    Returns:
        (n_contacts, n_segments) matrix in mV/nA.
    """
    medium = as_medium(medium)
    if medium.anisotropic:
        scale = 1.0 / jnp.sqrt(medium.sigma)
        product = jnp.prod(medium.sigma)
        return _isotropic(jnp.asarray(contacts) * scale, jnp.asarray(starts) * scale,
                          jnp.asarray(ends) * scale, jnp.sqrt(product),
                          jnp.asarray(radii) / product ** (1.0 / 6.0))
    return _isotropic(contacts, starts, ends, medium.sigma, radii)


def _isotropic(contacts, starts, ends, sigma, radii):
    """The isotropic line-source matrix (n_contacts, n_segments), mV/nA, σ in S/m."""
    a, b = jnp.asarray(starts)[None], jnp.asarray(ends)[None]
    p = jnp.asarray(contacts)[:, None, :]
    axis = b - a
    length2 = jnp.sum(axis * axis, axis=-1)
    degenerate = length2 == 0.0
    length = jnp.sqrt(jnp.where(degenerate, 1.0, length2))
    unit = axis / length[..., None]
    h = jnp.sum((p - b) * unit, axis=-1)
    l_ = h + length
    cross = jnp.cross(p - b, unit)
    perp2 = jnp.sum(cross * cross, axis=-1)
    radii = jnp.asarray(radii)
    warn_within_radius(perp2, radii, "line source")
    r2 = jnp.maximum(perp2, radii * radii)
    integral = _axial_integral(h, l_, r2, length)
    line = integral / (4.0 * jnp.pi * sigma * length)
    centre2 = jnp.maximum(jnp.sum((p - a) ** 2, axis=-1), radii * radii)
    point = 1.0 / (4.0 * jnp.pi * sigma * jnp.sqrt(centre2))
    return jnp.where(degenerate, point, line)


def _axial_integral(h, l_, r2, length):
    """∫ ds / √(s² + r²) from h to l (dimensionless), stable in every case."""
    r = jnp.sqrt(r2)
    alongside = (h < 0.0) & (l_ >= 0.0)
    inner = jnp.arcsinh(l_ / r) - jnp.arcsinh(h / r)
    ah, al = jnp.abs(h), jnp.abs(l_)
    denom = al * jnp.sqrt(r2 + h * h) + ah * jnp.sqrt(r2 + l_ * l_)
    safe = jnp.where(alongside | (denom == 0.0), 1.0, denom)
    outer = jnp.arcsinh(length * (al + ah) / safe)
    return jnp.where(alongside, inner, outer)
