"""One episode of a policy on a functional env (traceable), the unit that
:mod:`neuroenv.evaluation` and :mod:`neuroenv.sharding` batch.

A policy is ``policy(obs, key) -> action`` (see :mod:`neuroenv.evaluation`). The episode
runs ``n_steps`` control periods of the env's ``step_env`` without auto-reset; rewards after
a termination are not counted.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Episodes(NamedTuple):
    """Results of a batch of episodes (leading axis: episode).

    Attributes:
        returns: (n,) undiscounted return up to and including the terminal step.
        lengths: (n,) control periods until termination (``max_steps`` if none).
        rewards: (n, T) reward per control period (0 after termination).
        traces: (n, T, substeps, n_rec) recorded values (mV) during each period, or ``None``.
        currents: (n, T, n_sites) injected current amplitudes (nA).
        task_states: the task state after every period (leaves (n, T, ...)), or ``None``.
    """

    returns: jax.Array
    lengths: jax.Array
    rewards: jax.Array
    traces: jax.Array | None
    currents: jax.Array
    task_states: dict | None


def episode(env, params, policy, key, n_steps: int, keep_traces: bool = True) -> Episodes:
    """One episode of ``n_steps`` control periods (unbatched leaves; see :class:`Episodes`)."""
    k_reset, k_run = jax.random.split(key)
    obs, state = env.reset_env(k_reset, params)

    def body(carry, k):
        obs, state, alive = carry
        k_pol, k_env = jax.random.split(k)
        action = policy(obs, k_pol)
        obs, state, reward, terminated, _ = env.step_env(k_env, state, action, params)
        reward = jnp.where(alive, reward, 0.0)
        out = (reward, alive, state.last_trace if keep_traces else None, state.last_current,
               state.task if keep_traces else None)
        return (obs, state, jnp.logical_and(alive, ~terminated)), out

    _, (rewards, alive, traces, currents, task_states) = jax.lax.scan(
        body, (obs, state, jnp.asarray(True)), jax.random.split(k_run, n_steps))
    return Episodes(rewards.sum(), alive.sum().astype(jnp.int32), rewards, traces, currents,
                    task_states)
