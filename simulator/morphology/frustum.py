"""Compartment geometry integrated over traced points (truncated cones, NEURON-compatible).

Between two traced points the radius varies linearly with path length, so each piece is a
frustum: lateral area π(r₁+r₂)·√((r₂−r₁)² + ℓ²), volume πℓ(r₁² + r₁r₂ + r₂²)/3 and
resistive load ∫dl/(πr²) = ℓ/(π r₁ r₂). A compartment's pieces are cut at its boundaries and
at its centre (for the proximal and distal half loads) with interpolated radii.
"""

from __future__ import annotations

import numpy as np

from simulator.modules.topology import comp_offsets


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
    ra, rb, ell = ra[inside], rb[inside], ell[inside]
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
    bounds = np.linspace(0.0, s[-1], 2 * ncomp + 1)
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


#: Sections of at most this many traced points are integrated together by
#: :func:`compartment_geometry_many`; their pieces (≤ 7 per interval) are summed in index
#: order, which is exactly what ``np.sum`` does for fewer than 8 terms, so the results equal
#: :func:`compartment_geometry` bit for bit. Longer sections go through that function.
BATCH_MAX_POINTS = 8
#: Upper bound on the elements of one batched (sections, intervals, pieces) temporary.
_BATCH_ELEMENTS = 1 << 20


def _bounds(totals: np.ndarray, ncomp: int) -> np.ndarray:
    """(g, 2 ncomp + 1) ``np.linspace(0, total, 2 ncomp + 1)`` of each total, computed as
    ``np.linspace`` computes it for a scalar end (``k * (total / div)``, last = total)."""
    div = 2 * ncomp
    y = np.arange(0, div + 1, dtype=float)[None, :] * (totals / div)[:, None]
    y[:, -1] = totals
    return y


