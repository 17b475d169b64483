"""A clear error instead of a hang when a process forks after starting JAX.

JAX's backend (the XLA client) runs worker threads. ``os.fork`` copies the process without
them, so a forked child that uses the parent's backend waits forever for threads that do
not exist (gymnasium's ``AsyncVectorEnv`` and SB3's ``SubprocVecEnv`` with the ``fork``
start method do exactly that if the parent started JAX before creating the workers).

neuroenv builds its gymnasium envs without starting JAX (:mod:`neuroenv.space_probe`), so
forking after ``gymnasium.make`` is safe. When the parent *did* start JAX before forking
(e.g. it ran a functional env or a ``reset``), :func:`check` raises a ``RuntimeError`` in the
child that names the fix, instead of letting the first JAX call hang.
"""

from __future__ import annotations

import os

#: Set in a forked child whose parent had started JAX's backend.
_inherited_backend = False


def backend_started() -> bool:
    """Whether JAX's backend (device client and its threads) exists in this process.

    Reads JAX's backend table without its lock (a forked child must never wait on a lock
    that a thread of the parent may have held at the fork).
    """
    from jax._src import xla_bridge

    backends = getattr(xla_bridge, "_backends", None)
    if backends is None:  # another JAX layout: its public (locking) query
        return xla_bridge.backends_are_initialized()
    return bool(backends)


def _after_fork_in_child() -> None:
    global _inherited_backend
    if backend_started():
        _inherited_backend = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def check(what: str) -> None:
    """Raise ``RuntimeError`` if this process is a fork of a process that had started JAX.

    Args:
        what: the operation about to use JAX, for the message (e.g. ``"reset()"``).
    """
    if _inherited_backend:
        raise RuntimeError(
            f"neuroenv: {what} in a process forked (pid {os.getpid()}) after its parent had "
            "started JAX; JAX cannot run in such a child (it would hang). Create the worker "
            "processes with the 'spawn' or 'forkserver' start method, e.g. "
            "gymnasium.make_vec(id, num_envs, vectorization_mode='async', "
            "vector_kwargs={'context': 'spawn'}) or SubprocVecEnv(env_fns, "
            "start_method='spawn'), or fork before the parent uses JAX (building a "
            "neuroenv gymnasium env does not start it; its first reset() does)."
        )
