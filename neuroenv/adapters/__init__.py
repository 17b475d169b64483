"""Adapters to the APIs that RL libraries consume.

- :class:`GymnaxLegacy`: the five-value gymnax 0.x step API ``(obs, state, reward, done,
  info)`` that rejax 0.1.3 and purejaxrl consume; deepcopy-safe, hashable; needs no gymnax.
- :class:`GymnaxEnv`: a subclass of gymnax 1.0's ``Environment`` with gymnax spaces, for
  gymnax's wrappers (``LogWrapper``, ``GymnaxToGymWrapper``, ...). Needs ``gymnax`` (and
  ``six``, which gymnax 1.0.1 imports without declaring it); imported on first access.
- :class:`NeuronFuncEnv` / :func:`functional_jax_env`: a gymnasium ``FuncEnv`` for
  ``gymnasium.envs.functional_jax_env.FunctionalJaxEnv`` (time limit by ``TimeLimit``).
"""

from __future__ import annotations

from neuroenv.adapters.funcenv import FuncState, NeuronFuncEnv, functional_jax_env
from neuroenv.adapters.legacy import GymnaxLegacy


def __getattr__(name: str):
    if name in ("GymnaxEnv", "to_gymnax_space"):  # lazy: only these need gymnax
        try:
            from neuroenv.adapters import gymnax_env
        except ModuleNotFoundError as error:
            raise ImportError(
                f"neuroenv.adapters.{name} needs gymnax (which also imports six): "
                f"pip install gymnax six  (missing module: {error.name})"
            ) from error
        return getattr(gymnax_env, name)
    raise AttributeError(f"module 'neuroenv.adapters' has no attribute {name!r}")


__all__ = ["FuncState", "GymnaxEnv", "GymnaxLegacy", "NeuronFuncEnv", "functional_jax_env",
           "to_gymnax_space"]
