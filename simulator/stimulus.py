"""Stimulus waveforms: step currents sampled on the simulation grid.

Sample ``k`` of a stimulus drives integration step ``k`` (from ``t_k`` to ``t_{k+1}``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import Array


def _check_timing(i_delay: float, i_dur: float, delta_t: float, t_max: float) -> None:
    for name, value in (("i_delay", i_delay), ("i_dur", i_dur), ("t_max", t_max)):
        finite = isinstance(value, int | float | np.number) and math.isfinite(value)
        if not (finite and value >= 0):
            raise ValueError(f"{name} must be a finite, non-negative time (ms), got {value!r}")
    step_ok = isinstance(delta_t, int | float | np.number) and math.isfinite(delta_t)
    if not (step_ok and delta_t > 0):
        raise ValueError(f"delta_t must be a positive time step in ms, got {delta_t!r}")


def _window(i_delay: float, i_dur: float, delta_t: float, t_max: float) -> np.ndarray:
    """Boolean mask (T,) of the samples where the step is on, T = int(t_max // delta_t) + 2."""
    mask = np.zeros(int(t_max // delta_t) + 2, dtype=bool)
    mask[int(i_delay / delta_t) : int((i_delay + i_dur) / delta_t)] = True
    return mask


def step_current(i_delay: float, i_dur: float, i_amp: float | Array, delta_t: float,
                 t_max: float, i_offset: float | Array = 0.0) -> Array:
    """A current step.

    Args:
        i_delay: onset of the step (ms).
        i_dur: duration of the step (ms).
        i_amp: amplitude during the step (nA); may be a traced scalar (differentiable).
        delta_t: simulation time step (ms).
        t_max: simulated time (ms).
        i_offset: value outside the step (nA).

    Returns:
        (int(t_max // delta_t) + 2,) current (nA): ``i_amp`` on samples
        ``[int(i_delay / delta_t), int((i_delay + i_dur) / delta_t))``, ``i_offset`` elsewhere.
    """
    _check_timing(i_delay, i_dur, delta_t, t_max)
    if jnp.ndim(i_amp) != 0:
        raise ValueError(
            f"i_amp must be a scalar (nA), got shape {jnp.shape(i_amp)}; "
            "use datapoint_to_step_currents for several amplitudes"
        )
    return jnp.where(_window(i_delay, i_dur, delta_t, t_max), i_amp, i_offset)


def datapoint_to_step_currents(i_delay: float, i_dur: float, i_amp: Array, delta_t: float,
                               t_max: float, i_offset: float = 0.0) -> Array:
    """Several current steps with common timing and one amplitude each.

    Args:
        i_amp: (n,) amplitudes (nA).
        (other arguments as in :func:`step_current`)

    Returns:
        (n, int(t_max // delta_t) + 2) currents (nA).
    """
    _check_timing(i_delay, i_dur, delta_t, t_max)
    amps = jnp.atleast_1d(jnp.asarray(i_amp))
    if amps.ndim != 1:
        raise ValueError(
            f"i_amp must be a scalar or a 1-d array of amplitudes, got shape {amps.shape}"
        )
    return jnp.where(_window(i_delay, i_dur, delta_t, t_max)[None, :], amps[:, None], i_offset)
