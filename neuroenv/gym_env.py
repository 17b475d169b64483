"""``NeuronGymEnv``: a neuroenv task as a NumPy-facing ``gymnasium.Env``.

::

    import gymnasium as gym
    env = gym.make("neuroenv:neuroenv/VoltageTarget-v0")   # or: import neuroenv; gym.make(...)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

The env runs the functional env of ``neuroenv.make(task, **env_kwargs)`` -- the same
``reset_env``/``step_env`` numerics, one jitted call per ``step`` -- and converts its outputs
to NumPy/Python values: float32 observations (dtype equal to the observation Box's), a Python
``float`` reward, Python ``bool`` flags and an ``info`` dict of NumPy/Python values.

Conventions
-----------
- **Actions**: a float32 array of shape ``(n_sites,)`` in [-1, 1], scaled to nA by the
  task's ``action_scale`` (``info["action_scale_nA"]`` at reset). A wrong shape or a
  non-finite entry raises ``ValueError``; entries outside [-1, 1] are clipped (the result is
  the same as stepping with the clipped action).
- **Episode ends**: ``terminated`` only on a numerical blow-up of the simulation
  (``info["numerical_error"]``; the observation stays finite: it repeats the last finite
  voltages) or a task's own terminal condition. ``truncated`` after the task's
  ``max_steps_in_episode`` control periods, or after ``max_episode_steps`` if that is
  smaller (the env truncates by itself, so no ``TimeLimit`` wrapper is needed). There is no
  auto-reset: call ``reset`` after an episode ends.
- **Seeding**: ``reset(seed=s)`` seeds gymnasium's ``np_random`` and sets the JAX key to
  :meth:`NeuronGymEnv.key_for_seed` ``(s)``; ``reset()`` continues the key chain (the first
  unseeded reset draws the seed from ``np_random``). The chain is that of
  ``neuroenv.vector.NeuronVectorEnv``::

      key, k_reset = jax.random.split(key);  obs, state = env.reset(k_reset, params)
      key, k_step = jax.random.split(key);   env.step(k_step, state, action, params)  # per step

  so a seeded episode reproduces the functional env's ``reset``/``step`` with those keys
  exactly (until the episode ends: the functional ``step`` then auto-resets).
- **Reset options** (both apply to that episode only; a reset without them restores the
  constructor's values):

  - ``"target"``: a finite number that replaces the episode's drawn ``task_state["target"]``
    (mV for VoltageTarget-v0, Hz for SpikeRate-v0). It may lie outside the task's sampling
    range but must keep the observation inside the observation space (``ValueError``
    otherwise, and for tasks without a target).
  - ``"params"``: a dict replacing simulator parameters in ``params.sim`` (keys of
    ``env.unwrapped.env_params.sim``, e.g. ``"HH_gNa"``, ``"capacitance"``), plus the env
    scalars ``"action_scale"``, ``"obs_noise_std"`` and ``"init_v_jitter"``. Each value
    must have the default's shape (or be a scalar, broadcast to it) and be finite. Derived
    geometric values (``area``, ``volume``, ``axial_conductances``, ...) are *not*
    recomputed from ``radius``/``length``; set them explicitly if needed. Episodes with
    replaced params run a second jitted step that takes the params as an argument (compiled
    once, so per-episode domain randomisation does not recompile).
- **Rendering**: ``render_mode="rgb_array"`` makes ``render()`` return a (240, 320, 3)
  uint8 frame of the last :attr:`NeuronGymEnv.render_periods` control periods of the first
  recorded voltage, with the voltage target (VoltageTarget-v0) or a rate-vs-target bar
  (SpikeRate-v0); see :mod:`neuroenv.render`.
"""

from __future__ import annotations

import functools
import json
import operator
from collections import deque
from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.utils import EzPickle

from neuroenv.registry import make as make_functional
from neuroenv.render import render_trace

#: EnvParams scalars that ``reset(options={"params": ...})`` may replace besides ``sim``.
_TOP_LEVEL_PARAMS = ("action_scale", "obs_noise_std", "init_v_jitter")


