"""The functional environment contract (gymnax 1.0 convention), shared by every task.

::

    env, params = neuroenv.make("VoltageTarget-v0")
    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

``step`` resets automatically when an episode ends, drawing a fresh initial state from the
step's key (never a cached one); ``info["final_observation"]`` is the observation before
that reset. ``EnvParams`` and ``EnvState`` are pytrees: ``vmap`` over params is domain
randomisation.

Compiled programs are shared by structure: an env compares equal to (and hashes like) every
env of the same content (:meth:`Environment.structure_digest`), so two ``neuroenv.make`` of
one task share one compilation of ``reset`` and ``step`` (also in any ``jax.jit`` that takes
the env as a static argument). The jitted ``reset``/``step`` hold the env only through a
weak reference, so dropping an env frees it. The env object holds only static structure and
must not be mutated after first use (its content key is computed once).
"""

from __future__ import annotations

import functools
import hashlib
import weakref

import jax
import jax.numpy as jnp

from neuroenv import fork_guard
from simulator.static_key import Identity, content_key


class Environment:
    """Base class: subclasses implement ``reset_env``, ``step_env``, ``default_params``,
    ``action_space`` and ``observation_space``.

    Equality and hashing are by content (see the module docstring): every attribute in
    ``vars(env)`` except those named in ``_unkeyed_attributes`` enters the key.
    """

    #: Attributes left out of the content key: mutable builders that traced code never
    #: reads (everything traced code reads must be keyed, or equal envs could run each
    #: other's numbers).
    _unkeyed_attributes: tuple[str, ...] = ()
    #: Caches kept out of the key, copies and pickles.
    _cache_attributes = ("_structure_cache", "_jit_handle")

    @property
    def default_params(self):
        raise NotImplementedError

    def reset_env(self, key, params):
        raise NotImplementedError

    def step_env(self, key, state, action, params):
        """One control period without auto-reset: ``(obs, state, reward, terminated, info)``."""
        raise NotImplementedError

    def is_truncated(self, state, params) -> jax.Array:
        return state.time >= params.max_steps_in_episode

    def check_reset(self, key, params) -> None:
        """Validate ``reset``'s inputs before tracing (``TypeError``/``ValueError``);
        subclasses override it (default: nothing)."""

    def check_step(self, key, state, action, params) -> None:
        """Validate ``step``'s inputs before tracing (``TypeError``/``ValueError``);
        subclasses override it (default: nothing)."""

    def reset(self, key, params=None):
        """``(obs, state)`` of a new episode drawn with ``key``."""
        fork_guard.check("Environment.reset()")
        self.check_reset(key, params)
        return _reset(self._handle(), key, params)

    def step(self, key, state, action, params=None):
        """``(obs, state, reward, terminated, truncated, info)``, resetting finished episodes."""
        fork_guard.check("Environment.step()")
        self.check_step(key, state, action, params)
        return _step(self._handle(), key, state, action, params)

    def step_no_reset(self, key, state, action, params):
        """:meth:`step` without its auto-reset (traceable, unjitted, unchecked): ``(obs,
        state, reward, terminated, truncated, info)`` of the period, with the same key use
        (``step_env`` gets ``split(key)[0]``) and truncation. The gymnasium and vector envs
        step through it, and :meth:`step` is it followed by :func:`auto_reset`."""
        key_step, _ = jax.random.split(key)
        obs, state, reward, terminated, info = self.step_env(key_step, state, action, params)
        truncated = jnp.logical_and(self.is_truncated(state, params),
                                    jnp.logical_not(terminated))
        return obs, state, reward, terminated, truncated, info

    def action_space(self, params=None):
        raise NotImplementedError

    def observation_space(self, params=None):
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def num_actions(self) -> int:
        return int(self.action_space().shape[0])

    # ------------------------------------------------------------------ structural identity
    def structure_digest(self) -> bytes:
        """SHA-256 digest of the env's content: its class and every keyed attribute (arrays
        by dtype, shape and bytes; objects by class and attributes; closures by code and
        captured values; anything unreadable by identity). Computed once, at first use."""
        return self._structure()[0]

    def _structure(self):
        cached = self.__dict__.get("_structure_cache")
        if cached is None:
            skip = set(self._unkeyed_attributes) | set(self._cache_attributes)
            key = (type(self), tuple((name, content_key(value))
                                     for name, value in sorted(vars(self).items())
                                     if name not in skip))
            digest = _digest(key)
            # The key stays referenced: its identity-keyed parts keep their ids unique.
            cached = (digest, int.from_bytes(digest[:8], "little"), key)
            self.__dict__["_structure_cache"] = cached
        return cached

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if not isinstance(other, Environment) or type(other) is not type(self):
            return NotImplemented
        return self.structure_digest() == other.structure_digest()

    def __hash__(self) -> int:
        return self._structure()[1]

    def _handle(self) -> _EnvHandle:
        handle = self.__dict__.get("_jit_handle")
        if handle is None or handle.ref() is not self:  # none yet, or copied from another env
            handle = _EnvHandle(self)
            self.__dict__["_jit_handle"] = handle
        return handle

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._cache_attributes}

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)


