"""Thousands of functional-env rollouts in one program, split over every device.

::

    from neuroenv.sharding import sharded_evaluate, sharded_rollout
    from simulator.sharding import batch_mesh

    env, params = neuroenv.make("VoltageTarget-v0")
    keys = jax.random.split(jax.random.key(0), 4096)          # one key per rollout
    episodes = sharded_evaluate(env, params, policy, keys)    # Episodes, leading axis 4096
    episodes.returns.mean()

    batch = sharded_rollout(env, params, policy, keys, 100)   # RL transitions, (4096, 100, ...)

Both are ``jax.jit(jax.vmap(...))`` over the keys with the batch axis split over a mesh
(default: every device, :func:`simulator.sharding.batch_mesh`), padded when the number of
keys is not a multiple of the device count (see :func:`simulator.sharding.sharded_vmap`).
Row i is exactly what the unsharded ``jax.vmap`` gives for key i. A policy is
``policy(obs, key) -> action`` as in :mod:`neuroenv.evaluation`. With
``batched_params=True`` every leaf of ``params`` has a leading axis of one value per rollout
(domain randomisation, parameter sweeps), split over the devices with the keys.

The compiled program is cached per (env, policy, n_steps, options, mesh): calling again with
the same policy object and new keys or params of the same shapes does not recompile.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from neuroenv.episode import Episodes, episode
from neuroenv.params_validation import check_params
from neuroenv.validation import check_policy, positive_int
from simulator.sharding import batch_mesh, gather, sharded_vmap

__all__ = ["Rollout", "rollout", "sharded_evaluate", "sharded_rollout"]


class Rollout(NamedTuple):
    """Transitions of a batch of rollouts with auto-reset (leading axes: rollout n, step T).

    Attributes:
        obs: (n, T, obs_dim) float32 observation the policy acted on at each step.
        actions: (n, T, n_sites) the policy's actions.
        rewards: (n, T) float32 reward of each step.
        terminated: (n, T) bool, the episode ended at this step (task event or blow-up).
        truncated: (n, T) bool, the episode hit ``max_steps_in_episode`` at this step.
        next_obs: (n, T, obs_dim) float32 observation that the step produced, before any
            auto-reset (``info["final_observation"]``): the bootstrap target.
        last_obs: (n, obs_dim) float32 observation after the last step (after auto-reset):
            where the next rollout would continue.
    """

    obs: jax.Array
    actions: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    next_obs: jax.Array
    last_obs: jax.Array


def rollout(env, params, policy, key, n_steps: int) -> Rollout:
    """One rollout of ``n_steps`` env steps with auto-reset (unbatched; see :class:`Rollout`).

    Keys as in :func:`neuroenv.episode.episode`: ``k_reset, k_run = split(key)``; step t
    uses ``split(k_run, n_steps)[t]``, split into the policy's and ``env.step``'s keys.
    """
    k_reset, k_run = jax.random.split(key)
    obs0, state = env.reset(k_reset, params)

    def body(carry, k):
        obs, state = carry
        k_pol, k_env = jax.random.split(k)
        action = jnp.asarray(policy(obs, k_pol))
        next_obs, state, reward, terminated, truncated, info = env.step(k_env, state, action,
                                                                        params)
        out = (obs, action, reward, terminated, truncated, info["final_observation"])
        return (next_obs, state), out

    (last_obs, _), (obs, actions, rewards, terminated, truncated, final) = jax.lax.scan(
        body, (obs0, state), jax.random.split(k_run, n_steps))
    return Rollout(obs, actions, rewards, terminated, truncated, final, last_obs)


def _check_keys(keys) -> None:
    shape = getattr(keys, "shape", None)
    if shape is None or len(shape) == 0:
        raise ValueError("keys must be a batch of JAX keys with a leading axis, one per rollout"
                         f" (jax.random.split(key, n)); got {keys!r}")
    if shape[0] == 0:
        raise ValueError("keys is empty (shape (0, ...)): give at least one rollout key")


def _readable(params):
    """``params`` with every leaf readable in this process: leaves that are global arrays
    over several processes (``jax.distributed``) gathered to NumPy (the same in every
    process, so every process validates, and fails, alike); ``params`` itself otherwise."""
    if all(not isinstance(x, jax.Array) or x.is_fully_addressable
           for x in jax.tree_util.tree_leaves(params)):
        return params
    return gather(params)


def _check_inputs(env, params, policy, keys, batched_params) -> None:
    """Keys, policy and params (one row per key with ``batched_params``) of a call."""
    _check_keys(keys)
    check_policy("policy", policy)
    check_params(env, params, batch_ndim=1 if batched_params else 0)


def _compiled(*spec):
    """The sharded program for ``spec``, cached when every part of it is hashable."""
    try:
        return _cached(*spec)
    except TypeError:  # an unhashable policy (e.g. a pytree module): compile for this call
        return _build(*spec)


def _build(kind, env, policy, n_steps, keep_traces, batched_params, mesh):
    if kind == "evaluate":
        def one(key, params):
            return episode(env, params, policy, key, n_steps, keep_traces)
    else:
        def one(key, params):
            return rollout(env, params, policy, key, n_steps)
    return sharded_vmap(one, mesh, in_axes=(0, 0 if batched_params else None))


_cached = functools.lru_cache(maxsize=32)(_build)


def _n_steps(params, n_steps, batched_params: bool) -> int:
    if n_steps is not None:
        return positive_int("n_steps", n_steps)
    steps = jnp.asarray(params.max_steps_in_episode)
    if batched_params:
        if steps.ndim == 0 or not bool(jnp.all(steps == steps[0])):
            raise ValueError("with batched_params, give n_steps: params.max_steps_in_episode"
                             f" differs between rows (or has no batch axis): {steps}")
        steps = steps[0]
    return positive_int("params.max_steps_in_episode", int(steps))


def sharded_evaluate(env, params, policy, keys, n_steps: int | None = None, *,
                     keep_traces: bool = False, batched_params: bool = False,
                     mesh=None) -> Episodes:
    """:func:`neuroenv.evaluation.evaluate` with one episode per key, split over devices.

    Args:
        env, params: a functional env and its params (shared, or one row per key with
            ``batched_params=True``).
        policy: ``policy(obs, key) -> action``.
        keys: (n,) JAX keys, one per episode (``jax.random.split(key, n)`` gives the episodes
            of ``evaluate(env, params, policy, key, n)``).
        n_steps: control periods per episode (default ``params.max_steps_in_episode``).
        keep_traces: also return every period's recorded trace and task state.
        batched_params: every leaf of ``params`` has a leading axis of length n.
        mesh: default ``simulator.sharding.batch_mesh()`` (every device).

    Returns:
        :class:`~neuroenv.evaluation.Episodes` with leading axis n: returns (n,), lengths (n,),
        rewards (n, T), currents (n, T, n_sites), traces (n, T, substeps, n_rec) or None.
    """
    readable = _readable(params)
    _check_inputs(env, readable, policy, keys, batched_params)
    n_steps = _n_steps(readable, n_steps, batched_params)
    mesh = batch_mesh() if mesh is None else mesh
    run = _compiled("evaluate", env, policy, n_steps, bool(keep_traces), bool(batched_params),
                    mesh)
    return run(keys, params)


def sharded_rollout(env, params, policy, keys, n_steps: int, *, batched_params: bool = False,
                    mesh=None) -> Rollout:
    """``n_steps`` auto-resetting env steps per key (:func:`rollout`), split over devices.

    Args:
        env, params: a functional env and its params (shared, or one row per key with
            ``batched_params=True``).
        policy: ``policy(obs, key) -> action``.
        keys: (n,) JAX keys, one per rollout.
        n_steps: env steps per rollout (episodes that end inside are reset, fresh state).
        batched_params: every leaf of ``params`` has a leading axis of length n.
        mesh: default ``simulator.sharding.batch_mesh()`` (every device).

    Returns:
        :class:`Rollout` with leading axes (n, n_steps).
    """
    _check_inputs(env, _readable(params), policy, keys, batched_params)
    n_steps = positive_int("n_steps", n_steps)
    mesh = batch_mesh() if mesh is None else mesh
    run = _compiled("rollout", env, policy, n_steps, False, bool(batched_params), mesh)
    return run(keys, params)
