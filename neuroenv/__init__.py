"""neuroenv: reinforcement-learning environments on biophysical neurons.

``env, params = neuroenv.make("VoltageTarget-v0")`` gives the functional (jit/vmap/scan/grad)
env; ``gymnasium.make("neuroenv/VoltageTarget-v0")`` the gymnasium one (registered on
import).
"""

from neuroenv.core import Environment
from neuroenv.neuron_env import EnvParams, EnvState, NeuronEnv
from neuroenv.registry import TASKS, make, registered_envs
from neuroenv.spaces import Box

__all__ = ["TASKS", "Box", "EnvParams", "EnvState", "Environment", "NeuronEnv", "make",
           "registered_envs"]
