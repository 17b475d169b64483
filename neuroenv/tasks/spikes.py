"""Spike detection shared by the tasks: upward crossings of 0 mV."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

#: A spike is an upward crossing of this voltage (mV).
SPIKE_THRESHOLD = 0.0


def crosses_up(before, after):
    """True where the voltage (mV; NumPy or JAX arrays of one shape) goes from below
    ``SPIKE_THRESHOLD`` at ``before`` to at or above it at ``after``."""
    return (before < SPIKE_THRESHOLD) & (after >= SPIKE_THRESHOLD)


def upward_crossings(v_previous, trace):
    """(T, ...) bool: upward crossings between consecutive samples of ``(v_previous, *trace)``
    (``v_previous`` (...) mV at the end of the previous period, ``trace`` (T, ...) mV)."""
    v = jnp.concatenate([jnp.asarray(v_previous, trace.dtype)[None], trace])
    return crosses_up(v[:-1], v[1:])


def count_spikes(v_previous, trace):
    """Upward crossings of ``SPIKE_THRESHOLD`` in ``(v_previous, *trace)``.

    Args:
        v_previous: scalar voltage (mV) at the end of the previous period.
        trace: (T,) voltages (mV) during the period.

    Returns:
        int32 scalar spike count.
    """
    return jnp.sum(upward_crossings(v_previous, trace)).astype(jnp.int32)


def spike_samples(trace) -> np.ndarray:
    """Sample indices of the upward crossings of ``SPIKE_THRESHOLD`` in a (T,) NumPy trace
    (the first sample at or above it)."""
    trace = np.asarray(trace)
    return np.flatnonzero(crosses_up(trace[:-1], trace[1:])) + 1
