"""The forward-Euler stability check of an env, remembered between processes.

:func:`simulator.solvers.stability.check_time_step` forms the Jacobian of one solver step
(``jax.jacfwd`` of the whole step, traced in every new process: about a second of a
network env's first step). The bound it finds is a function of the module's structure, its
initial states and parameters and the code, so neuroenv stores it in its disk cache
(:mod:`neuroenv.disk_cache`) under a digest of exactly these (the module's
:func:`~simulator.static_key.stable_digest`, the arrays' bytes and
:func:`neuroenv.disk_cache.fingerprint`) and a later process only compares and warns.
Modules holding a user-defined mechanism class or function have no process-independent
digest and are checked afresh every time.

Inside :func:`deferred`, an env's check waits until its owner runs it
(:func:`check_or_defer`): the gymnasium env builds its functional env so and checks at its
first reset, while its step program compiles on the other core
(:mod:`neuroenv.compile_ahead`), and its space probe (:mod:`neuroenv.space_probe`), which
needs only the spaces, never checks. A network's Jacobian then no longer delays
``gym.make`` (BasalGangliaDBS-v0: ~1 s of a cold ``gym.make``, docs/performance.md).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import math

import numpy as np

from neuroenv import disk_cache
from simulator.solvers.stability import EXPLICIT_SOLVERS, check_time_step, warn_past_bound
from simulator.static_key import stable_digest, static_key

_DEFERRED = contextvars.ContextVar("neuroenv_stability_deferred", default=False)


@contextlib.contextmanager
def deferred():
    """Envs built within this context (this thread) defer their time-step check (see the
    module docstring and :func:`check_or_defer`)."""
    token = _DEFERRED.set(True)
    try:
        yield
    finally:
        _DEFERRED.reset(token)


def check_or_defer(compiled, solver: str, delta_t: float, states: dict, params: dict,
                   stacklevel: int = 3):
    """:func:`checked_time_step` now; inside :func:`deferred`, nothing now.

    Returns:
        None after checking, or (deferred) the check as a function of ``stacklevel`` alone,
        for the owner to call (``pending(stacklevel)`` warns as :func:`checked_time_step`).
    """
    if not _DEFERRED.get():
        checked_time_step(compiled, solver, delta_t, states, params, stacklevel + 1)
        return None
    return functools.partial(checked_time_step, compiled, solver, delta_t, states, params)


def _key(compiled, states: dict, params: dict) -> str | None:
    structure = stable_digest(compiled.signature)
    values = stable_digest(static_key(({k: np.asarray(v) for k, v in states.items()},
                                       {k: np.asarray(v) for k, v in params.items()})))
    if structure is None or values is None:
        return None
    return hashlib.sha256(f"{disk_cache.fingerprint()}|{structure}|{values}".encode()
                          ).hexdigest()


def checked_time_step(compiled, solver: str, delta_t: float, states: dict, params: dict,
                      stacklevel: int = 3) -> float | None:
    """:func:`~simulator.solvers.stability.check_time_step` (the same warning and return
    value), reading and storing the bound in the disk cache."""
    if solver not in EXPLICIT_SOLVERS:
        return check_time_step(compiled, solver, delta_t, states, params, stacklevel + 1)
    key = _key(compiled, states, params)
    path = None if key is None else disk_cache.entry("stability", key)
    stored = disk_cache.read(path)
    if isinstance(stored, dict) and isinstance(stored.get("bound"), float | int):
        bound = float(stored["bound"])
        warn_past_bound(solver, delta_t, bound, stacklevel + 1)
        return bound
    bound = check_time_step(compiled, solver, delta_t, states, params, stacklevel + 1)
    if bound is not None and not math.isnan(bound):
        disk_cache.write(path, {"bound": bound})
    return bound
