"""The ``reset`` options of the gymnasium env: ``"params"`` (replaced ``EnvParams``
entries) and ``"target"`` (the episode's target), checked and applied.

See ``docs/envs.md`` for the conventions; ranges are checked by the one validator,
:func:`neuroenv.params_validation.check_params`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from neuroenv.params_validation import check_params
from neuroenv.validation import TypeAndValueError, check_range, real_number, show
from simulator.assemble import DERIVED

#: EnvParams scalars that ``reset(options={"params": ...})`` may replace besides ``sim``.
TOP_LEVEL_PARAMS = ("action_scale", "obs_noise_std", "init_v_jitter", "param_spread",
                    "param_drift")


def _as_param(name: str, value: Any, ref: Any) -> Any:
    """``value`` (real numbers: a scalar, broadcast, or an array of ``ref``'s shape) as an
    array of ``ref``'s shape and dtype; its range is checked by
    :func:`neuroenv.params_validation.check_params`."""
    label = f"options['params'][{name!r}]"
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nesting
        raise TypeAndValueError(f"{label} must be a real number or array, got "
                                f"{show(value)}") from err
    if arr.dtype.kind not in "iuf":
        raise TypeAndValueError(f"{label} must be a real number or array (int or float), "
                                f"got {show(value)} (dtype {arr.dtype})")
    ref_shape = tuple(np.shape(ref))
    if arr.shape != ref_shape:
        if arr.ndim != 0:
            raise ValueError(f"{label} must have shape {ref_shape} (or be a scalar), got "
                             f"shape {arr.shape}")
        arr = np.broadcast_to(arr, ref_shape)
    return jnp.asarray(arr, dtype=jnp.asarray(ref).dtype)


def replaced_params(env, default, overrides):
    """``default`` (``EnvParams`` of the functional ``env``) with the entries of
    ``options["params"]`` replaced (names of ``default.sim`` and :data:`TOP_LEVEL_PARAMS`),
    validated; ``TypeError``/``ValueError`` naming the entry otherwise."""
    if not isinstance(overrides, Mapping):
        raise ValueError(f"options['params'] must be a dict, got {type(overrides).__name__}")
    sim = dict(default.sim)
    top = {}
    for name, value in overrides.items():
        if not isinstance(name, str):
            raise TypeError(f"options['params'] keys must be parameter names (str), got "
                            f"{show(name)}")
        if name in TOP_LEVEL_PARAMS:
            top[name] = _as_param(name, value, getattr(default, name))
        elif name in sim:
            sim[name] = _as_param(name, value, sim[name])
        elif name in DERIVED:
            raise ValueError(f"options['params'] sets {name!r}, which is derived from radius,"
                             " length, axial_resistivity and capacitance in every step: set"
                             " those instead")
        else:
            raise ValueError(f"unknown parameter {name!r} in options['params']; known: "
                             f"{sorted(sim) + list(TOP_LEVEL_PARAMS)}")
    params = default.replace(sim=sim, **top)
    check_params(env, params, "options['params']", flat=True)
    return params


def replace_target(env, task_name: str, target, obs: np.ndarray, state, params,
                   observation_space):
    """``(obs, state)`` of a fresh episode of ``env`` (task ``task_name``) with
    ``task_state["target"]`` set to ``options["target"]`` (``obs``: the float32 NumPy
    observation, updated in place);
    ``ValueError`` for tasks without a target or a target outside the task's
    ``target_range`` or the observation space."""
    if "target" not in state.task:
        raise ValueError(f"task {task_name} has no target to set")
    value = np.float64(real_number("options['target']", target))
    declared = env.task.target_range
    if declared is not None:
        check_range(declared, "options['target']", value)
    elif not np.isfinite(value):
        raise ValueError(f"options['target'] must be a finite number, got {show(target)}")
    old = state.task["target"]
    task_state = {**state.task, "target": jnp.asarray(value, old.dtype)}
    extra = np.asarray(env.task_obs(task_state, params), dtype=obs.dtype)
    n = extra.shape[0]
    low, high = observation_space.low[-n:], observation_space.high[-n:]
    if not np.all((extra >= low) & (extra <= high)):
        raise ValueError(f"options['target']={float(value)} puts the task observation "
                         f"{extra} outside its bounds [{low}, {high}]")
    obs[-n:] = extra
    return obs, state.replace(task=task_state)
