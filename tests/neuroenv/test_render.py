"""Rendered frames: labelled axes (mV, nA, ms), the target, the injected current, and the
morphology panel of DendriteControl-v0."""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np
import pytest

import neuroenv
from neuroenv.adapters import functional_jax_env
from neuroenv.render import (
    AXES,
    BACKGROUND,
    NEURITE,
    SITE_COLORS,
    TARGET,
    TEXT,
    TRACE,
    draw_text,
    nice_ticks,
    period_record,
    render_env_frame,
    render_trace,
)

H, W = 240, 320


def pixels(frame, color) -> np.ndarray:
    """(H, W) mask of the pixels of ``color``."""
    return (frame == np.asarray(color, np.uint8)).all(axis=-1)


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    img = np.zeros((5 * scale, 4 * len(text) * scale, 3), np.uint8)
    draw_text(img, text, 0, 0, (1, 1, 1), scale)
    return img[..., 0] == 1


def find_text(frame, text: str, color) -> list[tuple[int, int]]:
    """Top-left corners where ``text`` is drawn in ``color`` (exact glyph pixels, the rest of
    its cell in other colours)."""
    ink = pixels(frame, color)
    glyphs = text_mask(text)
    h, w = glyphs.shape
    windows = np.lib.stride_tricks.sliding_window_view(ink, (h, w))
    hits = np.all(windows == glyphs, axis=(-2, -1))
    return [tuple(map(int, rc)) for rc in np.argwhere(hits)]


def box_columns(frame) -> np.ndarray:
    """Columns that hold a vertical axes line (>= 40 black pixels)."""
    return np.flatnonzero(pixels(frame, AXES).sum(axis=0) >= 40)


@pytest.fixture(scope="module")
def voltage_frame():
    env = gym.make("neuroenv/VoltageTarget-v0", render_mode="rgb_array")
    env.reset(seed=0, options={"target": -55.0})
    for _ in range(30):  # 30 periods of 1 ms
        env.step(np.array([0.3], np.float32))
    frame = env.render()
    scale = float(env.unwrapped.env_params.action_scale)
    env.close()
    return frame, scale


@pytest.fixture(scope="module")
def dendrite_frame():
    env = gym.make("neuroenv/DendriteControl-v0", render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.array([0.2, -0.4, 0.6, 0.8], np.float32))
    frame = env.render()
    env.close()
    return frame


def test_frame_is_rgb_uint8(voltage_frame, dendrite_frame):
    for frame in (voltage_frame[0], dendrite_frame):
        assert frame.shape == (H, W, 3) and frame.dtype == np.uint8


def test_axes_are_labelled(voltage_frame):
    """Regression: frames had no text at all (no TEXT-coloured pixel, no axis title)."""
    frame, _ = voltage_frame
    left = box_columns(frame)[0]  # the voltage and current panels' left edge
    labels = pixels(frame, TEXT)
    assert labels[:, :left].sum() > 40  # y tick labels left of the panels
    assert find_text(frame, "V (mV)", AXES) and find_text(frame, "I (nA)", AXES)
    assert find_text(frame, "t (ms)", AXES)
    # y ticks of the voltage panel (v_range -100..60 mV) and of the current panel
    for tick in ("-100", "-50", "0", "50"):
        assert any(c < left for _, c in find_text(frame, tick, TEXT)), tick
    # time axis: 30 periods of 1 ms shown, ending at t = 30 ms
    rows = sorted({r for r, _ in find_text(frame, "30", TEXT)})
    assert rows and rows[-1] > H // 2
    for tick in ("0", "10", "20"):
        assert any(r == rows[-1] for r, _ in find_text(frame, tick, TEXT)), tick


def test_target_and_injected_current_are_drawn(voltage_frame):
    frame, scale = voltage_frame
    assert pixels(frame, TRACE).sum() > 50  # the voltage
    assert pixels(frame, TARGET).sum() > 200  # the target line
    current = pixels(frame, SITE_COLORS[0])
    assert current.sum() > 150  # the site's current trace: a line across the lower panel
    rows = np.flatnonzero(current.sum(axis=1) > 100)
    assert rows.min() > H // 2
    # the current panel spans [-action_scale, action_scale] nA: its tick labels say so
    for text in (f"{scale:g}", f"-{scale:g}"):
        assert find_text(frame, text, TEXT), text