class _EnvHandle:
    """The static argument of the jitted ``reset``/``step``: the env's digest (equality and
    hash) and a weak reference to the env (used while tracing, when the caller holds it)."""

    __slots__ = ("digest", "hash", "key", "ref")

    def __init__(self, env: Environment) -> None:
        self.digest, self.hash, self.key = env._structure()
        self.ref = weakref.ref(env)

    def __eq__(self, other) -> bool:
        return isinstance(other, _EnvHandle) and other.digest == self.digest

    def __hash__(self) -> int:
        return self.hash

    def env(self) -> Environment:
        env = self.ref()
        if env is None:  # cannot happen: a trace only starts from a call on a live env
            raise RuntimeError("the environment of this jitted call was garbage collected")
        return env


@functools.partial(jax.jit, static_argnums=0)
def _reset(handle, key, params):
    env = handle.env()
    return env.reset_env(key, env.default_params if params is None else params)


@functools.partial(jax.jit, static_argnums=0)
def _step(handle, key, state, action, params):
    env = handle.env()
    params = env.default_params if params is None else params
    return auto_reset(env, key, params, *env.step_no_reset(key, state, action, params))


def auto_reset(env, key, params, obs, state, reward, terminated, truncated, info):
    """The outputs of :meth:`Environment.step_no_reset` with ``key`` as those of
    :meth:`Environment.step`: an episode that ended is replaced by one drawn with
    ``split(key)[1]``, and ``info`` gets ``final_observation`` (the observation before that
    reset), ``terminated`` and ``truncated``."""
    _, key_reset = jax.random.split(key)
    done = jnp.logical_or(terminated, truncated)
    reset_obs, reset_state = env.reset_env(key_reset, params)
    state_out = jax.tree_util.tree_map(lambda r, s: jnp.where(done, r, s), reset_state, state)
    obs_out = jnp.where(done, reset_obs, obs)
    info = {**info, "final_observation": obs, "terminated": terminated,
            "truncated": truncated}
    return obs_out, state_out, reward, terminated, truncated, info


def _digest(key) -> bytes:
    """SHA-256 of a :func:`~simulator.static_key.content_key` (types by module, name and id;
    identity-keyed objects by id, unique while the key holds them)."""
    sha = hashlib.sha256()
    stack = [key]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            sha.update(b"(%d" % len(item))
            stack.extend(reversed(item))
        elif isinstance(item, bytes):
            sha.update(b"b%d:" % len(item) + item)
        elif isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            sha.update(b"s%d:" % len(data) + data)
        elif isinstance(item, bool | int):
            sha.update(b"i%r;" % item)
        elif item is None:
            sha.update(b"N")
        elif isinstance(item, type):
            sha.update(f"t{item.__module__}.{item.__qualname__}@{id(item)};".encode())
        elif isinstance(item, Identity):
            sha.update(f"o{type(item.obj).__qualname__}@{id(item.obj)};".encode())
        else:  # anything else static_key may return: keyed by its repr and type
            sha.update(f"r{type(item).__qualname__}:{item!r};".encode())
    return sha.digest()
