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

import dataclasses

import numpy as np

from neuroenv.raster import (
    AXES,
    BACKGROUND,
    GRID,
    MIN_LABELLED,
    SITE_COLORS,
    TARGET,
    TRACE,
    draw_box,
    draw_polyline,
    draw_text,
    nice_ticks,
    text_size,
    tick_label,
)
from neuroenv.raster import NEURITE as NEURITE
from neuroenv.raster import TEXT as TEXT
from neuroenv.render_morphology import cell_morphology, draw_morphology

_MARGIN = 8


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Pixel rows and columns of a frame's panels (edges inclusive, boxes drawn on them)."""

    width: int
    labelled: bool
    scale: int
    left: int  # first column of the plots' boxes
    right: int  # last column of the plots' boxes (the morphology panel lies right of it)
    top: int  # top row of the voltage panel
    bottom: int  # bottom row of the voltage panel
    c_top: int | None  # current panel rows (None without a current)
    c_bottom: int | None
    bar_top: int | None  # rate bar rows (None without a rate)
    bar_bottom: int | None
    n: int  # samples spread over [left, right]

    @property
    def text_h(self) -> int:
        return 5 * self.scale

    def col_of(self, i):
        """Pixel column of (fractional) sample index ``i``."""
        return self.left + 1 + np.asarray(i, np.float64) * (self.right - self.left - 2) / max(
            self.n - 1, 1)