def test_dendrite_control_shows_the_morphology_with_sites(dendrite_frame):
    frame = dendrite_frame
    side = frame[:, 2 * W // 3:]
    assert pixels(side, NEURITE).sum() > 300  # the dendrites
    for s in range(4):  # the four stimulation sites, in their current colours
        assert pixels(side, SITE_COLORS[s]).sum() >= 20, s
        assert pixels(frame[:, :2 * W // 3], SITE_COLORS[s]).sum() > 20, s  # and currents
    assert pixels(side, TARGET).sum() >= 24  # the target compartment's square
    assert find_text(frame, "um", AXES)  # the scale bar


def test_functional_env_frames_are_labelled():
    env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=5)
    fenv = functional_jax_env(env, render_mode="rgb_array")
    fenv.reset(seed=0)
    fenv.step(np.array([0.5], np.float32))
    frame = np.asarray(fenv.render())
    assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
    assert find_text(frame, "t (ms)", AXES) and pixels(frame, SITE_COLORS[0]).any()


def test_render_trace_layouts():
    trace = np.linspace(-90.0, 40.0, 500)
    plain = render_trace(trace, target=-60.0)
    assert find_text(plain, "V (mV)", AXES) and not pixels(plain, SITE_COLORS[0]).any()
    # frames below 160 x 120 have no room for text: plots only
    small = render_trace(trace, target=-60.0, current=np.ones(500), height=64, width=96)
    assert small.shape == (64, 96, 3) and not pixels(small, TEXT).any()
    assert pixels(small, TRACE).any() and pixels(small, SITE_COLORS[0]).any()
    # large frames scale the text
    big = render_trace(trace, dt_ms=0.1, t_end_ms=50.0, height=480, width=640)
    assert pixels(big, TEXT).sum() > 2 * pixels(plain, TEXT).sum()
    with pytest.raises(ValueError, match="a target trace must have the trace's 500 samples"):
        render_trace(trace, target=np.zeros(3))
    with pytest.raises(ValueError, match="at least 32 x 32"):
        render_trace(trace, height=20)


def test_text_and_ticks():
    img = np.full((7, 30, 3), 255, np.uint8)
    draw_text(img, "-1.5", 1, 1, (0, 0, 0))
    assert find_text(img, "-1.5", (0, 0, 0)) == [(1, 1)]
    with pytest.raises(ValueError, match=r"no glyphs for \['Q'\]"):
        draw_text(img, "Q", 0, 0)
    with pytest.raises(ValueError, match="align"):
        draw_text(img, "1", 0, 0, align="middle")
    np.testing.assert_allclose(nice_ticks(-100.0, 60.0), [-100, -50, 0, 50])
    np.testing.assert_allclose(nice_ticks(0.0, 30.0), [0, 10, 20, 30])
    np.testing.assert_allclose(nice_ticks(-0.5, 0.5, 3), [-0.5, 0.0, 0.5])


def test_period_record_holds_the_current_per_sample():
    trace = np.arange(8, dtype=np.float32).reshape(4, 2)
    state = types.SimpleNamespace(last_trace=trace, last_current=np.array([0.3], np.float32),
                                  time=np.int32(3))
    constant = period_record(types.SimpleNamespace(pulse="constant"), state)
    np.testing.assert_array_equal(constant[:, :2], trace)
    np.testing.assert_array_equal(constant[:, 2], np.float32(0.3))
    biphasic = period_record(types.SimpleNamespace(pulse="biphasic"), state)
    np.testing.assert_array_equal(biphasic[:, 2], np.float32([0.3, 0.3, -0.3, -0.3]))
    first = period_record(types.SimpleNamespace(pulse="constant"),
                          types.SimpleNamespace(**{**vars(state), "time": np.int32(0)}))
    np.testing.assert_array_equal(first, [[0.0, 1.0, 0.0]])  # reset: one sample, no current


def test_render_env_frame_without_state_is_blank_but_labelled():
    env, params = neuroenv.make("VoltageTarget-v0")
    frame = render_env_frame(env, [], None, params)
    assert frame.shape == (H, W, 3) and find_text(frame, "V (mV)", AXES)
    assert not pixels(frame, TRACE).any() and (frame == BACKGROUND).all(-1).mean() > 0.8
