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
"""

from __future__ import annotations

import os

import jax

from neuroenv import fork_guard

#: The environment variable through which JAX reads the setting (set: left as it says).
ENV_VAR = "JAX_CPU_ENABLE_ASYNC_DISPATCH"
#: JAX's configuration option.
FLAG = "jax_cpu_enable_async_dispatch"


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