def _layout(height, width, n, tick_labels, has_current, has_rate, morphology) -> _Layout:
    """Place the panels; ``tick_labels`` are the y tick texts (they set the left margin)."""
    labelled = height >= MIN_LABELLED[0] and width >= MIN_LABELLED[1]
    scale = max(1, min(height // 240, width // 320)) if labelled else 1
    text_h = 5 * scale
    plot_width = width - width // 3 if morphology is not None and labelled else width
    left = _MARGIN
    if labelled:
        left += max(text_size(s, scale)[1] for s in tick_labels) + 4 * scale
    bottom = height - 1 - _MARGIN
    bar_top = bar_bottom = c_top = c_bottom = None
    if has_rate:
        bar_bottom, bar_top = bottom, bottom - 14
        bottom = bar_top - _MARGIN
    if labelled:
        bottom -= 2 * (text_h + 3 * scale)  # x tick labels and the time axis title
    if has_current:
        c_bottom = bottom
        c_top = c_bottom - max((bottom - _MARGIN) // 4, 12)
        bottom = c_top - (text_h + 4 * scale if labelled else _MARGIN)
    layout = _Layout(width, labelled, scale, left, plot_width - 1 - _MARGIN, _MARGIN,
                     bottom, c_top, c_bottom, bar_top, bar_bottom, n)
    if bottom - layout.top < 8 or layout.right - left < 8:
        raise ValueError(f"a {height} x {width} frame is too small for this plot")
    return layout


def _draw_y_labels(img, lay: _Layout, rows, texts) -> None:
    """Tick labels right-aligned left of the plots, centred on pixel ``rows``."""
    for text, r in zip(texts, rows, strict=True):
        draw_text(img, text, int(np.rint(r)) - lay.text_h // 2, lay.left - 3 * lay.scale,
                  scale=lay.scale, align="right")


def _draw_voltage_panel(img, lay: _Layout, trace, target, markers, lo, hi, v_ticks) -> None:
    """Grid, box, target (line or trace), the trace and the marker ticks."""
    top, bottom, left, right, n = lay.top, lay.bottom, lay.left, lay.right, lay.n

    def row_of(v):
        v = np.clip(np.nan_to_num(np.asarray(v, np.float64), nan=lo, posinf=hi, neginf=lo),
                    lo, hi)
        return bottom - 1 - (v - lo) / (hi - lo) * (bottom - top - 2)

    for v in v_ticks:
        img[int(np.rint(row_of(v))), left + 1:right] = GRID
    if lay.labelled:
        _draw_y_labels(img, lay, row_of(v_ticks), [tick_label(v, v_ticks) for v in v_ticks])
    draw_box(img, top, left, bottom, right, AXES)
    if lay.labelled:
        draw_text(img, "V (mV)", max(top - lay.text_h - 1, 0), left, AXES, lay.scale)
    if target is not None and np.ndim(target) == 0:
        img[int(np.rint(row_of(target))), left + 1:right] = TARGET
    elif target is not None:
        target = np.asarray(target, np.float64).reshape(-1)
        if target.size != n:
            raise ValueError(f"a target trace must have the trace's {n} samples, got "
                             f"{target.size}")
        draw_polyline(img, lay.col_of(np.arange(n)), row_of(target), TARGET)
    if n:
        draw_polyline(img, lay.col_of(np.arange(n)), row_of(trace), TRACE, thickness=2)
    if markers is not None and n:
        for i in np.asarray(markers, np.float64).reshape(-1):
            if 0 <= i <= n - 1:
                c = int(np.rint(lay.col_of(i)))
                img[top + 1:top + 9, max(c - 1, left + 1):c + 1] = TARGET


def _draw_current_panel(img, lay: _Layout, cur, amp: float, labels) -> None:
    """The injected current (nA, one colour per site) on ``[-amp, amp]`` with a zero line."""
    c_top, c_bottom, left, right, n = lay.c_top, lay.c_bottom, lay.left, lay.right, lay.n

    def crow_of(i_na):
        i_na = np.clip(np.nan_to_num(i_na, nan=0.0, posinf=amp, neginf=-amp), -amp, amp)
        return c_bottom - 1 - (i_na + amp) / (2 * amp) * (c_bottom - c_top - 2)

    img[int(np.rint(crow_of(0.0))), left + 1:right] = GRID
    draw_box(img, c_top, left, c_bottom, right, AXES)
    if lay.labelled:
        _draw_y_labels(img, lay, [crow_of(v) for v in (-amp, 0.0, amp)], labels)
        draw_text(img, "I (nA)", c_top - lay.text_h - 2 * lay.scale, left, AXES, lay.scale)
    for s in range(cur.shape[1] if n else 0):
        draw_polyline(img, lay.col_of(np.arange(n)), crow_of(cur[:, s]),
                      SITE_COLORS[s % len(SITE_COLORS)])


def _draw_time_axis(img, lay: _Layout, axis_row: int, dt_ms, t_end_ms) -> None:
    """Time ticks (ms) under ``axis_row`` (when ``dt_ms`` is known) and the axis title."""
    scale, n = lay.scale, lay.n
    label_row = axis_row + 3 * scale
    if dt_ms is not None and n:
        t_end = 0.0 if t_end_ms is None else float(t_end_ms)
        t0 = t_end - (n - 1) * float(dt_ms)
        ticks = nice_ticks(t0, t_end, 5)
        for t in ticks:
            c = int(np.rint(lay.col_of((t - t0) / float(dt_ms)))) if n > 1 else lay.left + 1
            img[axis_row:axis_row + 2 * scale, c] = AXES
            text = tick_label(t, ticks)
            half = text_size(text, scale)[1] // 2
            draw_text(img, text, label_row, int(np.clip(c, half, lay.width - 1 - half)),
                      scale=scale, align="center")
    draw_text(img, "t (ms)", label_row + lay.text_h + 3 * scale, lay.right, AXES, scale,
              align="right")


def _draw_rate_bar(img, lay: _Layout, rate, rate_target, rate_max, rate_label) -> None:
    """A bar filled to ``rate`` on ``[0, rate_max]`` with a red tick at ``rate_target``."""
    top, bottom, left, right = lay.bar_top, lay.bar_bottom, lay.left, lay.right
    scale_px = (right - left - 2) / max(float(rate_max), 1e-9)
    fill = int(np.clip(np.rint(np.nan_to_num(rate) * scale_px), 0, right - left - 2))
    img[top + 1:bottom, left + 1:left + 1 + fill] = TRACE
    if rate_target is not None:
        c = left + 1 + int(np.clip(np.rint(rate_target * scale_px), 0, right - left - 2))
        img[top - 2:bottom + 3, max(c - 1, 0):c + 1] = TARGET
    draw_box(img, top, left, bottom, right, AXES)
    if lay.labelled:
        draw_text(img, rate_label, (top + bottom) // 2 - lay.text_h // 2,
                  left - 2 * lay.scale, AXES, lay.scale, align="right")


def _current_amplitude(cur: np.ndarray, current_range: float | None) -> float:
    """The current panel's half range (nA): ``current_range``, else the largest |current|,
    else 1."""
    finite = cur[np.isfinite(cur)]
    amp = float(current_range) if current_range else 0.0
    amp = amp if amp > 0 else (float(np.max(np.abs(finite))) if finite.size else 0.0)
    return amp if amp > 0 else 1.0


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
    trace = np.asarray(trace, np.float64).reshape(-1)
    n = trace.size
    lo, hi = float(v_range[0]), float(v_range[1])
    v_ticks = nice_ticks(lo, hi, 5)
    tick_labels = [tick_label(v, v_ticks) for v in v_ticks]
    cur = None
    if current is not None:
        cur = np.asarray(current, np.float64)
        cur = cur.reshape(n, -1) if cur.size else np.zeros((n, 1))
        amp = _current_amplitude(cur, current_range)
        c_labels = [tick_label(v, np.array([0.0, amp])) for v in (-amp, 0.0, amp)]
        tick_labels += c_labels
    if morphology is not None and "branches" not in morphology:
        morphology = None
    lay = _layout(height, width, n, tick_labels, cur is not None, rate is not None, morphology)
    _draw_voltage_panel(img, lay, trace, target, markers, lo, hi, v_ticks)
    if cur is not None:
        _draw_current_panel(img, lay, cur, amp, c_labels)
    if lay.labelled:
        _draw_time_axis(img, lay, lay.bottom if cur is None else lay.c_bottom, dt_ms, t_end_ms)
    if rate is not None:
        _draw_rate_bar(img, lay, rate, rate_target, rate_max, rate_label)
    if morphology is not None and lay.labelled:
        draw_morphology(img, morphology, lay.right + 1 + _MARGIN, width - 1 - _MARGIN,
                        lay.top, height - 1 - _MARGIN, lay.scale)
    return img


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
        cell = cell_morphology(env)
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
