"""Spike detection shared by the tasks: upward crossings of 0 mV."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

#: A spike is an upward crossing of this voltage (mV).
SPIKE_THRESHOLD = 0.0


def count_spikes(v_previous, trace):
    """Upward crossings of ``SPIKE_THRESHOLD`` in ``(v_previous, *trace)``.

    Args:
        v_previous: scalar voltage (mV) at the end of the previous period.
        trace: (T,) voltages (mV) during the period.

    Returns:
        int32 scalar spike count.
    """
    v = jnp.concatenate([jnp.reshape(v_previous, (1,)).astype(trace.dtype), trace])
    return jnp.sum((v[:-1] < SPIKE_THRESHOLD) & (v[1:] >= SPIKE_THRESHOLD)).astype(jnp.int32)


def spike_samples(trace) -> np.ndarray:
    """Sample indices of the upward crossings of ``SPIKE_THRESHOLD`` in a (T,) NumPy trace
    (the first sample at or above it)."""
    trace = np.asarray(trace)
    return np.flatnonzero((trace[:-1] < SPIKE_THRESHOLD) & (trace[1:] >= SPIKE_THRESHOLD)) + 1
