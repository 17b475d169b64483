"""Observation units of :class:`~neuroenv.neuron_env.NeuronEnv`: the voltage bounds and the
affine map of every observation entry to O(1) scaled units (see ``docs/envs.md``)."""

from __future__ import annotations

import numpy as np

#: Observation bounds of recorded voltages (mV); observations are clipped to them.
V_BOUNDS = (-150.0, 100.0)
#: Scaled observations: a voltage v (mV) is observed as (v − V_OFFSET) / V_SCALE.
V_OFFSET = -65.0
V_SCALE = 20.0


def obs_unit_map(task, n_voltage: int, obs_units: str) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)``, each (n_voltage + task.n_extra_obs,) float32, of the map
    ``(x − offset) / scale`` from physical values to observation entries: ``n_voltage``
    voltage entries by :data:`V_OFFSET`/:data:`V_SCALE`, then the task's entries by its
    ``extra_obs_scaling()``; offset 0 and scale 1 with ``obs_units="physical"``."""
    n = n_voltage
    if obs_units == "physical":
        n_all = n + task.n_extra_obs
        return np.zeros(n_all, np.float32), np.ones(n_all, np.float32)
    offset_extra, scale_extra = task.extra_obs_scaling()
    if (len(offset_extra) != task.n_extra_obs
            or len(scale_extra) != task.n_extra_obs
            or not all(np.isfinite(s) and s > 0 for s in scale_extra)):
        raise ValueError(f"{type(task).__name__}.extra_obs_scaling() must give "
                         f"{task.n_extra_obs} offsets and positive scales, got "
                         f"{offset_extra!r}, {scale_extra!r}")
    offset = np.concatenate([np.full(n, V_OFFSET), np.asarray(offset_extra, float)])
    scale = np.concatenate([np.full(n, V_SCALE), np.asarray(scale_extra, float)])
    return offset.astype(np.float32), scale.astype(np.float32)
