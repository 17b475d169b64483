"""``GymnaxEnv``: a neuroenv env as a real gymnax 1.0 ``Environment`` (imports gymnax).

Reached through ``neuroenv.adapters.GymnaxEnv``, which imports this module only on first
use, so that neuroenv itself never needs gymnax.
"""

from __future__ import annotations

import numpy as np
from gymnax.environments import environment as gymnax_environment
from gymnax.environments import spaces as gymnax_spaces

from neuroenv.adapters.legacy import SharedEnvAdapter


def to_gymnax_space(space) -> gymnax_spaces.Space:
    """A gymnax ``Box`` with the bounds, shape and dtype of a ``neuroenv.spaces.Box``
    (gymnax spaces are returned as they are).

    Uniform bounds become 0-d arrays, as in gymnax's own envs: gymnax 1.0.1's
    ``gymnax_space_to_gym_space`` calls ``float()`` on size-1 bounds, which fails on a
    (1,) array.
    """
    if isinstance(space, gymnax_spaces.Space):
        return space
    dtype = np.dtype(space.dtype)
    low, high = (np.asarray(b, dtype) for b in (space.low, space.high))
    if np.all(low == low.flat[0]) and np.all(high == high.flat[0]):
        low, high = low.flat[0][()], high.flat[0][()]
    return gymnax_spaces.Box(low, high, tuple(space.shape), dtype)


class GymnaxEnv(SharedEnvAdapter, gymnax_environment.Environment):
    """A neuroenv functional env seen as a ``gymnax.environments.environment.Environment``.

    ``reset``/``step`` are the wrapped env's (six-value gymnax 1.0 API, same auto-reset,
    same ``info`` keys, so trajectories are identical); ``reset_env``, ``step_env``,
    ``is_truncated`` and ``observe`` are forwarded for wrappers that call the hooks, and the
    spaces are gymnax ``Box`` es. gymnax's wrappers (``LogWrapper``,
    ``FlattenObservationWrapper``, ``GymnaxToGymWrapper``, ...) therefore work on it. For
    rejax/purejaxrl wrap it (or the plain env) in :class:`~neuroenv.adapters.GymnaxLegacy`.

    Args:
        env: a neuroenv functional env (``neuroenv.make(...)[0]``).
    """

    # default_params and reset come from SharedEnvAdapter (first in the MRO).
    def step(self, key, state, action, params=None):
        """``(obs, state, reward, terminated, truncated, info)`` with auto-reset."""
        return self._env.step(key, state, action, params)

    def reset_env(self, key, params):
        return self._env.reset_env(key, params)

    def step_env(self, key, state, action, params):
        return self._env.step_env(key, state, action, params)

    def is_truncated(self, state, params):
        return self._env.is_truncated(state, params)

    def observe(self, key, state, action, params):
        """The (noisy) observation of ``state``, measurement noise drawn from ``key``."""
        if callable(getattr(self._env, "observe", None)):  # NeuronEnv, gymnax-1.0-style envs
            return self._env.observe(key, state, action, params)
        raise NotImplementedError(f"{type(self._env).__name__} has no observation hook")

    def action_space(self, params=None) -> gymnax_spaces.Box:
        return to_gymnax_space(self._env.action_space(params))

    def observation_space(self, params=None) -> gymnax_spaces.Box:
        return to_gymnax_space(self._env.observation_space(params))

    @property
    def num_actions(self) -> int:
        """Size of the action vector (number of stimulation sites)."""
        return int(np.prod(self._env.action_space().shape))

    @property
    def name(self) -> str:
        return self._env.name
