"""A sensor chain as a closed-loop device runs it: delay → decimate → band-pass → envelope.

One ``step`` consumes the raw samples of one control period, ``(..., n_channels, n_samples)``
at the simulation rate, and returns one feature per channel: the envelope (or band power)
at the end of the block. Everything is causal; the state is a pytree the env carries.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from neuroenv.sensing.biquad import SosFilter
from neuroenv.sensing.decimate import DEFAULT_FS_OUT, block_average, decimation_factor
from neuroenv.sensing.delay import DelayLine
from neuroenv.sensing.design import butter_bandpass, check_rate
from neuroenv.sensing.envelope import Envelope


class ChainState(NamedTuple):
    """Carried state: ``delay`` ``(..., C, delay)``, ``bandpass`` and ``envelope``
    ``(..., C, n_sections, 2)``."""

    delay: jax.Array
    bandpass: jax.Array
    envelope: jax.Array


@dataclasses.dataclass(frozen=True)
class SensorChain:
    """Delay, block-average decimation, Butterworth band-pass and envelope.

    Attributes:
      fs: raw sampling rate (Hz), e.g. 40000 for dt = 0.025 ms.
      lo, hi: band edges (Hz); default beta, 13–30 Hz.
      order: band-pass order (``order`` biquads).
      delay: sensing delay in raw samples (applied before decimation).
      decimate: block-average factor; ``None`` picks the largest factor that keeps the
        filtered rate >= 1 kHz (40 at 40 kHz), where float32 filtering is accurate.
      cutoff: envelope low-pass corner (Hz).
      kind: ``"amplitude"`` (envelope, input units) or ``"power"`` (band power, units²).
    """

    fs: float
    lo: float = 13.0
    hi: float = 30.0
    order: int = 2
    delay: int = 0
    decimate: int | None = None
    cutoff: float = 4.0
    kind: str = "amplitude"
    parts: tuple = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        fs = check_rate(self.fs)
        factor = decimation_factor(fs, DEFAULT_FS_OUT) if self.decimate is None else self.decimate
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"decimate must be None or an integer >= 1, got {self.decimate!r}")
        fs_out = fs / factor
        parts = (
            DelayLine(self.delay),
            factor,
            SosFilter(butter_bandpass(fs_out, self.lo, self.hi, self.order)),
            Envelope(fs_out, self.cutoff, self.kind),
        )
        object.__setattr__(self, "parts", parts)

    @property
    def factor(self) -> int:
        """The decimation factor in use."""
        return self.parts[1]

    @property
    def fs_filtered(self) -> float:
        """Rate (Hz) at which the band-pass and envelope run."""
        return self.fs / self.factor

    def init(self, batch_shape=(), n_channels: int = 1, dtype=jnp.float32) -> ChainState:
        """Zero state for ``batch_shape`` envs of ``n_channels`` channels each."""
        delay, _, bandpass, envelope = self.parts
        return ChainState(
            delay=delay.init(batch_shape, n_channels, dtype),
            bandpass=bandpass.init(batch_shape, n_channels, dtype),
            envelope=envelope.init(batch_shape, n_channels, dtype),
        )

    def filtered(self, state: ChainState, block: jax.Array) -> tuple[ChainState, jax.Array]:
        """Run a raw block ``(..., C, n)``; returns ``(state, envelope (..., C, n // factor))``.

        ``n`` must be a multiple of ``factor``.
        """
        delay, factor, bandpass, envelope = self.parts
        delay_state, xs = delay.block(state.delay, block)
        xs = block_average(xs.astype(state.bandpass.dtype), factor)
        bp_state, xs = bandpass.block(state.bandpass, xs)
        env_state, xs = envelope.block(state.envelope, xs)
        return ChainState(delay_state, bp_state, env_state), xs

    def step(self, state: ChainState, block: jax.Array) -> tuple[ChainState, jax.Array]:
        """Run a raw block ``(..., C, n)``; returns ``(state, features (..., C))``: the
        envelope at the block's last (decimated) sample."""
        state, env = self.filtered(state, block)
        return state, env[..., -1]
