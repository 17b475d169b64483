"""``NeuronVectorEnv``: a native batched gymnasium ``VectorEnv`` over the functional env.

::

    envs = gymnasium.make_vec("neuroenv/VoltageTarget-v0", num_envs=1024,
                              vectorization_mode="vector_entry_point")
    obs, info = envs.reset(seed=0)                      # (1024, obs_dim) float32
    obs, reward, terminated, truncated, info = envs.step(actions)  # actions (1024, n_sites)

Every batch step is ONE jitted, vmapped call of the functional env's step and, where rows
need it, reset (:mod:`neuroenv.vector_step`); states and keys stay on the device and only
the outputs come back as NumPy arrays. ``reset(seed=s)`` gives row ``i`` the key chain of
the gymnasium single env's ``reset(seed=s + i)`` (bitwise equal in float64, equal up to
float32 rounding in float32). ``autoreset_mode`` is gymnasium's ``NEXT_STEP`` (default),
``SAME_STEP`` or ``DISABLED``. Episodes truncate after ``min(params.max_steps_in_episode,
max_episode_steps)`` steps. ``params`` leaves are shared (default shape) or per row
(leading axis ``num_envs``). Actions ``(num_envs, n_sites)``, finite (else ``ValueError``),
clipped to [-1, 1].

The conventions in full (key chain, float32 differences, autoreset info keys, params):
``docs/envs.md``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from neuroenv.compile_ahead import AheadOfTime
from neuroenv.core import Environment
from neuroenv.env_pytrees import cap_episode_steps
from neuroenv.params_validation import check_params
from neuroenv.registry import make
from neuroenv.seeding import check_seed, key_for_seed, keys_for_seeds
from neuroenv.validation import positive_int
from neuroenv.vector_step import batch_reset, batch_reset_masked, batch_step

__all__ = ["NeuronVectorEnv", "key_for_seed", "make_vector_env"]


def _rows(params, default, num_envs: int):
    """``params`` (checked by :func:`~neuroenv.params_validation.check_params`: each leaf of
    its default shape or with a leading ``num_envs`` axis) with every leaf cast to the
    default's dtype and broadcast to a leading axis of ``num_envs``."""
    def row(leaf, ref):
        ref = jnp.asarray(ref)
        return jnp.broadcast_to(jnp.asarray(leaf, dtype=ref.dtype), (num_envs, *ref.shape))

    return jax.tree_util.tree_map(row, params, default)


def _float32_box(box) -> gymnasium.spaces.Box:
    return gymnasium.spaces.Box(np.asarray(box.low, np.float32), np.asarray(box.high, np.float32),
                                tuple(box.shape), np.float32)


def autoreset_mode_of(value) -> AutoresetMode:
    """``value`` as an :class:`AutoresetMode`: the enum itself, its value (``"NextStep"``,
    ``"SameStep"``, ``"Disabled"``) or its name in any case (``"next_step"``)."""
    if isinstance(value, AutoresetMode):
        return value
    if isinstance(value, str):
        for mode in AutoresetMode:
            if value in (mode.value, mode.name) or value.upper() == mode.name:
                return mode
    raise ValueError(
        f"autoreset_mode must be a gymnasium.vector.AutoresetMode or one of "
        f"{[m.value for m in AutoresetMode]}, got {value!r}")


class NeuronVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies of a functional env stepped by one jitted, vmapped call.

    Args:
        env: a functional :class:`~neuroenv.core.Environment` (e.g. from ``neuroenv.make``).
        num_envs: number of rows (sub-environments).
        params: ``None`` (the env's defaults, shared) or an ``EnvParams`` pytree whose leaves
            are shared (default shape) or per row (leading axis ``num_envs``).
        max_episode_steps: optional cap on the episode length (see ``docs/envs.md``).
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default, gymnasium's), ``SAME_STEP`` or
            ``DISABLED`` (or their string values); see ``docs/envs.md``. Stored in
            ``metadata["autoreset_mode"]`` of the instance.

    Observations are float32 ``(num_envs, obs_dim)``, rewards float32 ``(num_envs,)``,
    terminated/truncated bool ``(num_envs,)``; all NumPy, fresh on every call.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, env: Environment, num_envs: int, params=None,
                 max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP) -> None:
        if not isinstance(env, Environment):
            raise TypeError(f"env must be a neuroenv functional Environment, got {env!r}")
        self.autoreset_mode = autoreset_mode_of(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        self.num_envs = positive_int("num_envs", num_envs, int | np.integer)
        if max_episode_steps is not None:
            max_episode_steps = positive_int("max_episode_steps", max_episode_steps,
                                             int | np.integer)
        self.env = env
        self.max_episode_steps = max_episode_steps
        default = env.default_params
        if params is not None:  # each leaf shared (default shape) or per row (num_envs, ...)
            check_params(env, params, batch_ndim=1, shared_ok=True, batch_size=self.num_envs)
        params = _rows(default if params is None else params, default, self.num_envs)
        params = cap_episode_steps(params, max_episode_steps)
        #: the params of every row (each leaf with a leading axis of ``num_envs``).
        self.params = params

        self.single_observation_space = _float32_box(env.observation_space(default))
        self.single_action_space = _float32_box(env.action_space(default))
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._action_shape = (self.num_envs, *self.single_action_space.shape)

        self._on_cpu = jax.default_backend() == "cpu"
        self._keys = None  # (num_envs,) typed key array
        self._states = None
        self._ahead = None  # the step program compiling during the first reset
        self._obs = None  # device copy of the last observations (for masked resets)
        # rows whose episode ended at the last step (NEXT_STEP: reset at the next step)
        self._ended = np.zeros(self.num_envs, np.bool_)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None):
        """Reset all rows (or those in ``options["reset_mask"]``); ``(obs, info)``.

        Args:
            seed: ``s`` (row ``i`` gets ``key_for_seed(s + i)``), a list of ``num_envs`` seeds,
                or ``None`` (continue each row's key chain).
            options: ``None`` or ``{"reset_mask": bool array (num_envs,)}``: reset only those
                rows, the others keep their state and observation.
        """
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if options:
            raise ValueError(f"unsupported reset options {sorted(options)}; only 'reset_mask'")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},),"
                                 f" got {mask.dtype} {mask.shape}")
            if self._states is None:
                raise ValueError("reset with a reset_mask needs a full reset first")

        keys = self._keys  # seedless: continue each row's key chain
        if isinstance(seed, list | tuple | np.ndarray):
            seeds = [check_seed(s) for s in seed]
            if len(seeds) != self.num_envs:
                raise ValueError(f"give one seed per env ({self.num_envs}), got {len(seeds)}")
            keys = keys_for_seeds(seeds)
        elif seed is not None or keys is None:
            if seed is None:  # the first seedless reset: a random base seed
                base = int(np.random.SeedSequence().generate_state(1, np.uint32)[0] >> 1)
            else:
                base = check_seed(seed)
                super().reset(seed=base)
            keys = keys_for_seeds([base + i for i in range(self.num_envs)])

        if mask is None:
            if self._ahead is None:
                self._ahead = self._compile_step_ahead(keys)
            self._keys, self._obs, self._states = batch_reset(self.env, keys, self.params)
            mask = np.ones(self.num_envs, np.bool_)
            self._ended = np.zeros(self.num_envs, np.bool_)
        else:
            self._keys, self._obs, self._states = batch_reset_masked(
                self.env, keys, jnp.asarray(mask), self._obs, self._states,
                self.params)
            self._ended = self._ended & ~mask
        return np.array(self._obs, dtype=np.float32), self._reset_info(mask)

    def _compile_step_ahead(self, keys) -> AheadOfTime:
        """Trace the batch reset (its call then reuses the trace) and compile the batch step
        for its output types on a thread while the reset compiles and runs
        (:mod:`neuroenv.compile_ahead`)."""
        out_keys, _, states = batch_reset.lower(self.env, keys, self.params).out_info
        actions = jax.ShapeDtypeStruct(self._action_shape, jnp.float32)
        pending = jax.ShapeDtypeStruct((self.num_envs,), jnp.bool_)
        return AheadOfTime(batch_step, (self.env, self.autoreset_mode, out_keys, states,
                                        actions, self.params, pending))

    def _reset_info(self, rows: np.ndarray) -> dict:
        """The single env's reset info (``action_scale_nA``, ``target``) of ``rows``."""
        info: dict[str, Any] = {}
        values = {"action_scale_nA": self.params.action_scale}
        task_state = getattr(self._states, "task", None)
        if isinstance(task_state, dict) and np.ndim(task_state.get("target")) == 1:
            values["target"] = task_state["target"]  # a scalar target per row
        for k, v in values.items():
            info[k] = np.where(rows, np.asarray(v, dtype=np.float64), 0.0)
            info[f"_{k}"] = rows.copy()
        return info

    def step(self, actions):
        """One control period for every row; ``(obs, reward, terminated, truncated, info)``."""
        if self._states is None:
            raise ValueError("call reset() before step()")
        a = np.asarray(actions)
        if a.shape != self._action_shape:
            raise ValueError(f"actions must have shape {self._action_shape} (num_envs, n_sites),"
                             f" got {a.shape}")
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"actions must be real numbers, got dtype {a.dtype}")
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise ValueError("actions must be finite, got NaN or inf")
        a = np.clip(a, self.single_action_space.low, self.single_action_space.high)
        mode = self.autoreset_mode
        if mode is AutoresetMode.DISABLED and self._ended.any():
            raise ValueError(
                f"rows {np.flatnonzero(self._ended).tolist()} ended and autoreset_mode is "
                "DISABLED: reset them first (reset(options={'reset_mask': mask}))")
        pending = self._ended if mode is AutoresetMode.NEXT_STEP else np.zeros_like(self._ended)

        if self._ahead is not None:
            self._ahead.wait()
        (self._keys, obs, self._states, reward, terminated, truncated, info,
         final_obs) = batch_step(self.env, mode, self._keys, self._states, a, self.params,
                              jnp.asarray(pending))
        self._obs = obs
        out = (obs, reward, terminated, truncated, info)
        if not self._on_cpu:  # start every transfer before waiting on any
            for x in jax.tree_util.tree_leaves(out):
                x.copy_to_host_async()
        # np.asarray per leaf: on CPU ~10x cheaper than jax.device_get of the tuple
        obs, reward, terminated, truncated, info = jax.tree_util.tree_map(np.asarray, out)
        obs = np.array(obs, dtype=np.float32)
        reward = np.array(reward, dtype=np.float32)
        terminated = np.array(terminated, dtype=np.bool_)
        truncated = np.array(truncated, dtype=np.bool_)
        done = terminated | truncated
        self._ended = done
        if mode is AutoresetMode.SAME_STEP:
            info = self._same_step_info(info, done, final_obs)
        else:
            info = self._next_step_info(info, pending)
        return obs, reward, terminated, truncated, info

    def _rows_info(self, info: dict, rows: np.ndarray) -> dict:
        """``info`` of ``rows`` in SyncVectorEnv's layout: each key with a ``_key`` mask,
        zeros elsewhere; empty if no row is selected."""
        out: dict[str, Any] = {}
        if not rows.any():
            return out
        for k, v in info.items():
            v = np.asarray(v)
            out[k] = np.where(rows.reshape((-1,) + (1,) * (v.ndim - 1)), v, np.zeros_like(v))
            out[f"_{k}"] = rows.copy()
        return out

    def _next_step_info(self, info: dict, reset_rows: np.ndarray) -> dict:
        """NEXT_STEP (and DISABLED): the step info of stepped rows, the reset info of
        ``reset_rows`` (as ``SyncVectorEnv`` builds it)."""
        out = self._rows_info(info, ~reset_rows)
        if reset_rows.any():
            out.update(self._reset_info(reset_rows))
        return out

    def _same_step_info(self, info: dict, done: np.ndarray, final_obs) -> dict:
        """SAME_STEP: step info of running rows, ``final_obs``/``final_info`` and reset info
        of finished rows (as ``SyncVectorEnv`` builds it)."""
        out = self._rows_info(info, ~done)
        if done.any():
            objects = np.full(self.num_envs, None, dtype=object)
            last = np.asarray(final_obs, dtype=np.float32)
            for i in np.flatnonzero(done):
                objects[i] = last[i].copy()
            out["final_obs"], out["_final_obs"] = objects, done.copy()
            out["final_info"], out["_final_info"] = self._rows_info(info, done), done.copy()
            out.update(self._reset_info(done))
        return out


def make_vector_env(num_envs: int, max_episode_steps: int | None = None,
                    task: str = "VoltageTarget-v0", params=None,
                    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                    **env_kwargs) -> NeuronVectorEnv:
    """The ``vector_entry_point`` of the registered tasks.

    Args:
        num_envs: number of rows.
        max_episode_steps: optional cap on the episode length (``gymnasium.make_vec`` passes
            the registration's); the functional env truncates by itself.
        task: registered task name (``"VoltageTarget-v0"``; a ``neuroenv/`` prefix is fine).
        params: optional ``EnvParams`` with per-row leaves (leading axis ``num_envs``) for
            domain randomisation; build it from ``neuroenv.make(task, **env_kwargs)[1]``.
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default), ``SAME_STEP`` or ``DISABLED``
            (``gymnasium.make_vec(id, num_envs=n, autoreset_mode=...)`` passes it here).
        **env_kwargs: keyword arguments of the task's ``make_env`` (``max_steps_in_episode``,
            ``substeps``, ``obs_noise_std``, ...).
    """
    env, _ = make(task, **env_kwargs)
    return NeuronVectorEnv(env, num_envs, params=params, max_episode_steps=max_episode_steps,
                           autoreset_mode=autoreset_mode)