class _Core:
    """The jitted reset and step of one functional env configuration (shared by instances).

    The ``*_default`` functions close over the default params behind an optimisation barrier
    (few arguments to dispatch, and no constant folding, so the numerics equal those of the
    functional env, which takes params as an argument); the ``*_with`` functions take the
    params as an argument (episodes with replaced params).
    """

    def __init__(self, task: str, env_kwargs: dict, max_episode_steps: int | None) -> None:
        env, params = make_functional(task, **env_kwargs)
        if max_episode_steps is not None:
            steps = operator.index(max_episode_steps)
            if steps < 1:
                raise ValueError(f"max_episode_steps must be a positive int, got {steps!r}")
            params = params.replace(max_steps_in_episode=jnp.minimum(
                params.max_steps_in_episode, jnp.asarray(steps, jnp.int32)))
        self.env = env
        self.params = params

        def reset(key, params):
            key, k_reset = jax.random.split(key)
            obs, state = env.reset_env(k_reset, params)
            return key, state, obs

        def step(key, state, action, params):
            key, k_step = jax.random.split(key)
            # As the functional ``Environment.step``: its step_env key is split(k_step)[0].
            key_env, _ = jax.random.split(k_step)
            obs, state, reward, terminated, info = env.step_env(key_env, state, action, params)
            truncated = jnp.logical_and(env.is_truncated(state, params),
                                        jnp.logical_not(terminated))
            return key, state, (obs, reward, terminated, truncated, info["numerical_error"],
                                info["current_nA"])

        def barrier():
            return jax.lax.optimization_barrier(params)

        self.reset_default = jax.jit(lambda key: reset(key, barrier()))
        self.step_default = jax.jit(lambda key, state, action: step(key, state, action,
                                                                    barrier()))
        self.reset_with = jax.jit(reset)
        self.step_with = jax.jit(step)


@functools.lru_cache(maxsize=16)
def _cached_core(task: str, env_kwargs_json: str, max_episode_steps: int | None) -> _Core:
    return _Core(task, json.loads(env_kwargs_json), max_episode_steps)


def _core(task: str, env_kwargs: dict, max_episode_steps: int | None) -> _Core:
    try:
        key = json.dumps(env_kwargs, sort_keys=True)
    except (TypeError, ValueError):  # not JSON-serialisable: build without caching
        return _Core(task, env_kwargs, max_episode_steps)
    if json.loads(key) != env_kwargs:  # e.g. tuples that JSON turns into lists
        return _Core(task, env_kwargs, max_episode_steps)
    return _cached_core(task, key, max_episode_steps)


def _validated(name: str, value: Any, ref: Any) -> Any:
    """``value`` as an array of ``ref``'s shape and dtype (or a dict like ``ref``)."""
    if isinstance(ref, Mapping):
        if not isinstance(value, Mapping) or set(value) != set(ref):
            raise ValueError(f"params[{name!r}] must be a dict with keys {sorted(ref)}")
        return {k: _validated(f"{name}.{k}", value[k], ref[k]) for k in ref}
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"params[{name!r}] must be numeric, got dtype {arr.dtype}")
    ref_shape = tuple(np.shape(ref))
    if arr.shape != ref_shape:
        if arr.ndim != 0:
            raise ValueError(
                f"params[{name!r}] must have shape {ref_shape} (or be a scalar), got {arr.shape}")
        arr = np.broadcast_to(arr, ref_shape)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"params[{name!r}] must be finite, got {arr}")
    return jnp.asarray(arr, dtype=jnp.asarray(ref).dtype)


