"""Geometry of one compartment from its traced points, as jaxley 0.14's graph backend
computes it: points split into equal path-length pieces, frustum area, volume and the
resistive loads of the two halves.

Units: µm (coordinates, radius), µm² (area), µm³ (volume), µm⁻¹ (resistive load,
∫ dl / (π r²)).
"""

from __future__ import annotations

import numpy as np

#: Smallest distance (µm) between consecutive points used as a divisor.
_MIN_SEGMENT = 1e-14


def split_xyzr(xyzr: np.ndarray, n: int) -> list[np.ndarray]:
    """Split (N, 4) traced points into ``n`` pieces of equal path length.

    Cut points are interpolated (x, y, z, r linearly) and end one piece and start the
    next. A single point is returned ``n`` times.
    """
    if len(xyzr) == 1:
        return [xyzr] * n
    steps = np.linalg.norm(np.diff(xyzr[:, :3], axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(steps)])
    targets = np.linspace(0, s[-1], n + 1)
    seg = np.clip(np.searchsorted(s, targets, side="right") - 1, 0, len(xyzr) - 2)
    frac = ((targets - s[seg]) / np.where(steps < _MIN_SEGMENT, _MIN_SEGMENT, steps)[seg])
    cuts = xyzr[seg] + frac[:, None] * (xyzr[seg + 1] - xyzr[seg])
    pieces = []
    for k in range(1, n + 1):
        inner = xyzr[(s > targets[k - 1]) & (s < targets[k])]
        pieces.append(np.vstack([cuts[k - 1], *inner, cuts[k]]))
    return pieces


def _steps(xyzr: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(xyzr[:, :3], axis=0), axis=1)


def resistive_load(xyzr: np.ndarray) -> float:
    """∫ dl / (π r²) (µm⁻¹) over the frustums between consecutive points."""
    lengths, r0, r1 = _steps(xyzr), xyzr[:-1, 3], xyzr[1:, 3]
    dr = r1 - r0
    flat = np.isclose(dr, 0)
    out = np.empty_like(lengths)
    out[flat] = lengths[flat] / r0[flat] ** 2
    out[~flat] = lengths[~flat] / dr[~flat] * (1 / r0[~flat] - 1 / r1[~flat])
    return float(np.sum(out) / np.pi)


def compartment_attrs(xyzr: np.ndarray, min_radius, ncomp: int) -> tuple:
    """``(radius, area, volume, resistive_load_in, resistive_load_out)`` of one piece.

    The radius is the length-weighted mean of the points' radii (a single point: a sphere
    shared by ``ncomp`` compartments). Raises ValueError on a radius of 0 without
    ``min_radius``; with it, smaller (or NaN) radii become ``min_radius``.
    """
    r = xyzr[:, 3]
    if len(xyzr) > 1:
        lengths = _steps(xyzr)
        weights = np.zeros(len(lengths) + 1)
        weights[1:] += lengths
        weights[:-1] += lengths
        radius = np.sum(r * (weights / np.sum(weights)))
        slant = np.sqrt((r[1:] - r[:-1]) ** 2 + lengths ** 2)
        area = np.sum(np.pi * (r[:-1] + r[1:]) * slant)
        volume = np.sum((np.pi / 3) * lengths * (r[:-1] ** 2 + r[:-1] * r[1:] + r[1:] ** 2))
        loads = [resistive_load(half) for half in split_xyzr(xyzr, 2)]
    else:
        radius = r.mean()
        area = 4 * np.pi * r[0] ** 2 / ncomp
        volume = 4 / 3 * np.pi * r[0] ** 3 / ncomp
        loads = [r[0] / ncomp / r[0] ** 2 / np.pi] * 2
    if min_radius is None:
        if not radius > 0.0:
            raise ValueError(f"an SWC compartment has radius {radius} µm: pass"
                             " read_swc(..., min_radius=...) to clip radii")
    elif radius < min_radius or np.isnan(radius):
        radius = min_radius
    return radius, area, volume, *loads
