"""Filter designs are kept on disk: a second process gets the same coefficients without
importing ``scipy.signal``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal

from neuroenv.sensing import design


@pytest.fixture
def cache(disk_cache_dir):
    design._butter.cache_clear()
    yield disk_cache_dir
    design._butter.cache_clear()


def test_designs_equal_scipy_and_are_stored(cache):
    band = design.butter_bandpass(1000.0, 13.0, 30.0, 2)
    low = design.butter_lowpass(1000.0, 8.0, 3)
    # exact: the stored floats are scipy's (JSON round-trips Python floats)
    np.testing.assert_array_equal(band, scipy.signal.butter(
        2, [13.0, 30.0], btype="bandpass", fs=1000.0, output="sos"))
    np.testing.assert_array_equal(low, scipy.signal.butter(
        3, 8.0, btype="lowpass", fs=1000.0, output="sos"))
    assert len(list((cache / "filters").glob("*.json"))) == 2
    design._butter.cache_clear()
    assert design.butter_bandpass(1000.0, 13.0, 30.0, 2) == band  # read back from disk


def test_second_process_does_not_import_scipy_signal(cache):
    code = ("import sys; from neuroenv.sensing.design import butter_bandpass;"
            "sos = butter_bandpass(500.0, 13.0, 30.0, 2);"
            "print('scipy.signal' in sys.modules, repr(sos))")
    env = {**os.environ}

    def run():
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.split(" ", 1)
        return out[0] == "True", out[1]

    first, second = run(), run()
    assert first[0] and not second[0], (first, second)
    assert first[1] == second[1]


def test_damaged_entry_is_designed_again(cache):
    sos = design.butter_bandpass(1000.0)
    (entry,) = (cache / "filters").glob("*.json")
    for damage in ("not json", json.dumps([[1.0, 2.0]]), json.dumps([[float("nan")] * 6])):
        entry.write_text(damage)
        design._butter.cache_clear()
        assert design.butter_bandpass(1000.0) == sos
        assert json.loads(entry.read_text()) == [list(r) for r in sos]


def test_switched_off_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("NEUROENV_COMPILATION_CACHE", "0")
    design.butter_lowpass(1000.0, 10.0)
    assert not (cache / "filters").exists()
