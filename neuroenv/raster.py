"""Pixel drawing on (H, W, 3) uint8 images for :mod:`neuroenv.render`: the frame colours, a
built-in 3 x 5 pixel font, segments and polylines, boxes, and round axis ticks with labels.
"""

from __future__ import annotations

import numpy as np

BACKGROUND = (255, 255, 255)
AXES = (0, 0, 0)
GRID = (225, 225, 225)
TRACE = (31, 119, 180)
TARGET = (214, 39, 40)
TEXT = (70, 70, 70)
NEURITE = (150, 150, 150)
#: Colours of the stimulation sites (current traces and morphology dots), by site index.
SITE_COLORS = ((255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))

#: The 3 x 5 pixel glyphs of axis text (rows top to bottom, "1" = ink).
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "001", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
    "-": ("000", "000", "111", "000", "000"), ".": ("000", "000", "000", "000", "010"),
    " ": ("000", "000", "000", "000", "000"), "(": ("001", "010", "010", "010", "001"),
    ")": ("100", "010", "010", "010", "100"), "/": ("001", "001", "010", "100", "100"),
    "A": ("010", "101", "111", "101", "101"), "H": ("101", "101", "111", "101", "101"),
    "I": ("111", "010", "010", "010", "111"), "R": ("110", "101", "110", "101", "101"),
    "T": ("111", "010", "010", "010", "010"), "V": ("101", "101", "101", "101", "010"),
    "m": ("000", "110", "111", "101", "101"), "n": ("000", "110", "101", "101", "101"),
    "s": ("000", "011", "100", "001", "110"), "t": ("010", "111", "010", "010", "011"),
    "u": ("000", "101", "101", "101", "111"), "z": ("000", "111", "001", "010", "111"),
}
_BITMAPS = {c: np.array([[ch == "1" for ch in row] for row in rows]) for c, rows in
            _GLYPHS.items()}
#: Smallest frame (height, width) that carries axis text.
MIN_LABELLED = (120, 160)


def text_size(text: str, scale: int = 1) -> tuple[int, int]:
    """(height, width) in pixels of ``text`` drawn by :func:`draw_text`."""
    return 5 * scale, max(4 * len(text) - 1, 0) * scale


def draw_text(img: np.ndarray, text: str, row: int, col: int, color=TEXT, scale: int = 1,
              align: str = "left") -> None:
    """Draw ``text`` (characters of the built-in font) in place, its top at ``row``.

    ``align`` says where ``col`` is: the ``"left"`` or ``"right"`` edge or the ``"center"``.
    Pixels outside the image are dropped; unknown characters are a ``ValueError``.
    """
    unknown = sorted(set(text) - set(_BITMAPS))
    if unknown:
        raise ValueError(f"the frame font has no glyphs for {unknown} (in {text!r})")
    width = text_size(text, scale)[1]
    if align == "right":
        col -= width - 1
    elif align == "center":
        col -= width // 2
    elif align != "left":
        raise ValueError(f"align must be 'left', 'right' or 'center', got {align!r}")
    h, w = img.shape[:2]
    for i, ch in enumerate(text):
        rows, cols = np.nonzero(np.kron(_BITMAPS[ch], np.ones((scale, scale), bool)))
        rows, cols = rows + row, cols + col + 4 * scale * i
        keep = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        img[rows[keep], cols[keep]] = color


def draw_segments(img: np.ndarray, x0, y0, x1, y1, color, thickness: int = 1) -> None:
    """Draw the segments ``(x0[i], y0[i])`` -> ``(x1[i], y1[i])`` (pixel column, row) in
    place, sampled at every pixel step; pixels outside the image are dropped."""
    x0, y0, x1, y1 = (np.asarray(a, np.float64).reshape(-1) for a in (x0, y0, x1, y1))
    if x0.size == 0:
        return
    dx, dy = x1 - x0, y1 - y0
    counts = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))), 1).astype(np.int64)
    seg = np.repeat(np.arange(counts.size), counts + 1)
    starts = np.cumsum(counts + 1) - (counts + 1)
    t = (np.arange(seg.size) - starts[seg]) / counts[seg]
    cols = np.rint(x0[seg] + t * dx[seg]).astype(np.int64)
    rows = np.rint(y0[seg] + t * dy[seg]).astype(np.int64)
    h, w = img.shape[:2]
    for offset in range(thickness):
        r = rows + offset
        keep = (r >= 0) & (r < h) & (cols >= 0) & (cols < w)
        img[r[keep], cols[keep]] = color


def draw_polyline(img: np.ndarray, xs, ys, color, thickness: int = 1) -> None:
    """Draw the segments through the points ``(xs[i], ys[i])`` (pixel column, row) in place.

    Points are connected by sampling each segment at every pixel step; pixels outside the
    image are dropped.
    """
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    ys = np.asarray(ys, dtype=np.float64).reshape(-1)
    if xs.size == 1:
        draw_segments(img, xs, ys, xs, ys, color, thickness)
    elif xs.size > 1:
        draw_segments(img, xs[:-1], ys[:-1], xs[1:], ys[1:], color, thickness)


def draw_box(img, top, left, bottom, right, color) -> None:
    """Draw the one-pixel outline of the box with corners (top, left), (bottom, right)."""
    img[top, left:right + 1] = color
    img[bottom, left:right + 1] = color
    img[top:bottom + 1, left] = color
    img[top:bottom + 1, right] = color


def nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """About ``count`` round values (steps of 1, 2 or 5 × 10^k) in [lo, hi]."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if np.isfinite(lo) else np.zeros(0)
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw * 0.999)
    ticks = np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step
    return np.round(ticks, 10)


def tick_label(value: float, ticks: np.ndarray) -> str:
    """``value`` with as many decimals as the spacing of ``ticks`` needs."""
    step = float(np.min(np.diff(ticks))) if ticks.size > 1 else abs(value) or 1.0
    decimals = min(max(0, -int(np.floor(np.log10(step) + 1e-9))), 6)
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text
