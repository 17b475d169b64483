"""neuroenv: reinforcement-learning environments on biophysical neurons.

``env, params = neuroenv.make("VoltageTarget-v0")`` gives the functional (jit/vmap/scan/grad)
env; ``gymnasium.make("neuroenv/VoltageTarget-v0")`` the gymnasium one (registered on
import), and ``gymnasium.make("neuroenv:neuroenv/VoltageTarget-v0")`` works without importing
neuroenv first. ``gymnasium.make_vec("neuroenv/VoltageTarget-v0", num_envs=n)`` gives the
native batched vector env. ``neuroenv.registered_envs`` lists the gymnasium ids.

Importing neuroenv does not start JAX's backend (:mod:`neuroenv.fork_guard`) and turns on
JAX's persistent compilation cache (:mod:`neuroenv.compilation_cache`). Episode lengths,
seeding, forking and the other conventions of the envs: ``docs/envs.md``.
"""

import gymnasium as _gymnasium

from neuroenv import compilation_cache as _compilation_cache
from neuroenv import sharding
from neuroenv.core import Environment
from neuroenv.gym_env import NeuronGymEnv
from neuroenv.neuron_env import EnvParams, EnvState, NeuronEnv
from neuroenv.registry import TASKS, make, registered_envs
from neuroenv.spaces import Box


def _register() -> None:
    """Register ``neuroenv/<task>`` for every task (skipping ids already registered)."""
    for name in TASKS:
        env_id = f"neuroenv/{name}"
        if env_id in _gymnasium.registry:
            continue
        _gymnasium.register(
            id=env_id,
            entry_point="neuroenv.gym_env:NeuronGymEnv",
            vector_entry_point="neuroenv.vector:make_vector_env",
            kwargs={"task": name},
            max_episode_steps=None,
        )


_register()
_compilation_cache.enable()


def __getattr__(name):
    if name == "NeuronVectorEnv":  # lazy: the vector module is only needed for make_vec
        from neuroenv.vector import NeuronVectorEnv

        return NeuronVectorEnv
    raise AttributeError(f"module 'neuroenv' has no attribute {name!r}")


__all__ = ["TASKS", "Box", "EnvParams", "EnvState", "Environment", "NeuronEnv",
           "NeuronGymEnv", "NeuronVectorEnv", "make", "registered_envs", "sharding"]
