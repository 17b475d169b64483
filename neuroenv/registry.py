"""Task registry: ``neuroenv.make(name)`` and the gymnasium ids ``neuroenv/<name>``.

Every task also comes in three variants, registered as ``<Task><Variant>-v0``:

- ``Noisy``: a noisy electrode — Gaussian measurement noise of 2 mV on every observed
  voltage (partial observability);
- ``Drift``: the cell's channel conductances drift within an episode (log-normal Brownian
  motion, 1 % per √ms: about 14 % over 200 ms);
- ``Randomized``: domain randomisation — the channel conductances are drawn per episode
  (log-normal, 15 % spread).

Each variant is the base task with different ``EnvParams`` defaults, so ``make`` keyword
arguments (and ``EnvParams.replace``) still override them.
"""

from __future__ import annotations

import importlib

#: name -> "module:factory" of the functional env of each base task.
BASE_TASKS = {
    "VoltageTarget-v0": "neuroenv.tasks.voltage_target:make_env",
    "SpikeRate-v0": "neuroenv.tasks.spike_rate:make_env",
    "VoltageTrack-v0": "neuroenv.tasks.voltage_track:make_env",
    "SpikeTiming-v0": "neuroenv.tasks.spike_timing:make_env",
    "Silence-v0": "neuroenv.tasks.silence:make_env",
    "EnergyEfficientSpike-v0": "neuroenv.tasks.energy_efficient_spike:make_env",
    "Desynchronize-v0": "neuroenv.tasks.desynchronize:make_env",
    "DendriteControl-v0": "neuroenv.tasks.dendrite_control:make_env",
}

#: variant suffix -> NeuronEnv keyword arguments it sets.
VARIANTS = {
    "Noisy": {"obs_noise_std": 2.0},
    "Drift": {"param_drift": 0.01},
    "Randomized": {"param_spread": 0.15},
}


def _variant_name(base: str, variant: str) -> str:
    stem = base.removesuffix("-v0")
    return f"{stem}{variant}-v0"


#: every registered name -> (base task name, variant keyword arguments).
TASKS = {name: (name, {}) for name in BASE_TASKS}
TASKS.update({_variant_name(base, variant): (base, kwargs)
              for base in BASE_TASKS for variant, kwargs in VARIANTS.items()})
registered_envs = tuple(f"neuroenv/{name}" for name in TASKS)


def make(name: str, **kwargs):
    """``(env, params)``: the functional env of a registered task and its default params.

    Keyword arguments go to the task's factory (those of :class:`~neuroenv.NeuronEnv`:
    ``action_scale``, ``window``, ``obs_noise_std``, ``max_steps_in_episode``, ...).
    """
    name = name.removeprefix("neuroenv/")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; registered: {sorted(TASKS)}")
    base, variant_kwargs = TASKS[name]
    module, factory = BASE_TASKS[base].split(":")
    env = getattr(importlib.import_module(module), factory)(**{**variant_kwargs, **kwargs})
    return env, env.default_params
