"""Extracellular signals in an env: the LFP at recorded contacts and its band power.

:class:`~neuroenv.NeuronEnv` records, at every solver step, the potential (µV) at each contact
of the module's recorded electrodes (``module.record_extracellular(name)``) and hands it to
the task after the recorded states: ``task.step``'s ``trace`` is then
``(substeps, n_rec + n_lfp)``, the last ``n_lfp`` columns in µV (contacts in the order of
registration). A task observes it raw or through a :class:`BandPower` sensor whose state it
carries in its task state (causal, jittable, vmappable).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from neuroenv.sensing import SensorChain
from simulator.extracellular import coupling

#: The step's externals key of contact currents (µA).
CONTACTS = coupling.CONTACTS


def n_recorded_contacts(compiled) -> int:
    """Number of recorded contacts (LFP rows) of a compiled module."""
    return sum(len(names) for _, _, names, recorded in compiled.electrodes if recorded)


def lfp(prepared: dict, v, externals: dict, inds: dict) -> jax.Array:
    """(n_lfp,) float32 µV at the recorded contacts after a step with ``externals``."""
    return coupling.recorded_potentials(prepared["extracellular"], v, externals,
                                        inds).astype(jnp.float32)


@dataclasses.dataclass(frozen=True)
class BandPower:
    """Band power (µV²) of LFP channels, per control period, as a device senses it.

    Attributes:
        delta_t: solver step (ms); the LFP is sampled every step.
        lo, hi: band edges (Hz); default beta, 13–30 Hz.
        delay_ms: sensing delay (ms, a whole number of solver steps).
        cutoff: low-pass corner (Hz) of the power estimate.
    """

    delta_t: float
    lo: float = 13.0
    hi: float = 30.0
    delay_ms: float = 0.0
    cutoff: float = 4.0

    @property
    def chain(self) -> SensorChain:
        delay = int(round(self.delay_ms / self.delta_t))
        if delay < 0 or abs(delay * self.delta_t - self.delay_ms) > 1e-9:
            raise ValueError(f"delay_ms must be a whole number (>= 0) of solver steps of"
                             f" {self.delta_t} ms, got {self.delay_ms!r}")
        return SensorChain(1000.0 / self.delta_t, self.lo, self.hi, delay=delay,
                           cutoff=self.cutoff, kind="power")

    def init(self, n_channels: int):
        """The sensor state of ``n_channels`` channels (float32 zeros)."""
        return self.chain.init((), n_channels, jnp.float32)

    def step(self, state, samples) -> tuple:
        """``(state, power (C,) µV²)`` after the period's ``samples`` (substeps, C) µV;
        ``substeps`` must be a multiple of the decimation factor (40 at 0.025 ms)."""
        return self.chain.step(state, jnp.asarray(samples, jnp.float32).T)
