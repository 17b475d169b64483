"""The jitted batch programs of :class:`~neuroenv.vector.NeuronVectorEnv`: reset and step
of every row in one vmapped call of the functional env's own ``reset`` and
:meth:`~neuroenv.core.Environment.step_no_reset`, with the autoreset modes.

Module-level with the env as a static argument, so that vector envs over the same
functional env and batch size share one compilation (params are always batched, shared
or not).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from gymnasium.vector import AutoresetMode


def _reset_rows(env, keys, params):
    def row(key, p):
        key, k_reset = jax.random.split(key)
        obs, state = env.reset(k_reset, p)
        return key, obs, state

    return jax.vmap(row)(keys, params)


@functools.partial(jax.jit, static_argnums=0)
def batch_reset(env, keys, params):
    return _reset_rows(env, keys, params)


def _select_rows(mask, new, old):
    """``new`` where ``mask`` (num_envs,) is True, else ``old`` (pytrees of batched arrays)."""
    def pick(n, o):
        return jnp.where(mask.reshape(mask.shape + (1,) * (n.ndim - 1)), n, o)

    return jax.tree_util.tree_map(pick, new, old)


@functools.partial(jax.jit, static_argnums=0)
def batch_reset_masked(env, keys, mask, old_obs, old_states, params):
    return _select_rows(mask, _reset_rows(env, keys, params), (keys, old_obs, old_states))


@functools.partial(jax.jit, static_argnums=(0, 1))
def batch_step(env, mode, keys, states, actions, params, pending):
    """One batch step in autoreset ``mode`` (an :class:`AutoresetMode`, static).

    Every row draws ``key, k_step = split(key)`` and runs the functional env's step without
    auto-reset (:meth:`~neuroenv.core.Environment.step_no_reset` with ``k_step``). Then, only
    if some row needs it (``lax.cond`` on the whole batch, so steps without resets skip the
    reset program), rows are reset from their key chain (``key, k_reset = split(key)``, as a
    seedless ``reset`` of the gymnasium single env):

    - SAME_STEP: rows that ended, after their step; their reward and flags stay those of the
      finished transition.
    - NEXT_STEP: rows in ``pending`` (ended at the previous step), instead of their step;
      reward 0, flags False, their action is ignored.
    - DISABLED: none.

    Returns ``(keys, obs, states, reward, terminated, truncated, info, final_obs)``;
    ``final_obs`` is the stepped observation (before any SAME_STEP reset).
    """
    def row(key, state, action, p):
        key, k_step = jax.random.split(key)
        return key, *env.step_no_reset(k_step, state, action, p)

    (new_keys, obs, new_states, reward, terminated, truncated,
     info) = jax.vmap(row)(keys, states, actions, params)
    final_obs = obs

    if mode is AutoresetMode.SAME_STEP:
        done = jnp.logical_or(terminated, truncated)

        def reset_done(operand):
            return _select_rows(done, _reset_rows(env, operand[0], params), operand)

        new_keys, obs, new_states = jax.lax.cond(jnp.any(done), reset_done, lambda o: o,
                                                 (new_keys, obs, new_states))
    elif mode is AutoresetMode.NEXT_STEP:
        def reset_pending(operand):
            r_keys, r_obs, r_states = _reset_rows(env, keys, params)
            zero = jnp.zeros_like(reward)
            no = jnp.zeros_like(terminated)
            resets = (r_keys, r_obs, r_states, zero, no, no)
            return _select_rows(pending, resets, operand)

        (new_keys, obs, new_states, reward, terminated, truncated) = jax.lax.cond(
            jnp.any(pending), reset_pending, lambda o: o,
            (new_keys, obs, new_states, reward, terminated, truncated))
    return new_keys, obs, new_states, reward, terminated, truncated, info, final_obs
