"""Biquad band-pass in JAX against scipy.signal: values, state carrying, response, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal

from neuroenv.sensing import SosFilter, butter_bandpass, butter_lowpass


def _noise_and_beta(fs, seconds=2.0, seed=0):
    t = np.arange(int(fs * seconds)) / fs
    return np.random.default_rng(seed).standard_normal(t.size) + np.sin(2 * np.pi * 20 * t)


def _run(filt, x, dtype):
    _, y = jax.jit(filt.block)(filt.init((), 1, dtype), jnp.asarray(x, dtype)[None])
    return np.asarray(y[0], np.float64)


def test_default_design_is_two_biquads():
    filt = SosFilter(butter_bandpass(1000.0))
    assert filt.n_sections == 2
    np.testing.assert_array_equal(
        np.asarray(filt.sos),
        scipy.signal.butter(2, [13, 30], btype="bandpass", fs=1000.0, output="sos"),
    )


@pytest.mark.parametrize(
    ("fs", "tol"),
    # measured max |JAX - sosfilt| over 2 s of noise + 20 Hz sine: 1.4e-14 at 1 kHz,
    # 9.3e-14 at 4 kHz, 2.8e-12 at 40 kHz (rounding grows as the poles near the unit circle)
    [(1000.0, 1e-12), (4000.0, 1e-12), (40000.0, 1e-11)],
)
def test_float64_equals_sosfilt(x64, fs, tol):
    filt = SosFilter(butter_bandpass(fs))
    x = _noise_and_beta(fs)
    ref = scipy.signal.sosfilt(np.asarray(filt.sos), x)
    assert np.max(np.abs(_run(filt, x, jnp.float64) - ref)) <= tol


@pytest.mark.parametrize(
    ("fs", "tol"),
    # measured max |float32 - sosfilt| / rms(output): 1.9e-5 at 1 kHz, 2.5e-5 at 2 kHz,
    # 8.9e-5 at 4 kHz, 6.2e-3 at 40 kHz (hence the default decimation to 1 kHz)
    [(1000.0, 1e-4), (2000.0, 1e-4), (4000.0, 3e-4), (40000.0, 2e-2)],
)
def test_float32_error_bound(x64, fs, tol):
    filt = SosFilter(butter_bandpass(fs))
    x = _noise_and_beta(fs)
    ref = scipy.signal.sosfilt(np.asarray(filt.sos), x)
    rel = np.max(np.abs(_run(filt, x, jnp.float32) - ref)) / np.sqrt(np.mean(ref**2))
    assert rel <= tol
    if fs == 40000.0:
        # the ill-conditioning is real: float32 at 40 kHz is > 1e-3 off (measured 6.2e-3)
        assert rel > 1e-3


def test_blocks_carry_state_exactly(precision):
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    filt = SosFilter(butter_bandpass(1000.0))
    x = jnp.asarray(np.random.default_rng(1).standard_normal((3, 600)), dtype)
    run = jax.jit(filt.block)
    _, whole = run(filt.init((), 3, dtype), x)
    state = filt.init((), 3, dtype)
    parts = []
    for chunk in jnp.split(x, [7, 250, 251, 400], axis=-1):
        state, y = run(state, chunk)
        parts.append(y)
    # same operations in the same order: identical bits
    np.testing.assert_array_equal(np.asarray(jnp.concatenate(parts, axis=-1)), np.asarray(whole))
    # one sample at a time: XLA may fuse a multiply-add differently outside the scan;
    # measured difference <= 1.1e-7 relative (1 ulp) in float32, 1.5e-16 in float64
    ulps = 4 * float(jnp.finfo(dtype).eps)
    state = filt.init((), 3, dtype)
    step = jax.jit(filt.step)
    for i in range(20):
        state, y = step(state, x[:, i])
        np.testing.assert_allclose(np.asarray(y), np.asarray(whole[:, i]), rtol=ulps, atol=ulps)


def _steady_gain(filt, freq, fs, seconds=12.0):
    t = np.arange(int(fs * seconds)) / fs
    y = _run(filt, np.sin(2 * np.pi * freq * t), jnp.float64)
    tail = slice(int(fs * (seconds - 4)), None)  # the last 4 s: transients have decayed
    basis = np.exp(-2j * np.pi * freq * t[tail])
    return 2 * abs(np.mean(y[tail] * basis))


@pytest.mark.parametrize("freq", [2.0, 20.0, 100.0])
def test_frequency_response_matches_design(x64, freq):
    fs = 1000.0
    filt = SosFilter(butter_bandpass(fs))
    _, h = scipy.signal.sosfreqz(np.asarray(filt.sos), worN=[freq], fs=fs)
    gain = _steady_gain(filt, freq, fs)
    # measured |gain / |H| - 1| = 1.2e-12 at 2 Hz, 4e-15 at 20 Hz, 2e-14 at 100 Hz
    np.testing.assert_allclose(gain, abs(h[0]), rtol=1e-9)
    if freq == 20.0:
        assert abs(gain - 1) < 1e-5  # 20 Hz is mid-band: measured |H| = 0.9999997
    else:
        assert gain < 0.05  # outside the band: measured |H(2)| = 0.0078, |H(100)| = 0.029


def test_vmap_over_channels_and_batch():
    filt = SosFilter(butter_bandpass(1000.0))
    x = jnp.asarray(np.random.default_rng(2).standard_normal((4, 2, 100)), jnp.float32)
    _, batched = filt.block(filt.init((4,), 2), x)
    _, mapped = jax.vmap(filt.block)(filt.init((4,), 2), x)
    _, single = filt.block(filt.init((), 1), x[2, 1][None])
    # measured: batched == mapped bitwise; a lone channel differs by <= 1.5e-8 (1 ulp, fusion)
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(mapped))
    np.testing.assert_allclose(np.asarray(batched[2, 1]), np.asarray(single[0]), rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fs": 0.0}, "fs"),
        ({"fs": float("nan")}, "fs"),
        ({"fs": 1000.0, "lo": 0.0}, "lo"),
        ({"fs": 1000.0, "lo": -5.0}, "lo"),
        ({"fs": 1000.0, "hi": 500.0}, "hi"),
        ({"fs": 1000.0, "lo": 30.0, "hi": 13.0}, "lo must be below hi"),
        ({"fs": 50.0}, "hi"),
        ({"fs": 1000.0, "order": 0}, "order"),
    ],
)
def test_bad_design_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        butter_bandpass(**kwargs)
    assert "got" in str(info.value)


def test_bad_lowpass_and_sos():
    with pytest.raises(ValueError, match="cutoff"):
        butter_lowpass(1000.0, 600.0)
    with pytest.raises(ValueError, match="shape"):
        SosFilter(((1.0, 0.0, 0.0),))
    with pytest.raises(ValueError, match="a0 == 1"):
        SosFilter(((1.0, 0.0, 0.0, 2.0, 0.0, 0.0),))
