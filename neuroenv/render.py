"""A small NumPy rasteriser for ``render()`` frames (no plotting dependency).

:func:`render_trace` draws an (H, W, 3) uint8 frame: white background, a voltage panel with
light grid lines at its y ticks, a black axes box, the trace in blue, an optional target in
red (a horizontal line or a target trace), optional red tick marks (e.g. requested spike
times), optionally a panel of the injected current (nA, one colour per stimulation site)
under it, an optional bar comparing a rate (blue) with a target rate (red tick), and an
optional side panel with the cell's morphology (x–y projection, µm) and its stimulation sites
(dots in their current colours, numbered) and target compartment (red square). Frames of
at least 160 x 120 pixels carry axis text (drawn with a built-in 3 x 5 pixel font, scaled up
for large frames): voltage ticks (mV), current ticks (nA), time ticks (ms, when the sample
spacing is known) and the axis titles ``V (mV)``, ``I (nA)`` and ``t (ms)``; smaller frames
show the plots alone. Drawing a 320 x 240 frame takes a few milliseconds.

:func:`render_env_frame` draws a :class:`~neuroenv.NeuronEnv`'s recent periods as its task
says (``Task.render_info``), with the time axis, the injected current and, for tasks that ask
for it, the morphology; :func:`period_record` is what an env stores per control period for
it. ``NeuronGymEnv.render`` and ``NeuronFuncEnv.render_image`` use both.

Matplotlib would give nicer text but costs tens of milliseconds per frame and a dependency
(the ``plot`` extra); these frames are for videos of many episodes, so they stay NumPy only.
"""

from __future__ import annotations

import weakref

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


def _draw_box(img, top, left, bottom, right, color) -> None:
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


