"""The jitted programs of the gymnasium env, shared by every env of one configuration.

:class:`CompiledCore` holds the jitted ``reset`` and ``step`` of one functional env
configuration (the functional env's own ``reset_env`` and
:meth:`~neuroenv.core.Environment.step_no_reset`, with the key and ``EnvState`` packed into
uint8 device buffers by :mod:`neuroenv.carry_packing`: chunks of at most 512 bytes; a
network's large carry travels as one flat array per dtype);
:func:`compiled_core` caches them by the configuration's JSON, so that gymnasium envs of
one task share one compilation.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp

from neuroenv.carry_packing import CarryPacker
from neuroenv.compile_ahead import AheadOfTime
from neuroenv.env_pytrees import cap_episode_steps
from neuroenv.registry import make as make_functional
from neuroenv.seeding import key_for_seed
from neuroenv.stability_cache import deferred


class CompiledCore:
    """The jitted reset and step of one functional env configuration (shared by instances).

    The JAX key and the ``EnvState`` travel between calls as a tuple of packed uint8 device
    buffers, or of one flat array per dtype for a large carry (the "carry", see
    :class:`~neuroenv.carry_packing.CarryPacker`). The
    ``*_default`` functions close over the default params behind an optimisation barrier
    (fewer arguments to dispatch, and no constant folding, so the numerics equal those of
    the functional env, which takes params as an argument); the ``*_with`` functions take
    the params as an argument (episodes with replaced params).
    Each step returns its outputs as one float32 vector ``[obs, reward, terminated,
    truncated, numerical_error, current_nA]`` (lossless: all are float32 or bool), so that
    one host transfer fetches them.
    :meth:`reset` and :meth:`step` pick the variant; the first :meth:`reset` of each variant
    compiles its step program on a thread meanwhile (:mod:`neuroenv.compile_ahead`), and
    the first reset also runs the functional env's time-step stability check (built
    deferred, :func:`neuroenv.stability_cache.deferred`), on this thread while the step
    program compiles on the other.
    """

    def __init__(self, task: str, env_kwargs: dict, max_episode_steps: int | None) -> None:
        with deferred():
            env, params = make_functional(task, **env_kwargs)
        params = cap_episode_steps(params, max_episode_steps)
        self.env = env
        self.params = params
        self._packer = None  # from the first trace of reset (no separate trace for it)

        def reset(key, params):
            key, k_reset = jax.random.split(key)
            obs, state = env.reset_env(k_reset, params)
            if self._packer is None:
                self._packer = CarryPacker((key, state))  # shapes and dtypes only
            # (key, state) also unpacked: the caller needs them, and a separate unpack
            # program would cost a trace and compilation (or cache load) at the first reset.
            return self._packer.pack((key, state)), obs, key, state

        def step(carry, action, params):
            key, state = self.packer.unpack(carry)
            key, k_step = jax.random.split(key)
            obs, state, reward, terminated, truncated, info = env.step_no_reset(
                k_step, state, action, params)
            flags = jnp.stack([terminated, truncated, info["numerical_error"]])
            out = jnp.concatenate([obs.astype(jnp.float32), reward.astype(jnp.float32)[None],
                                   flags.astype(jnp.float32),
                                   info["current_nA"].astype(jnp.float32)])
            return self.packer.pack((key, state)), out

        def barrier():
            return jax.lax.optimization_barrier(params)

        self.reset_default = jax.jit(lambda key: reset(key, barrier()))
        self.step_default = jax.jit(lambda carry, action: step(carry, action, barrier()))
        self.reset_with = jax.jit(reset)
        self.step_with = jax.jit(step)
        self.pack = jax.jit(lambda tree: self.packer.pack(tree))
        self.unpack = jax.jit(lambda carry: self.packer.unpack(carry))
        self._ahead = {}  # variant ("default" or "with") -> AheadOfTime of its step program

    def _variant(self, params):
        """``(name, reset, step, extra)`` of the default (``params`` None) or the
        replaced-params programs; ``extra``: the arguments after the key or action."""
        if params is None:
            return "default", self.reset_default, self.step_default, ()
        return "with", self.reset_with, self.step_with, (params,)

    def reset(self, key, params=None):
        """``(carry, obs, key, state)`` of ``reset_default(key)`` (``params`` None) or
        ``reset_with(key, params)``. The first reset of a variant traces its program, starts
        compiling that variant's step program on a thread, then compiles and runs the reset
        (XLA compiles both at once on two cores); the first reset then runs the functional
        env's time-step check (``NumericalStabilityWarning``; pointing at the caller's
        caller: ``NeuronGymEnv.reset``'s)."""
        name, reset, step, extra = self._variant(params)
        if name not in self._ahead:
            carry = reset.lower(key, *extra).out_info[0]  # traced once: the call reuses it
            action = jax.ShapeDtypeStruct(self.env.action_space().shape, jnp.float32)
            self._ahead[name] = AheadOfTime(step, (carry, action, *extra))
        out = reset(key, *extra)
        self.env.check_time_step(stacklevel=3)
        return out

    def step(self, carry, action, params=None):
        """``(carry, out)`` of ``step_default`` (``params`` None) or ``step_with``; ``action``
        float32 of the action shape. Waits for a step program still compiling ahead."""
        name, _, step, extra = self._variant(params)
        ahead = self._ahead.get(name)
        if ahead is not None:
            ahead.wait()
        return step(carry, action, *extra)

    @property
    def packer(self) -> CarryPacker:
        """The layout of the carry (traced from ``reset_env`` if no reset was traced yet,
        e.g. for an unpickled env's first step)."""
        if self._packer is None:
            key0 = key_for_seed(0)
            state = jax.eval_shape(lambda k: self.env.reset_env(k, self.params)[1], key0)
            self._packer = CarryPacker((key0, state))
        return self._packer


@functools.lru_cache(maxsize=16)
def _cached_core(task: str, env_kwargs_json: str, max_episode_steps: int | None,
                 x64: bool) -> CompiledCore:
    # ``x64`` keys the cache: a core built in one precision must not serve the other.
    return CompiledCore(task, json.loads(env_kwargs_json), max_episode_steps)


def compiled_core(task: str, env_kwargs: dict,
                  max_episode_steps: int | None) -> CompiledCore:
    """The :class:`CompiledCore` of a configuration, shared by every gymnasium env of it
    (cached by task, JSON of ``env_kwargs``, ``max_episode_steps`` and the x64 flag; built
    uncached when ``env_kwargs`` do not survive a JSON round trip)."""
    try:
        key = json.dumps(env_kwargs, sort_keys=True)
    except (TypeError, ValueError):  # not JSON-serialisable: build without caching
        return CompiledCore(task, env_kwargs, max_episode_steps)
    if json.loads(key) != env_kwargs:  # e.g. tuples that JSON turns into lists
        return CompiledCore(task, env_kwargs, max_episode_steps)
    return _cached_core(task, key, max_episode_steps, bool(jax.config.jax_enable_x64))
