"""The inputs of Rubin & Terman (2004): sensorimotor pulses to TC cells and DBS of the STN.

Both are rectangular current-density pulse trains (RT write them with Heaviside functions of
sines; the pulses are the same rectangles). Amplitudes are in µA/cm² as in RT and come
back in nA for a cell of the network's 100 µm² (:data:`~.network.AREA_CM2`).
"""

from __future__ import annotations

import numpy as np

from simulator.models.basal_ganglia.network import AREA_CM2

__all__ = ["pulse_train", "sensorimotor_input", "dbs_current", "to_nA"]

#: Sensorimotor input (authors' ``.setnorm``/``.setpark``): 5 µA/cm² for 5 ms every 50 ms.
SM_AMPLITUDE, SM_PERIOD, SM_WIDTH = 5.0, 50.0, 5.0
#: DBS: 0.6 ms pulses (RT 2004; the authors' DBS file: 400 µA/cm² at a 6 ms period).
DBS_WIDTH, DBS_AMPLITUDE = 0.6, 400.0


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


def dbs_current(t_max: float, delta_t: float, frequency_hz: float = 130.0,
                amplitude: float = DBS_AMPLITUDE, width_ms: float = DBS_WIDTH):
    """(n_steps + 1,) nA: the DBS pulse train into one STN cell (monophasic, depolarising,
    as in RT 2004); ``frequency_hz`` 0 gives no stimulation."""
    if frequency_hz == 0:
        return np.zeros(int(round(t_max / delta_t)) + 1)
    return to_nA(pulse_train(t_max, delta_t, amplitude, 1000.0 / frequency_hz, width_ms))
