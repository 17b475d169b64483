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

gymnasium ids: ``neuroenv/<Task>`` exists in processes that imported neuroenv (the import
registers it); ``neuroenv:neuroenv/<Task>`` works in any process, since gymnasium imports the
module before ``:`` first (gymnasium 1.x loads no plugins or entry points, so nothing can
register the ids in a process that never imports neuroenv: RLlib env runners, CleanRL
scripts, subprocesses).
"""

from __future__ import annotations

import difflib
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
    "BetaSuppression-v0": "neuroenv.tasks.beta_suppression:make_env",
    "BasalGangliaDBS-v0": "neuroenv.tasks.basal_ganglia_dbs:make_env",
}

#: variant suffix -> NeuronEnv keyword arguments it sets.
VARIANTS = {
    "Noisy": {"obs_noise_std": 2.0},
    "Drift": {"param_drift": 0.01},
    "Randomized": {"param_spread": 0.15},
}


#: every registered name -> (base task name, variant keyword arguments).
TASKS = {name: (name, {}) for name in BASE_TASKS}
TASKS.update({f"{base.removesuffix('-v0')}{variant}-v0": (base, kwargs)
              for base in BASE_TASKS for variant, kwargs in VARIANTS.items()})
registered_envs = tuple(f"neuroenv/{name}" for name in TASKS)


def task_name(name: str) -> str:
    """The registered task name of ``name``: a task name (``"VoltageTarget-v0"``) or a
    gymnasium id (``"neuroenv/VoltageTarget-v0"``, ``"neuroenv:neuroenv/VoltageTarget-v0"``).

    Raises ``TypeError`` for a non-string and ``ValueError`` for an unknown name; the message
    lists the closest registered names and the gymnasium id forms.
    """
    if not isinstance(name, str):
        raise TypeError(f"task name must be a str, got {name!r}")
    bare = name.removeprefix("neuroenv:").removeprefix("neuroenv/")
    if bare in TASKS:
        return bare
    by_lower = {t.lower(): t for t in TASKS}
    close = [by_lower[t] for t in difflib.get_close_matches(bare.lower(), by_lower, n=3,
                                                            cutoff=0.6)]
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(
        f"unknown task {name!r}.{hint} Registered tasks: {', '.join(BASE_TASKS)}, each also "
        f"as <Task>{{{','.join(VARIANTS)}}}-v0 (neuroenv.registered_envs lists them). "
        "gymnasium ids are 'neuroenv/<task>' after `import neuroenv`, or "
        "'neuroenv:neuroenv/<task>' in any process (gymnasium then imports neuroenv itself)")


def make(name: str, **kwargs):
    """``(env, params)``: the functional env of a registered task and its default params.

    Args:
        name: a registered task name or gymnasium id (see :func:`task_name`).
        **kwargs: keyword arguments of the task's factory (those of
            :class:`~neuroenv.NeuronEnv`: ``action_scale``, ``window``, ``obs_noise_std``,
            ``max_steps_in_episode``, ...).
    """
    base, variant_kwargs = TASKS[task_name(name)]
    module, factory = BASE_TASKS[base].split(":")
    env = getattr(importlib.import_module(module), factory)(**{**variant_kwargs, **kwargs})
    return env, env.default_params


def first_reset_imports(name: str) -> tuple[str, ...]:
    """Modules that the first reset of task ``name`` imports (its module's
    ``FIRST_RESET_IMPORTS``, e.g. ``scipy.signal`` for a filter design; empty if none):
    ``gymnasium.make`` imports them while it waits for its space probe
    (:mod:`neuroenv.space_probe`). Imports the task's module, which starts nothing."""
    module = BASE_TASKS[TASKS[task_name(name)][0]].split(":")[0]
    return tuple(getattr(importlib.import_module(module), "FIRST_RESET_IMPORTS", ()))
