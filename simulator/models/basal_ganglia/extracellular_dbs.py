"""Extracellular DBS of the STN: a point contact beside the STN axons and its pulse train.

For the network built with ``stn_axon=True`` (:mod:`.stn_axon`): :func:`add_dbs_contact`
registers a point contact ``distance_um`` from the axon bundle's axis, beside the middle of
the axons, and :func:`biphasic_pulses` gives the contact current (µA) of a charge-balanced,
cathodic-first pulse train for ``module.stimulate_extracellular``. Measured thresholds and
the relay result: docs/basal_ganglia.md ("Extracellular DBS").
"""

from __future__ import annotations

import numpy as np

from simulator.models.basal_ganglia.inputs import pulse_train
from simulator.models.basal_ganglia.stn_axon import AXON_LENGTH_UM, AXON_NCOMP, SOMA_LENGTH_UM

__all__ = ["add_dbs_contact", "biphasic_pulses", "electrode_position"]


def electrode_position(distance_um: float) -> list[float]:
    """A point (µm) beside the middle of the STN axons, ``distance_um`` from the bundle's
    axis (the x axis) along −y."""
    if not (np.isfinite(distance_um) and distance_um > 0):
        raise ValueError(f"distance_um must be a finite distance > 0 (µm), got"
                         f" {distance_um!r}")
    return [SOMA_LENGTH_UM + AXON_NCOMP * AXON_LENGTH_UM / 2.0, -float(distance_um), 0.0]


def add_dbs_contact(net, distance_um: float, name: str = "dbs", sigma: float = 0.3) -> None:
    """Register a point contact ``name`` at :func:`electrode_position` (σ in S/m)."""
    from simulator.extracellular import point_contacts

    net.add_electrode(point_contacts([electrode_position(distance_um)]), name=name,
                      medium=sigma)


def biphasic_pulses(t_max: float, delta_t: float, amplitude_uA: float,
                    frequency_hz: float = 130.0, phase_ms: float = 0.1,
                    onset_ms: float = 0.0) -> np.ndarray:
    """(n_steps + 1,) µA: a charge-balanced, cathodic-first biphasic pulse train (−amplitude
    for ``phase_ms``, then +amplitude for ``phase_ms``) at ``frequency_hz``, first pulse at
    ``onset_ms`` (ms), sampled like :func:`~.inputs.pulse_train`."""
    if not (amplitude_uA >= 0 and np.isfinite(amplitude_uA)):
        raise ValueError(f"amplitude_uA must be a finite current >= 0 (µA), got"
                         f" {amplitude_uA!r}")
    if not (frequency_hz > 0 and np.isfinite(frequency_hz)):
        raise ValueError(f"frequency_hz must be a positive finite rate (Hz), got"
                         f" {frequency_hz!r}")
    period = 1000.0 / frequency_hz
    cathodic = pulse_train(t_max, delta_t, amplitude_uA, period, phase_ms, onset_ms)
    anodic = pulse_train(t_max, delta_t, amplitude_uA, period, phase_ms, onset_ms + phase_ms)
    return anodic - cathodic
