"""Envelope and band power of band-passed signals; block-average decimation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.sensing import (
    Envelope,
    SosFilter,
    block_average,
    butter_bandpass,
    decimation_factor,
)

FS = 1000.0


def _envelope_of(x, kind, dtype, cutoff=4.0):
    bandpass = SosFilter(butter_bandpass(FS))
    env = Envelope(FS, cutoff=cutoff, kind=kind)
    xs = jnp.asarray(x, dtype)[None]
    _, y = bandpass.block(bandpass.init((), 1, dtype), xs)
    _, e = jax.jit(env.block)(env.init((), 1, dtype), y)
    return np.asarray(e[0], np.float64)


def test_envelope_tracks_amplitude_modulation(precision):
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    t = np.arange(int(FS * 10)) / FS
    amplitude = 1 + 0.5 * np.sin(2 * np.pi * 0.5 * t)  # 0.5 Hz modulation of a 20 Hz carrier
    e = _envelope_of(amplitude * np.sin(2 * np.pi * 20 * t), "amplitude", dtype)
    lag = 80  # samples: the band-pass + 4 Hz low-pass delay (measured best lag: 80 ms)
    settled = slice(2000, None)
    target = amplitude[settled.start - lag : t.size - lag]
    # measured max |e - A(t - lag)| = 0.0125 (f64 and f32; rectifier ripple at 40 Hz
    # through the 4 Hz low-pass), correlation 0.99986
    assert np.max(np.abs(e[settled] - target)) < 0.03
    assert np.corrcoef(e[settled], target)[0, 1] > 0.999


@pytest.mark.parametrize("amp", [0.5, 2.0])
def test_band_power_of_a_steady_sine(x64, amp):
    t = np.arange(int(FS * 6)) / FS
    p = _envelope_of(amp * np.sin(2 * np.pi * 20 * t), "power", jnp.float64, cutoff=2.0)
    # power of a sine is A²/2 (|H(20 Hz)|² = 0.999999 in the band-pass); measured ripple of
    # the 2 Hz low-pass at 40 Hz: 0.25 % of A²/2
    np.testing.assert_allclose(p[-1000:], amp**2 / 2, rtol=5e-3)


def test_out_of_band_signal_gives_small_envelope(x64):
    t = np.arange(int(FS * 6)) / FS
    e = _envelope_of(np.sin(2 * np.pi * 100 * t), "amplitude", jnp.float64)
    assert np.max(e[-1000:]) < 0.05  # measured 0.030 (|H(100 Hz)| = 0.029)


def test_envelope_step_equals_block(x64):
    env = Envelope(FS)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 50)))
    _, whole = env.block(env.init((), 2, jnp.float64), x)
    state = env.init((), 2, jnp.float64)
    for i in range(50):
        state, y = env.step(state, x[:, i])
        # measured <= 1 ulp (XLA fusion outside the scan)
        np.testing.assert_allclose(np.asarray(y), np.asarray(whole[:, i]), rtol=1e-15, atol=1e-15)


def test_envelope_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        Envelope(FS, kind="hilbert")
    with pytest.raises(ValueError, match="cutoff"):
        Envelope(FS, cutoff=500.0)
    with pytest.raises(ValueError, match="fs"):
        Envelope(-1.0)


def test_block_average_and_factor():
    assert decimation_factor(40000.0) == 40  # dt 0.025 ms -> 1 kHz
    assert decimation_factor(4000.0) == 4
    assert decimation_factor(500.0) == 1
    x = jnp.arange(12.0).reshape(1, 12)
    np.testing.assert_array_equal(np.asarray(block_average(x, 4)), [[1.5, 5.5, 9.5]])
    with pytest.raises(ValueError, match="multiple of factor=5"):
        block_average(x, 5)
    with pytest.raises(ValueError, match="factor"):
        block_average(x, 0)
    with pytest.raises(ValueError, match="fs_out"):
        decimation_factor(40000.0, 0.0)


@pytest.mark.parametrize("kind", ["power", "amplitude"])
def test_envelope_never_negative_after_a_drop(x64, kind):
    t = np.arange(int(FS * 4)) / FS
    x = np.where(t < 2.0, np.sin(2 * np.pi * 20 * t), 0.0)  # beta, then silence
    e = _envelope_of(x, kind, jnp.float64)
    # The 4 Hz Butterworth low-pass of a non-negative signal undershoots after the drop
    # (before clipping: measured −3.9 % (power), −2.1 % (amplitude) of the plateau); the
    # output is clipped at 0.
    assert np.min(e) >= 0.0 and np.max(e[1500:2000]) > 0.1
    assert np.any(e[2000:] == 0.0)  # the undershoot was there and clipped
