"""The inputs of the Rubin & Terman (2004) network: DBS onset, So et al. (2012) irregular
sensorimotor input."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.models.basal_ganglia import (
    dbs_current,
    irregular_sensorimotor_input,
    to_nA,
)

DT = 0.01


def _rising_edges(wave, delta_t=DT):
    return (np.flatnonzero((wave[1:] > 0) & (wave[:-1] == 0)) + 1) * delta_t


def test_dbs_onset_default_keeps_behaviour():
    base = dbs_current(100.0, DT, 130.0, 400.0)
    assert np.array_equal(base, dbs_current(100.0, DT, 130.0, 400.0, onset_ms=0.0))
    assert base[0] == to_nA(400.0)  # first pulse at t = 0


@pytest.mark.parametrize("onset", [2.5, 3.0, 7.0])
def test_dbs_onset_shifts_first_pulse(onset):
    wave = dbs_current(100.0, DT, 100.0, 400.0, onset_ms=onset)
    assert np.all(wave[: int(round(onset / DT))] == 0.0)
    edges = _rising_edges(wave)
    # edges sit on grid points: at most one Δt of rounding (measured 0 for these onsets)
    np.testing.assert_allclose(edges[:3], onset + 10.0 * np.arange(3), atol=DT + 1e-9)
    # every pulse is 0.6 ms = 60 samples long
    assert np.count_nonzero(wave) == 60 * len(edges)


@pytest.mark.parametrize("onset", [-1.0, np.nan, np.inf])
def test_dbs_onset_rejects_bad_values(onset):
    with pytest.raises(ValueError, match="onset_ms"):
        dbs_current(100.0, DT, 130.0, onset_ms=onset)


def test_irregular_input_statistics():
    wave, onsets = irregular_sensorimotor_input(100_000.0, DT, seed=3)
    isi = np.diff(onsets)
    # So et al. 2012: mean rate 14 Hz (71.4 ms), CV 0.2. With 1381 intervals the sampling
    # std of the mean is 0.38 ms and of the CV ~0.004 (measured: 72.3 ms, CV 0.199)
    assert abs(isi.mean() - 1000.0 / 14.0) < 1.5
    assert abs(isi.std() / isi.mean() - 0.2) < 0.015
    np.testing.assert_allclose(_rising_edges(wave), onsets, atol=1e-9)
    assert np.count_nonzero(wave) == 500 * len(onsets)  # 5 ms pulses, no overlap
    assert np.max(wave) == to_nA(3.5)


def test_irregular_input_seeded_and_parameters():
    a = irregular_sensorimotor_input(2000.0, DT, seed=1, rate_hz=20.0, amplitude=5.0)
    b = irregular_sensorimotor_input(2000.0, DT, seed=1, rate_hz=20.0, amplitude=5.0)
    c = irregular_sensorimotor_input(2000.0, DT, seed=2, rate_hz=20.0, amplitude=5.0)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert a[0].shape == (200_001,) and np.max(a[0]) == to_nA(5.0)
    assert np.all(a[1] < 2000.0 - 5.0) and 30 <= len(a[1]) <= 50  # ~40 pulses at 20 Hz


@pytest.mark.parametrize("kwargs", [{"rate_hz": 0.0}, {"cv": -0.1}, {"cv": np.nan},
                                    {"width_ms": 0.0}, {"rate_hz": 300.0}])
def test_irregular_input_rejects_bad_values(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name if name != "rate_hz" or kwargs[name] == 0
                       else "width_ms"):
        irregular_sensorimotor_input(100.0, DT, **kwargs)
