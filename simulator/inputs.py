"""A run's inputs: stimuli and clamps merged into the module's externals, fitted to the
number of steps."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from simulator.extracellular.coupling import CONTACTS
from simulator.run_checks import check_input_values, check_time


def add_stimuli(externals: dict, external_inds: dict, data_stimuli):
    """Merge ``data_stimulate`` output into ``externals``/``external_inds`` (key ``"i"``)."""
    return _merge(externals, external_inds, data_stimuli)


def add_clamps(externals: dict, external_inds: dict, data_clamps):
    """Merge ``data_clamp`` output into ``externals``/``external_inds``."""
    return _merge(externals, external_inds, data_clamps)


def _merge(externals, external_inds, data):
    externals, external_inds = dict(externals), dict(external_inds)
    if data is None:
        return externals, external_inds
    if not isinstance(data, list | tuple) or len(data) != 3:
        raise TypeError("data_stimuli / data_clamps must be the (names, arrays, inds) of"
                        f" data_stimulate() / data_clamp(), got {type(data).__name__}")
    for key, values, inds in zip(*data, strict=True):
        check_input_values(key, values)
        values = jnp.asarray(values)
        if key in externals:
            externals[key] = jnp.concatenate([jnp.asarray(externals[key]), values])
            external_inds[key] = np.concatenate([external_inds[key], inds])
        else:
            externals[key], external_inds[key] = values, np.asarray(inds)
    return externals, external_inds


def _scalar(value):
    """Python and numpy scalars as they are (keeping numpy's promotion rules), arrays as numpy."""
    return value if isinstance(value, int | float | np.number) else np.asarray(value)[()]


class InputTruncatedWarning(UserWarning):
    """A stimulus or clamp is longer than the simulation: its samples after the last step
    were dropped (as jaxley does)."""


def fit_length(key, values, n_steps):
    """Cut, pad or refuse an input of T samples for a run of ``n_steps`` steps.

    A longer input is cut to ``n_steps`` samples, as jaxley does. ``step_current(...,
    t_max)`` has one sample more than ``integrate(t_max=...)`` runs steps (its last sample
    would drive the step after t_max), so that sample is cut silently; an input that loses
    more (a stimulus with non-zero current there, or any traced input or clamp that long)
    is cut with an :class:`InputTruncatedWarning`. Shorter stimuli are padded with zeros;
    shorter clamps are refused (ValueError).
    """
    T = values.shape[1]
    if T > n_steps + 1:
        concrete = key in ("i", CONTACTS) and not isinstance(values, jax.core.Tracer)
        lost = np.any(np.asarray(values)[:, n_steps + 1 :] != 0) if concrete else True
        if lost:
            what = "non-zero current" if concrete else f"{T - n_steps - 1} samples"
            warnings.warn(
                f"the input {key!r} has {what} after the simulation's {n_steps} steps"
                f" ({T} samples, the first {n_steps} are used): it is cut to the simulation;"
                " lengthen t_max to simulate all of it", InputTruncatedWarning, stacklevel=5)
    if T >= n_steps:
        return values[:, :n_steps]
    if key not in ("i", CONTACTS):
        raise ValueError(
            f"the clamp of {key!r} has {T} samples but the simulation runs {n_steps} steps:"
            " a clamp must cover every step"
        )
    return jnp.pad(jnp.asarray(values), ((0, 0), (0, n_steps - T)))


def merged_inputs(base, data_stimuli, data_clamps) -> tuple[dict, dict]:
    """``(externals, external_inds)``: the module's inputs, then ``data_stimuli``, then
    ``data_clamps``; each ``externals[key]`` (n_inputs, n_samples)."""
    externals = {k: np.asarray(v) for k, v in base.externals.items()}
    externals, external_inds = add_stimuli(externals, base.external_inds, data_stimuli)
    return add_clamps(externals, external_inds, data_clamps)


def number_of_steps(externals: dict, t_max, delta_t) -> int:
    """``int(t_max // delta_t + 1)``, or (``t_max`` None) the inputs' common number of
    samples."""
    lengths = {k: v.shape[1] for k, v in externals.items()}
    if t_max is None:
        if not externals:
            raise ValueError("give t_max or at least one stimulus or clamp (none defined)")
        if len(set(lengths.values())) > 1:
            raise ValueError(f"inputs have different numbers of samples {lengths}; give t_max")
        return next(iter(lengths.values()))
    check_time(t_max, "t_max", "a non-negative time in ms", positive=False)
    # In the inputs' own precision, as jaxley (float32 0.025 differs from 0.025).
    return int(_scalar(t_max) // _scalar(delta_t) + 1)
