"""The thalamocortical relay error index (EI) of Rubin & Terman (2004), as defined by
So et al. (2012).

For each sensorimotor pulse with onset t_p: a *miss* if the TC cell does not spike within
``window`` ms of t_p, a *bad* response if it spikes more than once in that window, and one
*spurious* error per spike after the window and before the next pulse. EI = errors /
pulses (can exceed 1), averaged over TC cells. Spikes are upward crossings of
``threshold`` (−40 mV).
"""

from __future__ import annotations

import numpy as np

__all__ = ["spike_times", "error_index"]


def spike_times(v: np.ndarray, delta_t: float, threshold: float = -40.0) -> np.ndarray:
    """Times (ms) of the upward crossings of ``threshold`` in a trace ``v`` (mV) sampled
    every ``delta_t`` ms from t = 0 (the sample after the crossing)."""
    v = np.asarray(v)
    return (np.flatnonzero((v[1:] >= threshold) & (v[:-1] < threshold)) + 1) * delta_t


def error_index(tc_voltages, delta_t: float, onsets, window: float = 25.0,
                threshold: float = -40.0, t_end: float | None = None) -> dict:
    """The EI of TC traces ``tc_voltages`` ((n_tc, n_samples) mV, every ``delta_t`` ms from
    t = 0) for sensorimotor pulses at ``onsets`` (ms; pulses later than ``t_end −
    window`` are not scored; ``t_end`` defaults to the trace's end).

    Returns:
        ``{"ei", "misses", "bad", "spurious", "pulses"}``: EI (mean over cells) and the
        error counts summed over cells.
    """
    tc = np.atleast_2d(np.asarray(tc_voltages))
    end = (tc.shape[1] - 1) * delta_t if t_end is None else t_end
    onsets = np.sort(np.asarray(onsets, float).ravel())
    scored = onsets[onsets <= end - window]
    if len(scored) == 0:
        raise ValueError(f"onsets: no pulse starts at least window={window} ms before the"
                         f" trace ends at {end} ms (onsets {onsets.tolist()[:5]}...)")
    # each pulse's spurious interval ends at the next onset (scored or not) or the trace's end
    bounds = np.append(onsets[1:len(scored) + 1], end)[:len(scored)]
    counts = {"misses": 0, "bad": 0, "spurious": 0}
    per_cell = []
    for v in tc:
        t = spike_times(v, delta_t, threshold)
        errors = 0
        for t_p, t_next in zip(scored, bounds, strict=True):
            inside = np.sum((t >= t_p) & (t < t_p + window))
            after = np.sum((t >= t_p + window) & (t < t_next))
            counts["misses"] += int(inside == 0)
            counts["bad"] += int(inside > 1)
            counts["spurious"] += int(after)
            errors += int(inside == 0) + int(inside > 1) + int(after)
        per_cell.append(errors / max(len(scored), 1))
    return {"ei": float(np.mean(per_cell)), "pulses": len(scored) * len(tc), **counts}
