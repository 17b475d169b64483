"""The inputs of Rubin & Terman (2004): sensorimotor pulses to TC cells and DBS of the STN.

Both are rectangular current-density pulse trains (RT write them with Heaviside functions of
sines; the pulses are the same rectangles). Amplitudes are in µA/cm² as in RT and come
back in nA for a cell of the network's 100 µm² (:data:`~.network.AREA_CM2`).
"""

from __future__ import annotations

import numpy as np

from simulator.models.basal_ganglia.network import AREA_CM2

__all__ = ["pulse_train", "sensorimotor_input", "irregular_sensorimotor_input",
           "dbs_current", "to_nA"]

#: Sensorimotor input (authors' ``.setnorm``/``.setpark``): 5 µA/cm² for 5 ms every 50 ms.
SM_AMPLITUDE, SM_PERIOD, SM_WIDTH = 5.0, 50.0, 5.0
#: DBS: 0.6 ms pulses (RT 2004; the authors' DBS file: 400 µA/cm² at a 6 ms period).
DBS_WIDTH, DBS_AMPLITUDE = 0.6, 400.0
#: So, Kent & Grill (2012), J. Comput. Neurosci. 32:499 (ModelDB 141699, ``createSMC.m``):
#: irregular SM input with gamma-distributed intervals, mean rate 14 Hz, CV 0.2, pulses of
#: 3.5 µA/cm² for 5 ms.
SO_2012_SM = {"rate_hz": 14.0, "cv": 0.2, "amplitude": 3.5, "width_ms": 5.0}


def to_nA(density_uA_cm2):
    """A current density (µA/cm²) as the current (nA) into one network cell (100 µm²)."""
    return np.asarray(density_uA_cm2, float) * AREA_CM2 * 1e3


def pulse_train(t_max: float, delta_t: float, amplitude: float, period_ms: float,
                width_ms: float, onset_ms: float = 0.0) -> np.ndarray:
    """(n_steps + 1,) samples of ``amplitude`` during ``[onset + k·period, onset +
    k·period + width)`` ms and 0 elsewhere, at t = 0, Δt, ..., t_max (the grid of
    ``integrate``); ``ValueError`` unless ``0 < width < period``."""
    if not (0.0 < width_ms < period_ms) or not np.isfinite(period_ms):
        raise ValueError(f"a pulse train needs 0 < width_ms < period_ms, got width_ms"
                         f" {width_ms!r}, period_ms {period_ms!r}")
    n = int(round(t_max / delta_t))
    t = np.arange(n + 1) * delta_t - onset_ms
    phase = np.mod(t + 1e-9, period_ms)  # grid points on a pulse edge belong to the pulse
    return np.where((t >= -1e-9) & (phase < width_ms - 1e-9), amplitude, 0.0)


def sensorimotor_input(t_max: float, delta_t: float, amplitude: float = SM_AMPLITUDE,
                       period_ms: float = SM_PERIOD, width_ms: float = SM_WIDTH,
                       onset_ms: float = 0.0):
    """``(current nA (n_steps + 1,), onsets ms)``: the periodic sensorimotor input of one
    TC cell (20 Hz, 5 ms pulses of 5 µA/cm² by default) and its pulse onsets."""
    wave = to_nA(pulse_train(t_max, delta_t, amplitude, period_ms, width_ms, onset_ms))
    onsets = np.arange(onset_ms, t_max - width_ms, period_ms)
    return wave, onsets


def irregular_sensorimotor_input(t_max: float, delta_t: float, seed: int = 0,
                                 rate_hz: float = SO_2012_SM["rate_hz"],
                                 cv: float = SO_2012_SM["cv"],
                                 amplitude: float = SO_2012_SM["amplitude"],
                                 width_ms: float = SO_2012_SM["width_ms"]):
    """``(current nA (n_steps + 1,), onsets ms)``: the irregular sensorimotor input of So,
    Kent & Grill (2012) into one TC cell.

    Inter-pulse intervals are gamma distributed with mean ``1000 / rate_hz`` ms and
    coefficient of variation ``cv`` (shape 1/cv², drawn by ``seed``); the first pulse starts
    one interval after t = 0. Onsets are rounded to the Δt grid (pulse edges on grid
    points), and an interval is never shorter than ``width_ms`` + Δt (pulses cannot merge;
    at the default CV 0.2 that floor is ~19 standard deviations below the mean). Defaults:
    :data:`SO_2012_SM` (14 Hz, CV 0.2, 3.5 µA/cm², 5 ms).
    """
    if not (rate_hz > 0 and np.isfinite(rate_hz)):
        raise ValueError(f"rate_hz must be a positive finite rate (Hz), got {rate_hz!r}")
    if not (cv > 0 and np.isfinite(cv)):
        raise ValueError(f"cv must be a positive finite coefficient of variation, got {cv!r}")
    if not (0.0 < width_ms < 1000.0 / rate_hz):
        raise ValueError(f"width_ms must be in (0, mean interval {1000.0 / rate_hz:g} ms),"
                         f" got {width_ms!r}")
    mean_isi, shape = 1000.0 / rate_hz, 1.0 / cv**2
    rng = np.random.default_rng(seed)
    n_draw = int(np.ceil(t_max / mean_isi * 2.0)) + 10
    isi = np.maximum(rng.gamma(shape, mean_isi / shape, n_draw), width_ms + delta_t)
    onsets = np.round(np.cumsum(isi) / delta_t) * delta_t
    onsets = onsets[onsets < t_max - width_ms]
    n = int(round(t_max / delta_t))
    wave = np.zeros(n + 1)
    steps = int(round(width_ms / delta_t))
    for k in np.round(onsets / delta_t).astype(int):
        wave[k:k + steps] = amplitude
    return to_nA(wave), onsets


def dbs_current(t_max: float, delta_t: float, frequency_hz: float = 130.0,
                amplitude: float = DBS_AMPLITUDE, width_ms: float = DBS_WIDTH,
                onset_ms: float = 0.0):
    """(n_steps + 1,) nA: the DBS pulse train into one STN cell (monophasic, depolarising,
    as in RT 2004), first pulse at ``onset_ms`` (ms, ≥ 0; 0 as in RT and So 2012);
    ``frequency_hz`` 0 gives no stimulation."""
    if not (onset_ms >= 0.0 and np.isfinite(onset_ms)):
        raise ValueError(f"onset_ms must be a finite time >= 0 (ms), got {onset_ms!r}")
    if frequency_hz == 0:
        return np.zeros(int(round(t_max / delta_t)) + 1)
    return to_nA(pulse_train(t_max, delta_t, amplitude, 1000.0 / frequency_hz, width_ms,
                             onset_ms))
