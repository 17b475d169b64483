"""The morphology side panel of :mod:`neuroenv.render` frames: a cell's x–y projection (µm)
with its stimulation sites and target compartment, and the per-module cache of those points.
"""

from __future__ import annotations

import weakref

import numpy as np

from neuroenv.raster import AXES, NEURITE, SITE_COLORS, TARGET, draw_box, draw_segments, draw_text


def draw_morphology(img, morphology: dict, left: int, right: int, top: int, bottom: int,
                     scale: int) -> None:
    """The cell (x–y projection) fitted into the box, sites numbered, target boxed red."""
    branches = [np.asarray(b, np.float64).reshape(-1, 2) for b in morphology["branches"]]
    sites = np.asarray(morphology.get("sites", np.zeros((0, 2))), np.float64).reshape(-1, 2)
    target = morphology.get("target")
    points = np.concatenate(branches + [sites] + ([np.reshape(target, (1, 2))]
                                                 if target is not None else []))
    points = points[np.all(np.isfinite(points), axis=1)]
    text_h = 5 * scale
    box_top, box_bottom = top, bottom - 2 * text_h - 4 * scale  # room for the scale bar
    if points.size == 0 or box_bottom - box_top < 8 or right - left < 8:
        return
    (x_lo, y_lo), (x_hi, y_hi) = points.min(axis=0), points.max(axis=0)
    span = max(x_hi - x_lo, y_hi - y_lo, 1e-9)
    px = min((right - left - 6) / max(x_hi - x_lo, 1e-9 * span),
             (box_bottom - box_top - 6) / max(y_hi - y_lo, 1e-9 * span))
    x_mid, y_mid = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    c_mid, r_mid = (left + right) / 2, (box_top + box_bottom) / 2

    def to_px(xy):
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        return c_mid + (xy[:, 0] - x_mid) * px, r_mid - (xy[:, 1] - y_mid) * px

    starts = [b[:-1] for b in branches if len(b) > 1]
    ends = [b[1:] for b in branches if len(b) > 1]
    if starts:
        (c0, r0), (c1, r1) = to_px(np.concatenate(starts)), to_px(np.concatenate(ends))
        draw_segments(img, c0, r0, c1, r1, NEURITE)
    h, w = img.shape[:2]
    if target is not None:
        c, r = (int(np.rint(v[0])) for v in to_px(target))
        for d in (3, 4):
            draw_box(img, max(r - d, 0), max(c - d, 0), min(r + d, h - 1), min(c + d, w - 1),
                      TARGET)
        draw_text(img, "T", r - d - text_h - 1, c, TARGET, scale, align="center")
    cols, rows = to_px(sites)
    for s, (c, r) in enumerate(zip(np.rint(cols).astype(int), np.rint(rows).astype(int),
                                   strict=True)):
        color = SITE_COLORS[s % len(SITE_COLORS)]
        img[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] = color
        draw_text(img, str(s), r - text_h // 2, c + 4, color, scale)
    # scale bar: the largest round length (1, 2 or 5 × 10^k µm) within a third of the panel
    most = (right - left) / px / 3
    power = 10.0 ** np.floor(np.log10(most))
    length = max(m * power for m in (1.0, 2.0, 5.0) if m * power <= most)
    if np.isfinite(length) and length > 0:
        r = bottom - text_h - 2 * scale
        c0 = right - int(np.rint(length * px))
        img[r:r + scale, c0:right + 1] = AXES
        draw_text(img, f"{length:g} um", r + 2 * scale, right, AXES, scale, align="right")


#: id(module) -> (weakref to the module, morphology arrays) (the projection of a cell is
#: static, so it is computed once per module).
_MORPHOLOGY_CACHE: dict = {}


def cell_morphology(env) -> dict:
    """Branch polylines, site and recording positions (x, y in µm) of ``env.module``."""
    module = env.module
    cached = _MORPHOLOGY_CACHE.get(id(module))
    if cached is not None and cached[0]() is module:
        return cached[1]
    base = module.base
    branches = [np.asarray(b, np.float64)[:, :2] for b in base.xyzr]
    xyz = base.nodes[["x", "y", "z"]].to_numpy(dtype=np.float64)
    data = {"branches": branches, "sites": xyz[np.asarray(env.site_nodes), :2],
            "recordings": xyz[np.asarray(env.rec_inds), :2]}
    _MORPHOLOGY_CACHE[id(module)] = (weakref.ref(module), data)
    return data