def _interp_rows(x: np.ndarray, s: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Row-wise ``np.interp(x[i], s[i], fp[i])`` for 0 ≤ x ≤ s[i, -1] (numpy's formula:
    ``slope * (x - s_j) + fp_j`` on the last interval with s_j ≤ x, ``fp[-1]`` at the end)."""
    m = s.shape[1]
    j = np.maximum(np.minimum((s[:, None, :] <= x[:, :, None]).sum(axis=2) - 1, m - 2), 0)
    s_j = np.take_along_axis(s, j, axis=1)
    s_k = np.take_along_axis(s, j + 1, axis=1)
    f_j = np.take_along_axis(fp, j, axis=1)
    f_k = np.take_along_axis(fp, j + 1, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (f_k - f_j) / (s_k - s_j)
        out = slope * (x - s_j) + f_j
        nan = np.isnan(out)
        if nan.any():
            alt = slope * (x - s_k) + f_k
            alt = np.where(np.isnan(alt) & (f_j == f_k), f_j, alt)
            out = np.where(nan, alt, out)
    return np.where(x == s[:, -1:], fp[:, -1:], out)


def _integrals_rows(s, radius, a, b, closed):
    """:func:`_integrals` for g sections (s, radius: (g, m)) and k intervals each (a, b,
    closed: (g, k)); returns four (g, k) arrays. Pieces outside an interval add exact zeros."""
    s0, s1 = s[:, None, :-1], s[:, None, 1:]
    r0, r1 = radius[:, None, :-1], radius[:, None, 1:]
    a3, b3 = a[:, :, None], b[:, :, None]
    lo, hi = np.maximum(s0, a3), np.minimum(s1, b3)
    step = s1 == s0
    inside = np.where(step, (s0 >= a3) & ((s0 < b3) | (closed[:, :, None] & (s0 <= b3))),
                      hi > lo)
    ell = np.where(inside & ~step, hi - lo, 0.0)
    span = np.where(step, 1.0, s1 - s0)
    ra = np.where(step, r0, r0 + (r1 - r0) * (lo - s0) / span)
    rb = np.where(step, r1, r0 + (r1 - r0) * (hi - s0) / span)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        area = np.sum(np.where(inside, np.pi * (ra + rb) * np.sqrt((rb - ra) ** 2 + ell**2),
                               0.0), axis=2)
        volume = np.sum(np.where(inside, np.pi * ell * (ra**2 + ra * rb + rb**2) / 3.0, 0.0),
                        axis=2)
        load = np.sum(np.where(inside, ell / (np.pi * ra * rb), 0.0), axis=2)
        weighted = np.sum(np.where(inside, ell * (ra + rb) / 2.0, 0.0), axis=2)
        mean_radius = np.where(b > a, weighted / np.where(b > a, b - a, 1.0), radius[:, :1])
    return area, volume, load, mean_radius


def _geometry_rows(xyz: np.ndarray, radius: np.ndarray, ncomp: int) -> dict[str, np.ndarray]:
    """:func:`compartment_geometry` of g sections of m points each: xyz (g, m, 3), radius
    (g, m); (g, ncomp) arrays."""
    s = np.concatenate([np.zeros((len(xyz), 1)),
                        np.cumsum(np.linalg.norm(np.diff(xyz, axis=1), axis=2), axis=1)], axis=1)
    bounds = _bounds(s[:, -1], ncomp)
    a, c, b = bounds[:, 0:-1:2], bounds[:, 1::2], bounds[:, 2::2]
    last = np.zeros(a.shape, dtype=bool)
    last[:, -1] = True
    area_in, vol_in, load_in, r_in = _integrals_rows(s, radius, a, c, np.zeros_like(last))
    area_out, vol_out, load_out, r_out = _integrals_rows(s, radius, c, b, last)
    out = {
        "length": b - a,
        "radius": (r_in + r_out) / 2.0,
        "area": area_in + area_out,
        "volume": vol_in + vol_out,
        "resistive_load_in": load_in,
        "resistive_load_out": load_out,
    }
    for d, key in enumerate("xyz"):
        out[key] = _interp_rows(c, s, xyz[:, :, d])
    return out


GEOMETRY_KEYS = ("length", "radius", "area", "volume", "resistive_load_in",
                 "resistive_load_out", "x", "y", "z")


def compartment_geometry_many(xyz: np.ndarray, radius: np.ndarray, offsets: np.ndarray,
                              ncomp: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`compartment_geometry` of many sections, concatenated in section order.

    Args:
        xyz: (N, 3) traced points of all sections (µm); section i's are rows
            ``offsets[i]:offsets[i + 1]`` (at least 2, path length > 0).
        radius: (N,) radii (µm), positive.
        offsets: (n_sections + 1,) first point of each section, then N.
        ncomp: (n_sections,) compartments of each section.

    Returns:
        the keys of :func:`compartment_geometry`, each a (sum(ncomp),) array, equal bit for
        bit to concatenating its per-section results. Sections of at most
        ``BATCH_MAX_POINTS`` points are computed together, grouped by (points, ncomp), so
        the time is linear in the number of sections rather than a Python loop per section.
    """
    ncomp = np.asarray(ncomp, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_points = np.diff(offsets)
    first = comp_offsets(ncomp)
    out = {k: np.empty(int(first[-1])) for k in GEOMETRY_KEYS}
    batched = n_points <= BATCH_MAX_POINTS
    for i in np.flatnonzero(~batched):
        a, b = offsets[i], offsets[i + 1]
        geometry = compartment_geometry(xyz[a:b], radius[a:b], int(ncomp[i]))
        for k in GEOMETRY_KEYS:
            out[k][first[i] : first[i + 1]] = geometry[k]
    if not batched.any():
        return out
    key = n_points * (int(ncomp.max()) + 1) + ncomp
    idx_batched = np.flatnonzero(batched)
    order = idx_batched[np.argsort(key[idx_batched], kind="stable")]
    keys = key[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for lo, hi in zip(starts, ends, strict=True):
        m, n = int(n_points[order[lo]]), int(ncomp[order[lo]])
        chunk = max(1, _BATCH_ELEMENTS // (2 * n * max(m - 1, 1)))
        for c0 in range(lo, hi, chunk):
            idx = order[c0 : min(c0 + chunk, hi)]
            points = offsets[idx][:, None] + np.arange(m)[None, :]
            rows = _geometry_rows(xyz[points], radius[points], n)
            target = (first[idx][:, None] + np.arange(n)[None, :]).ravel()
            for k in GEOMETRY_KEYS:
                out[k][target] = rows[k].ravel()
    return out
