"""Compartment geometry integrated over traced points (truncated cones, NEURON-compatible).

Between two traced points the radius varies linearly with path length, so each piece is a
frustum: lateral area π(r₁+r₂)·√((r₂−r₁)² + ℓ²), volume πℓ(r₁² + r₁r₂ + r₂²)/3 and
resistive load ∫dl/(πr²) = ℓ/(π r₁ r₂). A compartment's pieces are cut at its boundaries and
at its centre (for the proximal and distal half loads) with interpolated radii.
"""

from __future__ import annotations

import numpy as np


def _integrals(s: np.ndarray, radius: np.ndarray, a: float, b: float, closed: bool):
    """Area, volume, load and mean radius of the polyline between path positions a and b.

    Pieces of zero length (a radius step at one position) count in full towards the
    interval holding their position, [a, b) or, for the last interval, [a, b].
    """
    s0, s1 = s[:-1], s[1:]
    r0, r1 = radius[:-1], radius[1:]
    lo, hi = np.maximum(s0, a), np.minimum(s1, b)
    step = s1 == s0
    inside = np.where(step, (s0 >= a) & ((s0 < b) | (closed & (s0 <= b))), hi > lo)
    ell = np.where(inside & ~step, hi - lo, 0.0)
    span = np.where(step, 1.0, s1 - s0)
    ra = np.where(step, r0, r0 + (r1 - r0) * (lo - s0) / span)
    rb = np.where(step, r1, r0 + (r1 - r0) * (hi - s0) / span)
    ra, rb = ra[inside], rb[inside]
    ell = ell[inside]
    area = np.sum(np.pi * (ra + rb) * np.sqrt((rb - ra) ** 2 + ell**2))
    volume = np.sum(np.pi * ell * (ra**2 + ra * rb + rb**2) / 3.0)
    load = np.sum(ell / (np.pi * ra * rb))
    mean_radius = np.sum(ell * (ra + rb) / 2.0) / (b - a) if b > a else float(radius[0])
    return area, volume, load, mean_radius


def compartment_geometry(xyz: np.ndarray, radius: np.ndarray, ncomp: int) -> dict[str, np.ndarray]:
    """Split a traced section into ``ncomp`` compartments of equal path length.

    Args:
        xyz: (m, 3) traced points (µm), m ≥ 2, total path length > 0.
        radius: (m,) radii (µm), positive.
        ncomp: number of compartments.

    Returns:
        (ncomp,) arrays ``length`` (µm), ``radius`` (µm, length-weighted mean), ``area``
        (µm²), ``volume`` (µm³), ``resistive_load_in`` / ``resistive_load_out`` (µm⁻¹, the
        proximal / distal half) and ``x``, ``y``, ``z`` (µm, compartment centres).
    """
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xyz, axis=0), axis=1))])
    total = s[-1]
    bounds = np.linspace(0.0, total, 2 * ncomp + 1)
    out = {k: np.empty(ncomp) for k in ("length", "radius", "area", "volume",
                                         "resistive_load_in", "resistive_load_out")}
    for k in range(ncomp):
        a, c, b = bounds[2 * k], bounds[2 * k + 1], bounds[2 * k + 2]
        last = k == ncomp - 1
        area_in, vol_in, load_in, r_in = _integrals(s, radius, a, c, False)
        area_out, vol_out, load_out, r_out = _integrals(s, radius, c, b, last)
        out["length"][k] = b - a
        out["radius"][k] = (r_in + r_out) / 2.0
        out["area"][k] = area_in + area_out
        out["volume"][k] = vol_in + vol_out
        out["resistive_load_in"][k] = load_in
        out["resistive_load_out"][k] = load_out
    centres = np.stack([np.interp(bounds[1::2], s, xyz[:, d]) for d in range(3)], axis=1)
    out["x"], out["y"], out["z"] = centres.T
    return out