def _label(value: float, ticks: np.ndarray) -> str:
    """``value`` with as many decimals as the spacing of ``ticks`` needs."""
    step = float(np.min(np.diff(ticks))) if ticks.size > 1 else abs(value) or 1.0
    decimals = min(max(0, -int(np.floor(np.log10(step) + 1e-9))), 6)
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def render_trace(trace, *, target=None, v_range=(-100.0, 60.0),
                 rate: float | None = None, rate_target: float | None = None,
                 rate_max: float = 100.0, markers=None, height: int = 240,
                 width: int = 320, dt_ms: float | None = None, t_end_ms: float | None = None,
                 current=None, current_range: float | None = None, rate_label: str = "Hz",
                 morphology: dict | None = None) -> np.ndarray:
    """An (height, width, 3) uint8 frame of a voltage trace (see the module docstring).

    Args:
        trace: 1-D voltages (mV), oldest first, spread over the plot's width (values outside
            ``v_range`` are drawn at its edge; non-finite values at the lower edge).
        target: a target voltage (mV) drawn as a horizontal line, a 1-D target trace
            aligned with ``trace`` (drawn as a red polyline), or ``None``.
        v_range: (low, high) voltages (mV) of the voltage panel's bottom and top edges.
        rate, rate_target: if given, a bar under the plot shows ``rate`` on a scale of
            ``[0, rate_max]`` with a tick at ``rate_target``; ``rate_label`` names its unit.
        markers: sample indices into ``trace`` marked by red ticks at the top of the plot.
        height, width: frame size in pixels (at least 32 x 32).
        dt_ms, t_end_ms: sample spacing and the time of the last sample (ms): the time axis.
            Without ``dt_ms`` the x axis has no tick labels.
        current: injected current (nA) aligned with ``trace``: (T,) or (T, n_sites); drawn
            in a panel under the voltage on ``[-current_range, current_range]`` (default:
            the largest |current|).
        morphology: ``{"branches": [(n_i, 2) µm points, ...], "sites": (n_sites, 2) µm,
            "target": (2,) µm or None}``: drawn in a side panel (a third of the width). A
            request without ``"branches"`` (a task's ``{"target_recording": i}``, which
            :func:`render_env_frame` completes from the env's cell) draws no panel.
    """
    if height < 32 or width < 32:
        raise ValueError(f"frame must be at least 32 x 32 pixels, got {height} x {width}")
    img = np.empty((height, width, 3), np.uint8)
    img[...] = BACKGROUND
    labelled = height >= MIN_LABELLED[0] and width >= MIN_LABELLED[1]
    scale = max(1, min(height // 240, width // 320)) if labelled else 1
    margin = 8
    text_h = 5 * scale

    trace = np.asarray(trace, np.float64).reshape(-1)
    n = trace.size
    lo, hi = float(v_range[0]), float(v_range[1])
    v_ticks = nice_ticks(lo, hi, 5)
    cur = None
    if current is not None:
        cur = np.asarray(current, np.float64)
        cur = cur.reshape(n, -1) if cur.size else np.zeros((n, 1))
    amp = 1.0  # the current panel's range: [-amp, amp] nA
    if cur is not None:
        finite = cur[np.isfinite(cur)]
        amp = float(current_range) if current_range else 0.0
        amp = amp if amp > 0 else (float(np.max(np.abs(finite))) if finite.size else 0.0)
        amp = amp if amp > 0 else 1.0
    c_labels = [_label(v, np.array([0.0, amp])) for v in (-amp, 0.0, amp)]

    # ---- layout (columns: [left, right] of the plots; rows: panels from the top)
    plot_width = width
    if morphology is not None and "branches" not in morphology:
        morphology = None
    if morphology is not None and labelled:
        plot_width = width - width // 3
    left = margin
    if labelled:
        labels = [_label(v, v_ticks) for v in v_ticks]
        if cur is not None:
            labels += c_labels
        left += max(text_size(s, scale)[1] for s in labels) + 4 * scale
    right = plot_width - 1 - margin
    bottom = height - 1 - margin
    if rate is not None:
        bar_h = 14
        bar_bottom = bottom
        bar_top = bottom - bar_h
        bottom = bar_top - margin
    if labelled:
        bottom -= 2 * (text_h + 3 * scale)  # x tick labels and the time axis title
    top = margin
    c_top = c_bottom = None
    if cur is not None:
        c_height = max((bottom - top) // 4, 12)
        c_bottom = bottom
        c_top = c_bottom - c_height
        bottom = c_top - (text_h + 4 * scale if labelled else margin)
    if bottom - top < 8 or right - left < 8:
        raise ValueError(f"a {height} x {width} frame is too small for this plot")

    def row_of(v):
        v = np.clip(np.nan_to_num(np.asarray(v, np.float64), nan=lo, posinf=hi, neginf=lo),
                    lo, hi)
        return bottom - 1 - (v - lo) / (hi - lo) * (bottom - top - 2)

    def col_of(i):
        return left + 1 + np.asarray(i, np.float64) * (right - left - 2) / max(n - 1, 1)

    # ---- voltage panel
    for v in v_ticks:
        r = int(np.rint(row_of(v)))
        img[r, left + 1:right] = GRID
        if labelled:
            draw_text(img, _label(v, v_ticks), r - text_h // 2, left - 3 * scale,
                      scale=scale, align="right")
    _draw_box(img, top, left, bottom, right, AXES)
    if labelled:
        draw_text(img, "V (mV)", max(top - text_h - 1, 0), left, AXES, scale)

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

    # ---- current panel
    x_axis_row = bottom
    if cur is not None:
        x_axis_row = c_bottom

        def crow_of(i_na):
            i_na = np.clip(np.nan_to_num(i_na, nan=0.0, posinf=amp, neginf=-amp), -amp, amp)
            return c_bottom - 1 - (i_na + amp) / (2 * amp) * (c_bottom - c_top - 2)

        zero = int(np.rint(crow_of(0.0)))
        img[zero, left + 1:right] = GRID
        _draw_box(img, c_top, left, c_bottom, right, AXES)
        if labelled:
            for v, text in zip((-amp, 0.0, amp), c_labels, strict=True):
                draw_text(img, text, int(np.rint(crow_of(v))) - text_h // 2,
                          left - 3 * scale, scale=scale, align="right")
            draw_text(img, "I (nA)", c_top - text_h - 2 * scale, left, AXES, scale)
        for s in range(cur.shape[1] if n else 0):
            draw_polyline(img, col_of(np.arange(n)), crow_of(cur[:, s]),
                          SITE_COLORS[s % len(SITE_COLORS)])

    # ---- time axis
    if labelled:
        label_row = x_axis_row + 3 * scale
        if dt_ms is not None and n:
            t_end = 0.0 if t_end_ms is None else float(t_end_ms)
            t0 = t_end - (n - 1) * float(dt_ms)
            ticks = nice_ticks(t0, t_end, 5)
            for t in ticks:
                c = int(np.rint(col_of((t - t0) / float(dt_ms)))) if n > 1 else left + 1
                img[x_axis_row:x_axis_row + 2 * scale, c] = AXES
                text = _label(t, ticks)
                half = text_size(text, scale)[1] // 2
                draw_text(img, text, label_row, int(np.clip(c, half, width - 1 - half)),
                          scale=scale, align="center")
        draw_text(img, "t (ms)", label_row + text_h + 3 * scale, right, AXES, scale,
                  align="right")

    # ---- rate bar
    if rate is not None:
        b_top, b_bottom = bar_top, bar_bottom
        scale_px = (right - left - 2) / max(float(rate_max), 1e-9)
        fill = int(np.clip(np.rint(np.nan_to_num(rate) * scale_px), 0, right - left - 2))
        img[b_top + 1:b_bottom, left + 1:left + 1 + fill] = TRACE
        if rate_target is not None:
            c = left + 1 + int(np.clip(np.rint(rate_target * scale_px), 0, right - left - 2))
            img[b_top - 2:b_bottom + 3, max(c - 1, 0):c + 1] = TARGET
        _draw_box(img, b_top, left, b_bottom, right, AXES)
        if labelled:
            draw_text(img, rate_label, (b_top + b_bottom) // 2 - text_h // 2,
                      left - 2 * scale, AXES, scale, align="right")

    if morphology is not None and labelled:
        _draw_morphology(img, morphology, plot_width, width - 1 - margin, top,
                         height - 1 - margin, scale)
    return img


def _draw_morphology(img, morphology: dict, left: int, right: int, top: int, bottom: int,
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
            _draw_box(img, max(r - d, 0), max(c - d, 0), min(r + d, h - 1), min(c + d, w - 1),
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


# ------------------------------------------------------------------ env frames
#: id(module) -> (weakref to the module, morphology arrays) (the projection of a cell is
#: static, so it is computed once per module).
_MORPHOLOGY_CACHE: dict = {}


def _cell_morphology(env) -> dict:
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


def period_record(env, env_state) -> np.ndarray:
    """What an env keeps per control period for :func:`render_env_frame`: the period's
    recordings and injected current per sample, ``(samples, n_rec + n_sites)`` float32.

    After a reset (``env_state.time == 0``) one sample (the initial state, zero current);
    else the period's ``substeps`` samples (``last_trace``) with ``last_current`` (for
    ``pulse="biphasic"``: +I for the first half of the period, −I for the second).
    """
    trace = np.asarray(env_state.last_trace, np.float32)
    current = np.asarray(env_state.last_current, np.float32).reshape(1, -1)
    if int(np.asarray(env_state.time)) == 0:
        return np.concatenate([trace[:1], np.zeros_like(current)], axis=1)
    samples = trace.shape[0]
    sign = np.ones((samples, 1), np.float32)
    if getattr(env, "pulse", "constant") == "biphasic":
        sign[samples // 2:] = -1.0
    return np.concatenate([trace, sign * current], axis=1)


def render_env_frame(env, records, env_state, params, height: int = 240,
                     width: int = 320) -> np.ndarray:
    """A frame of ``env`` (a :class:`~neuroenv.NeuronEnv`) over the periods in ``records``.

    Args:
        env: the functional env.
        records: :func:`period_record` arrays of the shown periods, oldest first.
        env_state: the current ``EnvState`` (host or device arrays) or ``None``.
        params: the episode's ``EnvParams``.
        height, width: frame size in pixels.

    The task's ``render_info`` says what the voltage panel shows; its ``"morphology"``
    entry (``{"target_recording": i}``) adds the cell's morphology with the stimulation
    sites and recording ``i`` as the target.
    """
    import jax  # the env already runs on it; imported here to keep this module light

    n_rec = env.n_rec
    data = (np.concatenate(list(records)) if len(records)
            else np.zeros((0, n_rec + env.n_sites), np.float32))
    traces, currents = data[:, :n_rec], data[:, n_rec:]
    task_state = {} if env_state is None else jax.device_get(env_state.task)
    info = dict(env.task.render_info(traces, task_state, jax.device_get(params.task)))
    wanted = info.pop("morphology", None)
    if wanted is not None:
        cell = _cell_morphology(env)
        target = wanted.get("target_recording")
        info["morphology"] = {"branches": cell["branches"], "sites": cell["sites"],
                              "target": None if target is None
                              else cell["recordings"][int(target)]}
    time = 0 if env_state is None else int(np.asarray(env_state.time))
    info.setdefault("dt_ms", env.delta_t)
    info.setdefault("t_end_ms", time * env.period_ms)
    if len(info["trace"]) == len(currents):
        info.setdefault("current", currents)
        info.setdefault("current_range", float(np.max(np.abs(np.asarray(
            params.action_scale)))))
    return render_trace(**info, height=height, width=width)
