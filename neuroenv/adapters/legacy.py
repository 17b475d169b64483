"""``GymnaxLegacy``: the five-value gymnax 0.x step API, for rejax 0.1.3 and purejaxrl.

::

    from rejax import PPO
    env, params = neuroenv.make("VoltageTarget-v0")
    algo = PPO.create(env=GymnaxLegacy(env), env_params=params, num_envs=16, ...)

Needs no gymnax: rejax only duck-types the env (its action space is a
:class:`neuroenv.spaces.Box`, which is not a gymnax ``Discrete``, so rejax picks its
Gaussian policy and clips actions to ``[low, high]``).
"""

from __future__ import annotations

import jax.numpy as jnp

_REQUIRED = ("reset", "step", "default_params", "action_space", "observation_space")


class SharedEnvAdapter:
    """Base of the adapters: holds one immutable env, compares and copies by it.

    * ``a == b`` and ``hash(a)`` follow the wrapped env's identity, so two adapters of one
      env share jit caches when passed as static arguments.
    * ``copy.deepcopy`` returns a new adapter around the *same* env: envs hold only static
      structure and must not be mutated after first use, so sharing is safe, and it keeps
      rejax (which deep-copies its config) from copying the simulator or tripping over
      wrappers whose ``__getattr__`` recurses under deepcopy (all gymnax wrappers).
    * Public attributes not defined here are forwarded to the wrapped env; private and
      dunder names never are (that is what keeps ``copy``/``pickle`` from recursing).
    """

    def __init__(self, env) -> None:
        missing = [name for name in _REQUIRED if not hasattr(env, name)]
        if missing:
            raise TypeError(f"{type(self).__name__} needs an env with {', '.join(_REQUIRED)};"
                            f" {type(env).__name__} lacks {', '.join(missing)}")
        self._env = env

    @property
    def unwrapped_env(self):
        """The wrapped env."""
        return self._env

    @property
    def default_params(self):
        return self._env.default_params

    def reset(self, key, params=None):
        """``(obs, state)`` of a new episode drawn with ``key``."""
        return self._env.reset(key, params)

    def __getattr__(self, name: str):
        if name.startswith("_"):  # `_env` itself, and dunders looked up on a bare copy
            raise AttributeError(name)
        return getattr(self._env, name)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._env is self._env

    def __hash__(self) -> int:
        return hash((type(self), id(self._env)))

    def __deepcopy__(self, memo):
        return type(self)(self._env)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._env!r})"


class GymnaxLegacy(SharedEnvAdapter):
    """A six-value env (neuroenv's or any gymnax-1.0 env) with the five-value step API.

    ``step(key, state, action, params)`` returns ``(obs, state, reward, done, info)`` with
    ``done = terminated | truncated`` (float32 reward, bool done, shapes of the wrapped env;
    for ``VoltageTarget-v0``: obs (window + 2,) float32, scaled (NeuronEnv's ``obs_units``),
    action (1,) in [-1, 1]).
    Finished episodes are reset inside ``step`` exactly as by the wrapped env;
    ``info`` is a fresh plain dict that also holds ``"terminated"``, ``"truncated"`` and
    ``"final_observation"`` (the observation before the reset), for truncation
    bootstrapping. ``params=None`` means the wrapped env's ``default_params``. Everything
    else (spaces, ``num_actions``, ``name``, ...) is the wrapped env's.

    Args:
        env: an env with ``reset(key, params) -> (obs, state)`` and
            ``step(key, state, action, params) -> (obs, state, reward, terminated,
            truncated, info)``, ``default_params``, ``action_space(params)`` and
            ``observation_space(params)``.
    """

    def __init__(self, env) -> None:
        if isinstance(env, GymnaxLegacy):
            raise TypeError("the env already has the five-value API")
        super().__init__(env)

    def step(self, key, state, action, params=None):
        """``(obs, state, reward, done, info)``, resetting finished episodes."""
        obs, state, reward, terminated, truncated, info = self._env.step(key, state, action,
                                                                         params)
        return obs, state, reward, jnp.logical_or(terminated, truncated), dict(info)
