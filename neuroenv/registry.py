"""Task registry: ``neuroenv.make(name)`` and the gymnasium ids ``neuroenv/<name>``."""

from __future__ import annotations

import importlib

#: name -> "module:factory" of the functional env.
TASKS = {
    "VoltageTarget-v0": "neuroenv.tasks.voltage_target:make_env",
    "SpikeRate-v0": "neuroenv.tasks.spike_rate:make_env",
}
registered_envs = tuple(f"neuroenv/{name}" for name in TASKS)


def make(name: str, **kwargs):
    """``(env, params)``: the functional env of a registered task and its default params."""
    name = name.removeprefix("neuroenv/")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; registered: {sorted(TASKS)}")
    module, factory = TASKS[name].split(":")
    env = getattr(importlib.import_module(module), factory)(**kwargs)
    return env, env.default_params
