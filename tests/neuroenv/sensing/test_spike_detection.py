"""Threshold spike detection on synthetic extracellular traces with known spike times."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.sensing import SpikeDetector, noise_sigma

FS = 20000.0


def _trace(spike_samples, n=40000, depth=10.0, seed=0):
    """Unit Gaussian noise plus negative spikes (a 0.5 ms triangular trough of -depth)."""
    x = np.random.default_rng(seed).standard_normal(n)
    shape = -depth * np.concatenate([np.linspace(0, 1, 4), np.linspace(1, 0, 7)[1:]])
    for s in spike_samples:
        x[s - 3 : s - 3 + shape.size] += shape  # trough at sample s
    return x


def _detect(x, detector, dtype=jnp.float32, noise=None, blocks=1):
    state = detector.init((), 1, dtype, noise=1.0 if noise is None else noise)
    if noise is None:
        state = detector.calibrate(state, jnp.asarray(x[:20000], dtype)[None])
    flags = []
    for chunk in np.array_split(x, blocks):
        state, f = jax.jit(detector.block)(state, jnp.asarray(chunk, dtype)[None])
        flags.append(np.asarray(f[0]))
    return np.flatnonzero(np.concatenate(flags)), state


def test_noise_estimate_is_robust_to_spikes():
    x = _trace(np.arange(1000, 39000, 400))  # 95 spikes in 2 s
    # measured 1.022 (the spikes raise the median a little); the trace's std is 1.32
    np.testing.assert_allclose(float(noise_sigma(jnp.asarray(x))), 1.0, rtol=0.05)


@pytest.mark.parametrize("blocks", [1, 7])
def test_finds_known_spikes_without_false_positives(precision, blocks):
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    times = np.sort(np.random.default_rng(1).choice(np.arange(100, 39900, 100), 60, replace=False))
    found, state = _detect(_trace(times), SpikeDetector(FS, k=5.0), dtype, blocks=blocks)
    # every spike found exactly once, on the way down to its trough (measured 0-2 samples
    # early), and nothing else (measured on 10 s of noise alone: 0 crossings at k = 5, 5 at 4)
    assert found.size == times.size
    assert np.all((times - found >= 0) & (times - found <= 3))
    # measured threshold -5.085 (sigma estimate 1.017 on the calibration window)
    assert float(state.threshold[0]) == pytest.approx(-5.0, rel=0.05)


def test_threshold_sets_the_false_positive_rate():
    noise = _trace([], n=200000, seed=3)  # 10 s of noise alone
    # measured: 0 crossings at k = 5, 5 at k = 4 (Gaussian tail 3e-7 vs 3e-5 per sample)
    assert _detect(noise, SpikeDetector(FS, k=5.0))[0].size == 0
    assert _detect(noise, SpikeDetector(FS, k=4.0))[0].size > 0


def test_refractory_period_suppresses_close_spikes():
    times = np.array([5000, 5010, 5100])  # 0.5 ms, then 4.5 ms apart
    found, _ = _detect(_trace(times, depth=20.0), SpikeDetector(FS, refractory=1e-3), noise=1.0)
    assert found.size == 2 and np.all(times[[0, 2]] - found[[0, 1]] <= 3)
    found, _ = _detect(_trace(times, depth=20.0), SpikeDetector(FS, refractory=2e-4), noise=1.0)
    assert found.size == 3


@pytest.mark.parametrize(("gap", "expected"), [(9, 1), (10, 2)])
def test_refractory_boundary_is_exact(gap, expected):
    x = np.zeros(300)
    x[[100, 100 + gap]] = -10.0  # one-sample spikes, no noise
    detector = SpikeDetector(FS, refractory=10 / FS)  # 10 samples
    assert detector.refractory_samples == 10
    found, _ = _detect(x, detector, noise=1.0)
    np.testing.assert_array_equal(found, [100, 100 + gap][:expected])


def test_given_noise_per_channel():
    state = SpikeDetector(FS, k=4.0).init((2,), 3, noise=jnp.array([1.0, 2.0, 0.5]))
    np.testing.assert_array_equal(np.asarray(state.threshold), [[-4.0, -8.0, -2.0]] * 2)


def test_counts_per_block_and_vmap():
    detector = SpikeDetector(FS)
    traces = np.stack([_trace([1000 * (i + 1)], n=8000, seed=i) for i in range(4)])
    xs = jnp.asarray(traces, jnp.float32).reshape(4, 1, 8000)
    _, flags = jax.vmap(detector.block)(detector.init((4,), 1), xs)
    counts = np.asarray(flags.sum(-1))[:, 0]
    np.testing.assert_array_equal(counts, [1, 1, 1, 1])
    for i in range(4):
        assert abs(int(np.flatnonzero(np.asarray(flags[i, 0]))[0]) - 1000 * (i + 1)) <= 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fs": 0.0}, "fs"),
        ({"fs": FS, "k": -1.0}, "k"),
        ({"fs": FS, "refractory": -1e-3}, "refractory"),
    ],
)
def test_bad_detector_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpikeDetector(**kwargs)
