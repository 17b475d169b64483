"""Causal spike detection on extracellular traces: negative-going threshold crossings.

A spike is flagged at sample t when the trace crosses ``-k * sigma`` downwards
(``x[t-1] >= thr > x[t]``) and at least ``refractory`` seconds have passed since the last
flagged spike. ``sigma`` is the robust noise estimate ``median(|x|) / 0.6745`` (the
standard deviation for Gaussian noise, insensitive to the spikes themselves), taken from a
calibration window or given. Detection works best on a high-passed trace (e.g. a
300–3000 Hz ``SosFilter`` before it); the detector itself does not filter.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from neuroenv.sensing.design import check_rate

#: median(|x|) / MAD_TO_SIGMA estimates the standard deviation of Gaussian noise.
MAD_TO_SIGMA = 0.6745


def noise_sigma(window: jax.Array) -> jax.Array:
    """Robust noise level ``median(|x|) / 0.6745`` over the last (time) axis of ``window``."""
    return jnp.median(jnp.abs(window), axis=-1) / MAD_TO_SIGMA


class SpikeState(NamedTuple):
    """Carried detector state, every field ``(..., n_channels)``.

    threshold: the (negative) detection threshold, in the trace's units.
    previous: the last sample seen.
    since: samples since the last flagged spike (int32, saturates at the refractory count).
    """

    threshold: jax.Array
    previous: jax.Array
    since: jax.Array


@dataclasses.dataclass(frozen=True)
class SpikeDetector:
    """Threshold detector at sampling rate ``fs`` Hz.

    Attributes:
      fs: sampling rate (Hz).
      k: threshold in units of the noise level (threshold = ``-k * sigma``), > 0.
      refractory: minimum time between two flagged spikes (s), >= 0.
    """

    fs: float
    k: float = 5.0
    refractory: float = 1e-3

    def __post_init__(self):
        check_rate(self.fs)
        if not (isinstance(self.k, (int, float)) and math.isfinite(self.k) and self.k > 0):
            raise ValueError(f"k (threshold in noise units) must be finite and > 0, got {self.k!r}")
        if not (isinstance(self.refractory, (int, float)) and 0 <= self.refractory < math.inf):
            raise ValueError(f"refractory must be a finite time >= 0 s, got {self.refractory!r}")

    @property
    def refractory_samples(self) -> int:
        """The refractory period in samples (rounded)."""
        return int(round(self.refractory * self.fs))

    def init(self, batch_shape=(), n_channels: int = 1, dtype=jnp.float32, noise=1.0) -> SpikeState:
        """State for a noise level ``noise`` (scalar or ``(*batch_shape, n_channels)``)."""
        shape = (*tuple(batch_shape), n_channels)
        threshold = jnp.broadcast_to(-self.k * jnp.asarray(noise, dtype), shape)
        return SpikeState(
            threshold=threshold,
            previous=jnp.zeros(shape, dtype),
            since=jnp.full(shape, self.refractory_samples, jnp.int32),
        )

    def calibrate(self, state: SpikeState, window: jax.Array) -> SpikeState:
        """Set the threshold from a calibration ``window`` ``(..., n_channels, n_samples)``."""
        sigma = noise_sigma(window.astype(state.threshold.dtype))
        return state._replace(threshold=jnp.broadcast_to(-self.k * sigma, state.threshold.shape))

    def step(self, state: SpikeState, x: jax.Array) -> tuple[SpikeState, jax.Array]:
        """One sample ``(..., n_channels)``; returns ``(state, spike flags)`` (bool)."""
        x = x.astype(state.previous.dtype)
        crossed = (state.previous >= state.threshold) & (x < state.threshold)
        since = jnp.minimum(state.since + 1, self.refractory_samples)
        spike = crossed & (since >= self.refractory_samples)
        since = jnp.where(spike, 0, since)
        return SpikeState(state.threshold, x, since.astype(jnp.int32)), spike

    def block(self, state: SpikeState, xs: jax.Array) -> tuple[SpikeState, jax.Array]:
        """A block ``(..., n_channels, n_samples)``; returns ``(state, flags)`` of its shape.

        Spike counts per block are ``flags.sum(-1)``.
        """
        state, flags = jax.lax.scan(self.step, state, jnp.moveaxis(xs, -1, 0))
        return state, jnp.moveaxis(flags, 0, -1)