class NeuronGymEnv(gymnasium.Env, EzPickle):
    """A neuroenv task as a gymnasium env (see the module docstring for the conventions).

    Args:
        task: a registered task name (``"VoltageTarget-v0"``; a ``"neuroenv/"`` prefix is
            accepted).
        render_mode: ``None`` or ``"rgb_array"``.
        max_episode_steps: truncate episodes after at most this many steps (default: the
            task's ``max_steps_in_episode``); like ``TimeLimit``, it can only shorten them.
        **env_kwargs: JSON-serialisable keyword arguments of the task's factory
            (``action_scale``, ``window``, ``obs_noise_std``, ``max_steps_in_episode``, ...).

    Attributes:
        functional_env: the functional env (``neuroenv.NeuronEnv``).
        env_params: the ``EnvParams`` of the current episode.
        env_state: the current ``EnvState`` (on the device).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    #: Control periods shown by ``render()``.
    render_periods: int = 50
    #: (height, width) of rendered frames.
    render_size: tuple[int, int] = (240, 320)

    def __init__(self, task: str = "VoltageTarget-v0", render_mode: str | None = None,
                 max_episode_steps: int | None = None, **env_kwargs) -> None:
        EzPickle.__init__(self, task, render_mode, max_episode_steps, **env_kwargs)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of "
                             f"{self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.task_name = task.removeprefix("neuroenv/")
        self._core = _core(self.task_name, dict(env_kwargs), max_episode_steps)
        env = self._core.env
        self.functional_env = env
        self.action_space = env.action_space().to_gymnasium()
        self.observation_space = env.observation_space().to_gymnasium()
        self._action_shape = tuple(self.action_space.shape)
        self._obs_dtype = self.observation_space.dtype
        self.env_params = self._core.params
        self.env_state = None
        self._key = None
        self._custom_params = False
        self._done = False
        self._warned_done = False
        self._traces: deque = deque(maxlen=self.render_periods)
        self._target = None

    # ------------------------------------------------------------------ seeding
    @staticmethod
    def key_for_seed(seed: int) -> jax.Array:
        """The JAX key that ``reset(seed=seed)`` starts its key chain from.

        ``jax.random.key(seed)`` for seeds below 2**32; larger seeds fold their higher
        32-bit words in (``jax.random.key`` alone would wrap them).
        """
        seed = operator.index(seed)
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        key = jax.random.key(seed & 0xFFFFFFFF)
        rest = seed >> 32
        while rest:
            key = jax.random.fold_in(key, rest & 0xFFFFFFFF)
            rest >>= 32
        return key

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``options`` may hold ``"target"`` and ``"params"`` (module doc).

        Returns:
            ``(obs, info)``: float32 observation and ``{"action_scale_nA": float}`` plus
            ``"target"`` (float) for tasks with a target.
        """
        super().reset(seed=seed)
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise ValueError(f"options must be a dict, got {type(options).__name__}")
        unknown = set(options) - {"target", "params"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: "
                             "['params', 'target']")
        if seed is not None:
            self._key = self.key_for_seed(seed)
        elif self._key is None:
            self._key = self.key_for_seed(int(self.np_random.integers(2**32)))

        core = self._core
        if options.get("params") is not None:
            params = self._replaced_params(options["params"])
            self._key, state, obs = core.reset_with(self._key, params)
            self._custom_params = True
        else:
            params = core.params
            self._key, state, obs = core.reset_default(self._key)
            self._custom_params = False
        self.env_params = params
        obs = np.array(jax.device_get(obs), dtype=self._obs_dtype)
        if options.get("target") is not None:
            obs, state = self._replace_target(options["target"], obs, state, params)
        self.env_state = state
        self._done = False
        self._warned_done = False
        info = {"action_scale_nA": float(params.action_scale)}
        target = state.task.get("target")
        self._target = None if target is None else float(target)
        if target is not None:
            info["target"] = self._target
        if self.render_mode == "rgb_array":
            self._traces.clear()
            self._traces.append(np.asarray(jax.device_get(state.last_trace))[:1, 0])
        return obs, info

    def step(self, action):
        """One control period. Raises ``ValueError`` on a wrong shape or non-finite action;
        clips it to [-1, 1].

        Returns:
            ``(obs, reward, terminated, truncated, info)`` with ``info["numerical_error"]``
            (bool) and ``info["current_nA"]`` (float32 (n_sites,)).
        """
        if self.env_state is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        try:
            a = np.asarray(action, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ValueError(f"action must be a float array of shape {self._action_shape}, "
                             f"got {action!r}") from err
        if a.shape != self._action_shape:
            raise ValueError(f"action must have shape {self._action_shape}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"action must be finite, got {a}")
        if self._done and not self._warned_done:
            gymnasium.logger.warn("step() called after the episode ended; call reset()")
            self._warned_done = True
        core = self._core
        if self._custom_params:
            self._key, self.env_state, out = core.step_with(self._key, self.env_state, a,
                                                            self.env_params)
        else:
            self._key, self.env_state, out = core.step_default(self._key, self.env_state, a)
        obs, reward, terminated, truncated, numerical_error, current = jax.device_get(out)
        terminated, truncated = bool(terminated), bool(truncated)
        self._done = terminated or truncated
        if self.render_mode == "rgb_array":
            self._traces.append(np.asarray(jax.device_get(self.env_state.last_trace))[:, 0])
        info = {"numerical_error": bool(numerical_error), "current_nA": current}
        return np.array(obs, dtype=self._obs_dtype), float(reward), terminated, truncated, info

    def render(self):
        """An (H, W, 3) uint8 frame in ``"rgb_array"`` mode (``None`` without a mode)."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode: pass "
                                  "render_mode='rgb_array' to the constructor / gym.make")
            return None
        trace = (np.concatenate(list(self._traces)) if self._traces
                 else np.zeros((0,), np.float32))
        task_state = {} if self.env_state is None else self.env_state.task
        target_v = rate = rate_target = None
        if "rate" in task_state:  # a rate task: target in Hz, shown as a bar
            rate, rate_target = (float(x) for x in jax.device_get(
                (task_state["rate"], task_state["target"])))
        elif self._target is not None:
            target_v = self._target
        rate_max = 100.0
        if rate is not None:  # bar scale: 1.25 x the largest of the range, rate and target
            high = self.env_params.task.get("target_high", rate_target)
            rate_max = 1.25 * max(float(high), rate, rate_target)
        h, w = self.render_size
        return render_trace(trace, target=target_v, rate=rate, rate_target=rate_target,
                            rate_max=rate_max, height=h, width=w)

    def close(self):
        """Release the episode state (idempotent)."""
        self.env_state = None
        self._traces.clear()

    # ------------------------------------------------------------------ options
    def _replaced_params(self, overrides):
        if not isinstance(overrides, Mapping):
            raise ValueError(f"options['params'] must be a dict, got {type(overrides).__name__}")
        default = self._core.params
        sim = dict(default.sim)
        top = {}
        for name, value in overrides.items():
            if name in _TOP_LEVEL_PARAMS:
                top[name] = _validated(name, value, getattr(default, name))
            elif name in sim:
                sim[name] = _validated(name, value, sim[name])
            else:
                raise ValueError(f"unknown parameter {name!r} in options['params']; known: "
                                 f"{sorted(sim) + list(_TOP_LEVEL_PARAMS)}")
        return default.replace(sim=sim, **top)

    def _replace_target(self, target, obs, state, params):
        env = self.functional_env
        if "target" not in state.task:
            raise ValueError(f"task {self.task_name} has no target to set")
        value = np.asarray(target, dtype=np.float64)
        if value.shape != () or not np.isfinite(value):
            raise ValueError(f"options['target'] must be a finite number, got {target!r}")
        old = state.task["target"]
        task_state = {**state.task, "target": jnp.asarray(value, old.dtype)}
        extra = np.asarray(env.task.extra_obs(task_state, params.task), dtype=self._obs_dtype)
        n = extra.shape[0]
        low, high = self.observation_space.low[-n:], self.observation_space.high[-n:]
        if not np.all((extra >= low) & (extra <= high)):
            raise ValueError(f"options['target']={float(value)} puts the task observation "
                             f"{extra} outside its bounds [{low}, {high}]")
        obs[-n:] = extra
        return obs, state.replace(task=task_state)
