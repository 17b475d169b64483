"""A tiny NumPy rasteriser for ``render()`` frames (no plotting dependency).

:func:`render_trace` draws a voltage trace into an (H, W, 3) uint8 image: white background,
light grid lines every 20 mV, a black axes box, the trace in blue, an optional target in red
(a horizontal line, or a target trace), optional red tick marks (e.g. requested spike
times), and an optional bar under the plot comparing a rate (blue) with a target rate (red
tick). Tasks choose what is drawn with ``Task.render_info``.
"""

from __future__ import annotations

import numpy as np

BACKGROUND = (255, 255, 255)
AXES = (0, 0, 0)
GRID = (225, 225, 225)
TRACE = (31, 119, 180)
TARGET = (214, 39, 40)


def draw_polyline(img: np.ndarray, xs, ys, color, thickness: int = 1) -> None:
    """Draw the segments through the points ``(xs[i], ys[i])`` (pixel column, row) in place.

    Points are connected by sampling each segment at every pixel step; pixels outside the
    image are dropped.
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if xs.size == 0:
        return
    if xs.size == 1:
        px, py = xs, ys
    else:
        dx, dy = np.diff(xs), np.diff(ys)
        counts = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))), 1).astype(np.int64)
        seg = np.repeat(np.arange(counts.size), counts)
        starts = np.cumsum(counts) - counts
        t = (np.arange(counts.sum()) - starts[seg]) / counts[seg]
        px = np.append(xs[:-1][seg] + t * dx[seg], xs[-1])
        py = np.append(ys[:-1][seg] + t * dy[seg], ys[-1])
    cols = np.rint(px).astype(np.int64)
    rows = np.rint(py).astype(np.int64)
    h, w = img.shape[:2]
    for offset in range(thickness):
        r = rows + offset
        keep = (r >= 0) & (r < h) & (cols >= 0) & (cols < w)
        img[r[keep], cols[keep]] = color


def _draw_box(img, top, left, bottom, right, color) -> None:
    img[top, left:right + 1] = color
    img[bottom, left:right + 1] = color
    img[top:bottom + 1, left] = color
    img[top:bottom + 1, right] = color


def render_trace(trace, *, target=None, v_range=(-100.0, 60.0),
                 rate: float | None = None, rate_target: float | None = None,
                 rate_max: float = 100.0, markers=None, height: int = 240,
                 width: int = 320) -> np.ndarray:
    """An (height, width, 3) uint8 frame of a voltage trace.

    Args:
        trace: 1-D voltages (mV), oldest first, spread over the plot's width (values outside
            ``v_range`` are drawn at its edge; non-finite values at the lower edge).
        target: a target voltage (mV) drawn as a horizontal line, a 1-D target trace
            aligned with ``trace`` (drawn as a red polyline), or ``None``.
        v_range: (low, high) voltages (mV) of the plot's bottom and top edges.
        rate, rate_target: if given, a bar under the plot shows ``rate`` (Hz) on a scale of
            ``[0, rate_max]`` with a tick at ``rate_target``.
        markers: sample indices into ``trace`` marked by red ticks at the top of the plot.
        height, width: frame size in pixels (at least 32 x 32).
    """
    if height < 32 or width < 32:
        raise ValueError(f"frame must be at least 32 x 32 pixels, got {height} x {width}")
    img = np.empty((height, width, 3), np.uint8)
    img[...] = BACKGROUND
    margin = 8
    bar_h = 14 if rate is not None else 0
    top, left = margin, margin
    right = width - 1 - margin
    bottom = height - 1 - margin - (bar_h + margin if bar_h else 0)
    lo, hi = float(v_range[0]), float(v_range[1])

    def row_of(v):
        v = np.clip(np.nan_to_num(np.asarray(v, np.float64), nan=lo, posinf=hi, neginf=lo),
                    lo, hi)
        return bottom - 1 - (v - lo) / (hi - lo) * (bottom - top - 2)

    for v in np.arange(np.ceil(lo / 20.0) * 20.0, hi + 1e-9, 20.0):
        r = int(np.rint(row_of(v)))
        img[r, left + 1:right] = GRID
    _draw_box(img, top, left, bottom, right, AXES)

    trace = np.asarray(trace, np.float64).reshape(-1)
    n = trace.size

    def col_of(i):
        return left + 1 + np.asarray(i, np.float64) * (right - left - 2) / max(n - 1, 1)

    if target is not None and np.ndim(target) == 0:
        r = int(np.rint(row_of(target)))
        img[r, left + 1:right] = TARGET
    elif target is not None:
        target = np.asarray(target, np.float64).reshape(-1)
        if target.size != n:
            raise ValueError(f"a target trace must have the trace's {n} samples, got "
                             f"{target.size}")
        draw_polyline(img, col_of(np.arange(n)), row_of(target), TARGET)
    if n:
        draw_polyline(img, col_of(np.arange(n)), row_of(trace), TRACE, thickness=2)
    if markers is not None and n:
        for i in np.asarray(markers, np.float64).reshape(-1):
            if 0 <= i <= n - 1:
                c = int(np.rint(col_of(i)))
                img[top + 1:top + 9, max(c - 1, left + 1):c + 1] = TARGET

    if rate is not None:
        b_top, b_bottom = bottom + margin, bottom + margin + bar_h
        scale = (right - left - 2) / max(float(rate_max), 1e-9)
        fill = int(np.clip(np.rint(np.nan_to_num(rate) * scale), 0, right - left - 2))
        img[b_top + 1:b_bottom, left + 1:left + 1 + fill] = TRACE
        if rate_target is not None:
            c = left + 1 + int(np.clip(np.rint(rate_target * scale), 0, right - left - 2))
            img[b_top - 2:b_bottom + 3, max(c - 1, 0):c + 1] = TARGET
        _draw_box(img, b_top, left, b_bottom, right, AXES)
    return img
