"""``NeuronVectorEnv``: a native batched gymnasium ``VectorEnv`` over the functional env.

::

    envs = gymnasium.make_vec("neuroenv/VoltageTarget-v0", num_envs=1024,
                              vectorization_mode="vector_entry_point")
    obs, info = envs.reset(seed=0)                      # (1024, obs_dim) float32
    obs, reward, terminated, truncated, info = envs.step(actions)  # actions (1024, n_sites)

Every batch step is ONE jitted, vmapped call of the functional env's step and, where rows
need it, reset (no Python loop over sub-environments, no subprocesses); states and keys stay
on the device between calls and only the step's outputs come back to the host as NumPy
arrays.

Conventions
-----------
- **Seeding.** ``reset(seed=s)`` gives row ``i`` the key ``key_for_seed(s + i)``, the key the
  gymnasium single env uses for ``reset(seed=s + i)`` (``NeuronGymEnv.key_for_seed``:
  ``jax.random.key(seed)`` for seeds below 2**32). From that key each row runs the chain::

      key, k_reset = jax.random.split(key);  obs, state = env.reset(k_reset, params)
      key, k_step = jax.random.split(key);   env.step(k_step, state, action, params)  # per step

  and every reset of a row after an episode ends (autoreset) continues that chain as the
  first line does. So row ``i`` follows the gymnasium single env reset with ``seed=s + i``
  (and reset without a seed after each episode) step for step, and the single functional
  env seeded with ``key_for_seed(s + i)`` until its episode ends -- bitwise in float64, up
  to float rounding in float32: XLA:CPU evaluates float32 ``exp``/``log1p`` with different
  code in vectorised and scalar loops, so a vmapped row and an unbatched env can differ in
  the last bit of a gate rate, which the dynamics amplify. Measured (VoltageTarget-v0, 32
  rows, 150 steps of full-range random actions): float32, every row differs, by at most
  0.013 mV in the observed voltage (median 0.004 mV); float64, no row differs
  (``tests/neuroenv/test_determinism.py``). Chaotic dynamics (a spike that happens in one
  and not the other) can turn such differences into different trajectories.
  ``reset(seed=[s_0, ..., s_{n-1}])`` seeds each row explicitly; ``reset()`` without a seed
  continues each row's key chain (the first unseeded reset draws a random base seed).
- **Autoreset** (``autoreset_mode=``, a constructor and ``gymnasium.make_vec`` keyword;
  ``metadata["autoreset_mode"]`` of the instance), as gymnasium's ``SyncVectorEnv`` over
  ``NeuronGymEnv`` with the same seeds does it, in the one jitted step:

  - ``AutoresetMode.NEXT_STEP`` (default, gymnasium's default; every gymnasium vector
    wrapper supports it): a row that terminates or truncates returns its last observation;
    at the next ``step`` it is reset instead of stepped (its action is ignored), returning
    the new episode's first observation with reward 0 and both flags False. Its key chain
    continues as a seedless ``reset`` does (``key, k_reset = split(key)``). ``info`` holds
    the step info of stepped rows (``numerical_error`` (bool), ``current_nA`` (n_sites,),
    masks ``_numerical_error``/``_current_nA``) and the reset info of reset rows
    (``action_scale_nA`` and, for tasks with a scalar target, ``target``, float64, masks
    ``_action_scale_nA``/``_target``).
  - ``AutoresetMode.SAME_STEP``: a row that ends is reset inside the same ``step`` (its key
    chain continuing as a seedless ``reset``, as in NEXT_STEP): the returned observation is
    the new episode's first one, the reward and flags belong to the finished transition.
    ``info["final_obs"]`` is an object array of length ``num_envs`` holding the last
    observation (float32 array) of each finished row and ``None`` elsewhere (mask
    ``info["_final_obs"]``); ``info["final_info"]`` holds the finished rows' step info
    (with its own ``_key`` masks; mask ``info["_final_info"]``); the top-level step info is
    that of the running rows, and finished rows carry their reset's info. (The functional
    ``Environment.step`` also resets in the same step, but with another key, ``split(k_step)
    [1]``; rows equal it until their first episode ends.) gymnasium 1.3's observation
    wrappers (``VectorObservationWrapper``, ``VectorizeTransformObservation`` and their
    subclasses, ``NormalizeObservation``) refuse this mode, and its
    ``RecordEpisodeStatistics`` counts every episode after the first one step short in it.
  - ``AutoresetMode.DISABLED``: no resets; stepping a row that ended raises ``ValueError``
    until it is reset with ``reset(options={"reset_mask": mask})``.

  Info keys appear only when at least one row has them (as in ``SyncVectorEnv``).
  ``reset`` returns the reset info of the rows it resets.
- **Episode length.** The functional env truncates by itself after
  ``params.max_steps_in_episode`` steps. ``max_episode_steps`` (which ``gymnasium.make_vec``
  passes from the registration) acts like gymnasium's ``TimeLimit`` over the env: episodes are
  truncated after ``min(params.max_steps_in_episode, max_episode_steps)`` steps, done on the
  device by lowering ``params.max_steps_in_episode``. To get longer episodes than the task
  default, pass both ``max_steps_in_episode=`` (an env keyword) and ``max_episode_steps=``.
- **Params.** Shared by all rows (the task's defaults) unless ``params`` is given: an
  ``EnvParams`` pytree in which each leaf has either its default shape (shared) or a leading
  axis of length ``num_envs`` (one value per row) -- domain randomisation, e.g.
  ``p.replace(action_scale=jnp.linspace(0.05, 0.2, num_envs))``. Leaves are cast to the
  default dtypes and broadcast to ``num_envs`` rows (``envs.params``), so shared and per-row
  params run the same compiled step.
- **Actions.** Shape ``(num_envs, n_sites)``, finite (else ``ValueError``), clipped to
  [-1, 1] (the functional env scales them by ``params.action_scale`` to nA).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from neuroenv.core import Environment
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
        max_episode_steps: optional cap on the episode length (see the module docstring).
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default, gymnasium's), ``SAME_STEP`` or
            ``DISABLED`` (or their string values); see the module docstring. Stored in
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
        if max_episode_steps is not None:
            params = params.replace(max_steps_in_episode=jnp.minimum(
                params.max_steps_in_episode, jnp.int32(max_episode_steps)))
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

        if seed is None:
            if self._keys is None:
                base = int(np.random.SeedSequence().generate_state(1, np.uint32)[0] >> 1)
                keys = keys_for_seeds([base + i for i in range(self.num_envs)])
            else:
                keys = self._keys
        else:
            if isinstance(seed, list | tuple | np.ndarray):
                seeds = [check_seed(s) for s in seed]
                if len(seeds) != self.num_envs:
                    raise ValueError(f"give one seed per env ({self.num_envs}), got {len(seeds)}")
            else:
                base = check_seed(seed)
                super().reset(seed=base)
                seeds = [base + i for i in range(self.num_envs)]
            keys = keys_for_seeds(seeds)

        if mask is None:
            self._keys, self._obs, self._states = batch_reset(self.env, keys, self.params)
            mask = np.ones(self.num_envs, np.bool_)
            self._ended = np.zeros(self.num_envs, np.bool_)
        else:
            self._keys, self._obs, self._states = batch_reset_masked(
                self.env, keys, jnp.asarray(mask), self._obs, self._states,
                self.params)
            self._ended = self._ended & ~mask
        return np.array(self._obs, dtype=np.float32), self._reset_info(mask)

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
