"""``NeuronGymEnv``: a neuroenv task as a NumPy-facing ``gymnasium.Env``.

::

    import gymnasium as gym
    env = gym.make("neuroenv:neuroenv/VoltageTarget-v0")   # or: import neuroenv; gym.make(...)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Each ``step`` is one jitted call of the functional env of ``neuroenv.make(task, **env_kwargs)``
(its ``step_no_reset``); outputs come back as float32 observations, a Python ``float``
reward, Python ``bool`` flags and an ``info`` dict of NumPy/Python values. Actions are
float32 ``(n_sites,)`` in [-1, 1] (scaled to nA by ``action_scale``; wrong shape or
non-finite: ``ValueError``, non-numbers: ``TypeError``; outside [-1, 1]: clipped). Episodes
truncate after ``min(max_steps_in_episode, max_episode_steps)`` steps, with no auto-reset.
``reset(seed=s)`` starts the key chain of :func:`~neuroenv.seeding.key_for_seed` ``(s)``
shared with :mod:`neuroenv.vector`; ``reset(options={"target": ..., "params": {...}})``
replaces the target or parameters for one episode (:mod:`neuroenv.reset_options`).
The constructor does not start JAX (spaces from :mod:`neuroenv.space_probe`), so forked
vector envs work; ``deepcopy``/``pickle`` carry the episode.

The conventions in full (seeding, reset options, speed, rendering, processes, copies):
``docs/envs.md``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import gymnasium
import jax
import numpy as np
from gymnasium.utils import EzPickle

from neuroenv import cpu_dispatch, fork_guard, space_probe
from neuroenv.jit_cache import CompiledCore, compiled_core
from neuroenv.registry import first_reset_imports
from neuroenv.render import period_record, render_env_frame
from neuroenv.reset_options import replace_target, replaced_params
from neuroenv.seeding import key_for_seed
from neuroenv.validation import INT32_MAX, TypeAndValueError, positive_int, seed_or_none, show


class NoEpisodeError(gymnasium.error.ResetNeeded, ValueError):
    """An episode is needed (before the first ``reset``, or after ``close``)."""


class NeuronGymEnv(gymnasium.Env, EzPickle):
    """A neuroenv task as a gymnasium env (conventions: the module docstring and ``docs/envs.md``).

    Args:
        task: a registered task name (``"VoltageTarget-v0"``; a ``"neuroenv/"`` prefix is
            accepted).
        render_mode: ``None`` or ``"rgb_array"``.
        max_episode_steps: truncate episodes after at most this many steps (default: the
            task's ``max_steps_in_episode``); like ``TimeLimit``, it can only shorten them.
        inline_dispatch: run this env's programs inline rather than through JAX's async
            CPU dispatch (about half of each ``step``'s time); takes effect when this env
            starts JAX's backend, process-wide (:mod:`neuroenv.cpu_dispatch`; ``False`` or
            the ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` environment variable leaves JAX as it is);
            in a vector env's worker process (a ``multiprocessing`` child) also XLA's CPU
            thread pool at one thread unless ``PJRT_NPROC`` is set (2× faster steps with
            two workers on two cores).
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
                 max_episode_steps: int | None = None, inline_dispatch: bool = True,
                 **env_kwargs) -> None:
        EzPickle.__init__(self, task, render_mode, max_episode_steps,
                          inline_dispatch=inline_dispatch, **env_kwargs)
        # Per instance: gymnasium's SyncVectorEnv writes its autoreset mode into the first
        # env's metadata, which would otherwise change the class attribute for every env.
        self.metadata = dict(type(self).metadata)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of "
                             f"{self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        if not isinstance(task, str):
            raise TypeError(f"task must be a registered task name (str), got {task!r}")
        self.task_name = task.removeprefix("neuroenv/")
        if max_episode_steps is not None:
            max_episode_steps = positive_int("max_episode_steps", max_episode_steps,
                                             int | np.integer, high=INT32_MAX)
        if not isinstance(inline_dispatch, bool | np.bool_):
            raise TypeError(f"inline_dispatch must be a bool, got {show(inline_dispatch)}")
        self._inline_dispatch = bool(inline_dispatch)
        self._core_args = (self.task_name, dict(env_kwargs), max_episode_steps)
        self._core_obj = None  # built at the first reset (or first use of functional_env)
        # The spaces without starting JAX here, so that this process may still fork
        # (neuroenv.fork_guard): known, or built by a forked probe; else built here.
        bounds = space_probe.cached(self.task_name, env_kwargs)
        if bounds is None and space_probe.probe_possible():
            try:
                bounds = space_probe.probe(self.task_name, env_kwargs,
                                           first_reset_imports(self.task_name))
            except space_probe.ProbeFailed as err:
                gymnasium.logger.warn(f"{err}; building the env in this process")
        if bounds is None:
            bounds = space_probe.bounds_of(self._core.env)
            space_probe.remember(self.task_name, env_kwargs, bounds)
        (obs_low, obs_high, obs_dtype), (act_low, act_high, act_dtype) = bounds
        self.observation_space = gymnasium.spaces.Box(obs_low, obs_high, obs_low.shape,
                                                      obs_dtype)
        self.action_space = gymnasium.spaces.Box(act_low, act_high, act_low.shape, act_dtype)
        self._action_shape = tuple(self.action_space.shape)
        self._obs_dtype = self.observation_space.dtype
        self._n_obs = int(self.observation_space.shape[0])
        if self._obs_dtype != np.float32:  # the packed step output is float32
            raise TypeError(f"expected a float32 observation space, got {self._obs_dtype}")
        self._params = None  # EnvParams of the episode (None: the core's defaults)
        self._carry = None  # packed (key, EnvState) chunks on the device (neuroenv.jit_cache)
        self._unpacked = None  # (key, EnvState) of the carry, unpacked on demand
        self._key = None  # the key chain while there is no carry (before reset, after close)
        self._custom_params = False
        self._done = False
        self._warned_done = False
        self._traces: deque = deque(maxlen=self.render_periods)
        self._target = None

    @property
    def _core(self) -> CompiledCore:
        """The jitted programs (built on first use: this starts JAX's backend)."""
        if self._core_obj is None:
            fork_guard.check("building a NeuronGymEnv's programs")
            cpu_dispatch.prefer_inline(self._inline_dispatch)  # before JAX's backend starts
            cpu_dispatch.one_thread_in_workers(self._inline_dispatch)
            self._core_obj = compiled_core(*self._core_args)
        return self._core_obj

    @property
    def functional_env(self):
        """The functional env (``neuroenv.NeuronEnv``; first use starts JAX's backend)."""
        return self._core.env

    @property
    def env_params(self):
        """The ``EnvParams`` of the current episode (the defaults before the first reset)."""
        return self._core.params if self._params is None else self._params

    @property
    def env_state(self):
        """The current ``EnvState`` (``None`` before ``reset`` and after ``close``)."""
        return None if self._carry is None else self._carry_contents()[1]

    def _carry_contents(self):
        if self._unpacked is None:
            self._unpacked = self._core.unpack(self._carry)
        return self._unpacked

    # ------------------------------------------------------------------ seeding
    #: The JAX key that ``reset(seed=seed)`` starts its key chain from
    #: (:func:`neuroenv.seeding.key_for_seed`).
    key_for_seed = staticmethod(key_for_seed)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``options`` may hold ``"target"`` and ``"params"`` (docs/envs.md).

        Returns:
            ``(obs, info)``: float32 observation and ``{"action_scale_nA": float}`` plus
            ``"target"`` (float) for tasks with a target.
        """
        fork_guard.check("NeuronGymEnv.reset()")
        seed = seed_or_none("seed", seed)
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise TypeAndValueError(f"options must be a dict or None, got {show(options)}")
        unknown = set(options) - {"target", "params"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: "
                             "['params', 'target']")
        super().reset(seed=seed)
        core = self._core  # first: it may start JAX's backend (neuroenv.cpu_dispatch)
        if seed is not None:
            key = self.key_for_seed(seed)
        elif self._carry is not None:
            key = self._carry_contents()[0]
        elif self._key is not None:
            key = self._key
        else:
            key = self.key_for_seed(int(self.np_random.integers(2**32)))

        custom = options.get("params") is not None
        params = (replaced_params(self.functional_env, core.params, options["params"])
                  if custom else core.params)
        carry, obs, key, state = core.reset(key, params if custom else None)
        obs = np.array(obs, dtype=self._obs_dtype)
        if options.get("target") is not None:
            obs, state = replace_target(self.functional_env, self.task_name, options["target"],
                                        obs, state, params, self.observation_space)
            carry = core.pack((key, state))
        self._carry, self._unpacked, self._key = carry, (key, state), None
        self._params, self._custom_params = params, custom
        self._done = self._warned_done = False
        info = {"action_scale_nA": float(params.action_scale)}
        target = state.task.get("target")
        self._target = None if target is None or np.ndim(target) else float(target)
        if self._target is not None:
            info["target"] = self._target
        if self.render_mode == "rgb_array":
            self._traces.clear()
            self._traces.append(period_record(self.functional_env, self.env_state))
        return obs, info

    def step(self, action):
        """One control period. Raises ``ValueError`` on a wrong shape or non-finite action;
        clips it to [-1, 1].

        Returns:
            ``(obs, reward, terminated, truncated, info)`` with ``info["numerical_error"]``
            (bool) and ``info["current_nA"]`` (float32 (n_sites,)).
        """
        if self._carry is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        fork_guard.check("NeuronGymEnv.step()")
        a = self._checked_action(action)
        if self._done and not self._warned_done:
            gymnasium.logger.warn("step() called after the episode ended; call reset()")
            self._warned_done = True
        core = self._core
        self._carry, out = core.step(self._carry, a,
                                     self.env_params if self._custom_params else None)
        self._unpacked = None
        out = np.asarray(out)  # one transfer (cheaper than jax.device_get of a tuple)
        n = self._n_obs
        terminated, truncated = bool(out[n + 1]), bool(out[n + 2])
        self._done = terminated or truncated
        if self.render_mode == "rgb_array":
            self._traces.append(period_record(self.functional_env, self.env_state))
        info = {"numerical_error": bool(out[n + 3]), "current_nA": out[n + 4:].copy()}
        return out[:n].copy(), float(out[n]), terminated, truncated, info

    def _checked_action(self, action) -> np.ndarray:
        """``action`` as float32 of the action shape: ``TypeError`` unless real numbers
        (bool, complex, strings and ``None`` are refused), ``ValueError`` for a wrong shape or
        a NaN/inf entry (refused before stepping: a concrete action is checked here, while
        the functional env, whose actions may be traced, clips ±inf and flags a NaN as a
        numerical error)."""
        expected = f"a real array of shape {self._action_shape}"
        try:
            raw = np.asarray(action)
        except (TypeError, ValueError) as err:  # ragged nesting
            raise TypeAndValueError(f"action must be {expected}, got {show(action)}") from err
        if raw.dtype.kind not in "iuf":
            raise TypeAndValueError(f"action must be {expected} (int or float), got "
                                    f"{show(action)} (dtype {raw.dtype})")
        if raw.shape != self._action_shape:
            raise ValueError(f"action must have shape {self._action_shape}, got shape "
                             f"{raw.shape} ({show(action)})")
        a = raw.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError(f"action must be finite (NaN and inf are refused), got {show(a)}")
        return a

    def render(self):
        """An (H, W, 3) uint8 frame in ``"rgb_array"`` mode (``None`` without a mode).

        Raises :class:`NoEpisodeError` (a ``ValueError`` and gymnasium ``ResetNeeded``)
        before the first ``reset`` and after ``close``."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode: pass "
                                  "render_mode='rgb_array' to the constructor / gym.make")
            return None
        if self._carry is None:
            raise NoEpisodeError("render() needs an episode: call reset() first (the env "
                                 "has not been reset, or was closed)")
        h, w = self.render_size
        return render_env_frame(self.functional_env, list(self._traces), self.env_state,
                                self.env_params, height=h, width=w)

    def close(self):
        """Release the episode state, keeping the key chain (idempotent)."""
        if self._carry is not None:
            self._key = self._carry_contents()[0]
        self._carry = self._unpacked = None
        self._traces.clear()

    # ------------------------------------------------------------------ copy and pickle
    def __getstate__(self) -> dict:
        """The constructor's arguments (``EzPickle``) and the episode: the packed key and
        ``EnvState``, replaced params, done flags, target, render traces and ``np_random``
        (as NumPy/Python values), so a copy continues the episode exactly."""
        state = EzPickle.__getstate__(self)
        key = None
        if self._carry is None and self._key is not None:
            key = (np.asarray(jax.random.key_data(self._key)),
                   str(jax.random.key_impl(self._key)))
        state["episode"] = {
            "carry": (None if self._carry is None  # flat bytes (neuroenv.carry_packing)
                      else self._core.packer.to_bytes(self._carry)),
            "key": key,
            "params": jax.device_get(self._params) if self._custom_params else None,
            "custom_params": self._custom_params,
            "done": self._done,
            "warned_done": self._warned_done,
            "target": self._target,
            "traces": [np.asarray(trace) for trace in self._traces],
            "np_random": self._np_random,
            "np_random_seed": self._np_random_seed,
        }
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        episode = state.pop("episode", None)
        EzPickle.__setstate__(self, state)  # a fresh env from the constructor's arguments
        if episode is None:
            return
        carry = episode["carry"]  # NumPy: moved to the device by the next jitted call
        self._carry = None if carry is None else self._core.packer.from_bytes(carry)
        self._unpacked = None
        if episode["key"] is not None:
            data, impl = episode["key"]
            self._key = jax.random.wrap_key_data(data, impl=impl)
        self._custom_params = episode["custom_params"]
        self._params = episode["params"]
        self._done, self._warned_done = episode["done"], episode["warned_done"]
        self._target = episode["target"]
        self._traces.extend(episode["traces"])
        self._np_random = episode["np_random"]
        self._np_random_seed = episode["np_random_seed"]
