"""Inline execution of JAX's CPU programs, for envs stepped one call at a time from Python.

By default JAX hands every CPU program that is not trivially small (its cost estimate
above about 1,000 floating-point operations, loops counted once) to a worker thread and
returns at once (*async dispatch*); the caller then waits for the result. A gymnasium
``env.step`` always waits at once (it needs the observation), so the handoff to the worker
and back is pure overhead: for VoltageTarget-v0 it is about half of each step (float32, 2
CPU cores: 145–205 µs per ``env.step`` with async dispatch, 70–73 µs without;
docs/performance.md). The numbers computed are the same either way.

The setting (``jax_cpu_enable_async_dispatch``) is process-wide and read once, when JAX
starts its CPU backend. :class:`~neuroenv.gym_env.NeuronGymEnv` therefore turns it off
(:func:`prefer_inline`) just before the first JAX computation of the process, unless

- it was built with ``inline_dispatch=False``,
- the ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` environment variable is set (your choice wins), or
- JAX's backend has already started (nothing can change then: the backend keeps what it
  started with).

Other JAX code of the same process then runs inline as well: it computes the same numbers,
and Python waits for each program rather than for its results. Jitted training loops (one
long program per call) barely notice.

**Worker processes** (:func:`one_thread_in_workers`): in a process started by
``multiprocessing`` (the workers of gymnasium's ``AsyncVectorEnv`` and SB3's
``SubprocVecEnv``), the same first build also sizes XLA's CPU thread pool to one thread
(``PJRT_NPROC=1``, read when the backend starts), under the same three exceptions (with
``PJRT_NPROC`` as the variable that wins). Each worker otherwise starts a pool as large as
the machine, and the workers' pools fight over the cores: two ``AsyncVectorEnv`` workers on
2 cores, µs per vector step (best of 3–7 × 100 steps, pools of two threads → one):
BasalGangliaDBS-v0 13,916 → 6,659, Desynchronize-v0 507–558 → 368–406, VoltageTarget-v0
486 → 311. The parallelism of a vector env is its processes.
"""

from __future__ import annotations

import multiprocessing
import os

import jax

from neuroenv import fork_guard

#: The environment variable through which JAX reads the setting (set: left as it says).
ENV_VAR = "JAX_CPU_ENABLE_ASYNC_DISPATCH"
#: JAX's configuration option.
FLAG = "jax_cpu_enable_async_dispatch"
#: The environment variable from which XLA's CPU client sizes its thread pool when the
#: backend starts (set: left as it says).
NPROC_VAR = "PJRT_NPROC"


def prefer_inline(enabled: bool = True) -> bool:
    """Turn JAX's CPU async dispatch off for this process where that is still possible and
    not decided elsewhere (the module docstring lists when it is left alone).

    Returns:
        whether this call changed the setting.
    """
    if not enabled or ENV_VAR in os.environ or fork_guard.backend_started():
        return False
    if not async_dispatch():
        return False  # already off
    jax.config.update(FLAG, False)
    return True


def async_dispatch() -> bool:
    """JAX's setting (what a CPU backend started now would use)."""
    return bool(jax.config.values.get(FLAG, True))


def one_thread_in_workers(enabled: bool = True) -> bool:
    """In a ``multiprocessing`` child whose JAX backend has not started, size XLA's CPU
    thread pool to one thread (``PJRT_NPROC=1``) unless ``enabled`` is False or the user
    set ``PJRT_NPROC`` (see the module docstring).

    Returns:
        whether this call changed the setting.
    """
    if not enabled or NPROC_VAR in os.environ or fork_guard.backend_started():
        return False
    if multiprocessing.parent_process() is None:  # not a worker: the user's own process
        return False
    os.environ[NPROC_VAR] = "1"
    return True
