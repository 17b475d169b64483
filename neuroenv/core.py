"""The functional environment contract (gymnax 1.0 convention), shared by every task.

::

    env, params = neuroenv.make("VoltageTarget-v0")
    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

``step`` resets automatically when an episode ends, drawing a fresh initial state from the
step's key (never a cached one); ``info["final_observation"]`` is the observation before
that reset. ``EnvParams`` and ``EnvState`` are pytrees: ``vmap`` over params is domain
randomisation. The env object holds only static structure and must not be mutated after
first use (its methods are jitted with the env as a static argument).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


class Environment:
    """Base class: subclasses implement ``reset_env``, ``step_env``, ``default_params``,
    ``action_space`` and ``observation_space``."""

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

    @functools.partial(jax.jit, static_argnums=0)
    def reset(self, key, params=None):
        """``(obs, state)`` of a new episode drawn with ``key``."""
        return self.reset_env(key, self.default_params if params is None else params)

    @functools.partial(jax.jit, static_argnums=0)
    def step(self, key, state, action, params=None):
        """``(obs, state, reward, terminated, truncated, info)``, resetting finished episodes."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs, next_state, reward, terminated, info = self.step_env(key_step, state, action, params)
        truncated = jnp.logical_and(self.is_truncated(next_state, params),
                                    jnp.logical_not(terminated))
        done = jnp.logical_or(terminated, truncated)
        reset_obs, reset_state = self.reset_env(key_reset, params)
        state_out = jax.tree_util.tree_map(lambda r, s: jnp.where(done, r, s), reset_state,
                                           next_state)
        obs_out = jnp.where(done, reset_obs, obs)
        info = {**info, "final_observation": obs, "terminated": terminated,
                "truncated": truncated}
        return obs_out, state_out, reward, terminated, truncated, info

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
