"""A registered task's gymnasium spaces, without starting JAX in this process.

Building a task's functional env runs JAX (the simulator computes the cell's initial states
with it), and a process that has started JAX's backend cannot fork safely
(:mod:`neuroenv.fork_guard`). ``gymnasium``'s ``AsyncVectorEnv`` builds one env in the
parent, only to read its spaces, and then forks its workers; so a neuroenv gymnasium env
gets its spaces without starting JAX here: a short-lived forked child (which starts its own
JAX) builds the functional env with the real code, converts the spaces to NumPy bounds and
sends them back through a pipe. The result is cached per process (forked workers inherit
it) and on disk, in ``spaces/`` of neuroenv's cache folder (:mod:`neuroenv.compilation_cache`,
off with ``NEUROENV_COMPILATION_CACHE=0``), as JSON keyed by the task, its keyword arguments
and a fingerprint of the installed neuroenv and simulator packages (every file's path, size
and modification time) and of the Python, NumPy and JAX versions, so a later process skips
the probe and an edited or upgraded package never reads a stale entry. Where this process
has already started JAX, or cannot fork, the caller builds the env directly instead
(:func:`probe_possible`).
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import select
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from neuroenv import disk_cache, fork_guard

#: Seconds to wait for the child before giving up (then the caller builds in-process).
TIMEOUT_S = 120.0

_cache: dict[tuple[str, str], tuple[tuple, tuple]] = {}


class ProbeFailed(RuntimeError):
    """The child did not answer (crashed or timed out); build the env in-process instead."""


def probe_possible() -> bool:
    """Whether :func:`spaces` can run: Linux (``fork`` is the default start method there, so
    it is where an in-process build would make the later forks hang) and no JAX backend in
    this process yet (with one, building in-process costs nothing more)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and not (
        fork_guard.backend_started())


def _key(task: str, env_kwargs: dict) -> tuple[str, str] | None:
    try:
        return (task, json.dumps(env_kwargs, sort_keys=True))
    except (TypeError, ValueError):  # not JSON-serialisable: not cached
        return None


def cached(task: str, env_kwargs: dict) -> tuple[tuple, tuple] | None:
    """The bounds of ``neuroenv.make(task, **env_kwargs)``'s spaces if known to this process
    or stored on disk, else None. Never starts JAX.

    Returns:
        ``(observation, action)``, each ``(low, high, dtype)`` with NumPy ``low``/``high`` of
        the space's shape.
    """
    key = _key(task, env_kwargs)
    if key is None:
        return None
    if key not in _cache:
        path = _disk_path(*key)
        bounds = None if path is None else _read(path)
        if bounds is None:
            return None
        _cache[key] = bounds
    return _cache[key]


def remember(task: str, env_kwargs: dict, bounds: tuple[tuple, tuple]) -> None:
    """Store ``bounds`` (as :func:`cached` returns them) in this process and on disk."""
    key = _key(task, env_kwargs)
    if key is None:
        return
    _cache[key] = bounds
    path = _disk_path(*key)
    if path is not None:
        _write(path, bounds)


def probe(task: str, env_kwargs: dict, meanwhile: tuple[str, ...] = ()) -> tuple[tuple, tuple]:
    """The bounds of ``neuroenv.make(task, **env_kwargs)``'s spaces, built in a forked child
    (see the module docstring; :func:`probe_possible` says whether this may run), then
    :func:`remember`-ed. This process imports the modules ``meanwhile`` while the child
    works (ones its first reset will need: e.g. ``scipy.signal``, 0.7 s; none starts JAX).

    Raises what building the env raises (e.g. ``ValueError`` for a bad keyword argument),
    or :class:`ProbeFailed` if the child died or did not answer within :data:`TIMEOUT_S`.
    """
    bounds = _run_in_child(task, env_kwargs, meanwhile)
    remember(task, env_kwargs, bounds)
    return bounds


def bounds_of(env) -> tuple[tuple, tuple]:
    """``(observation, action)`` bounds of a functional env's spaces (as :func:`cached`)."""
    return (_bounds(env.observation_space()), _bounds(env.action_space()))


def _disk_path(task: str, kwargs_json: str) -> Path | None:
    return disk_cache.entry("spaces", f"{disk_cache.fingerprint()}|{task}|{kwargs_json}")


def _read(path: Path) -> tuple[tuple, tuple] | None:
    """The bounds stored at ``path``, or None (missing or unreadable: probe again)."""
    data = disk_cache.read(path)
    try:
        return tuple((np.asarray(b["low"], b["dtype"]).reshape(b["shape"]),
                      np.asarray(b["high"], b["dtype"]).reshape(b["shape"]),
                      np.dtype(b["dtype"])) for b in (data["observation"], data["action"]))
    except (ValueError, KeyError, TypeError):
        return None


def _write(path: Path, bounds: tuple[tuple, tuple]) -> None:
    """Store ``bounds`` (float values round-trip exactly through JSON)."""
    disk_cache.write(path, {name: {"low": low.astype(float).ravel().tolist(),
                                   "high": high.astype(float).ravel().tolist(),
                                   "shape": list(low.shape), "dtype": dtype.str}
                            for name, (low, high, dtype) in zip(("observation", "action"),
                                                                bounds, strict=True)})


def _bounds(box) -> tuple:
    return (np.asarray(box.low), np.asarray(box.high), np.dtype(box.dtype))


def _child(task: str, env_kwargs: dict) -> tuple[str, object]:
    try:
        from neuroenv.registry import make
        from neuroenv.stability_cache import deferred

        with deferred():  # the spaces need no time-step check: the parent's env runs it
            env, _ = make(task, **env_kwargs)
        return "ok", bounds_of(env)
    except BaseException as err:  # noqa: BLE001 - sent to the parent, which raises it
        try:
            pickle.dumps(err)
            return "error", err
        except Exception:  # noqa: BLE001 - an unpicklable exception: its text
            return "error", RuntimeError("".join(traceback.format_exception(err)))


def _run_in_child(task: str, env_kwargs: dict, meanwhile: tuple[str, ...]) -> tuple[tuple, tuple]:
    if fork_guard.backend_started():  # the child could not use JAX (it would hang)
        raise ProbeFailed("JAX's backend is already started in this process; cannot probe")
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python >= 3.12 warns about fork with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: answer and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(_child(task, env_kwargs))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks, deadline, answered = [], time.monotonic() + TIMEOUT_S, False
    try:
        for module in meanwhile:  # the child's answer waits in the pipe
            try:
                importlib.import_module(module)
            except ImportError:  # the first reset will say so itself
                pass
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([pipe], [], [], left)[0]:
                    raise ProbeFailed(f"building {task} in a probe process took more than "
                                      f"{TIMEOUT_S:.0f} s")
                chunk = os.read(pipe.fileno(), 1 << 20)
                if not chunk:
                    answered = True
                    break
                chunks.append(chunk)
    finally:
        if not answered:  # timed out (or interrupted): stop the child
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    try:
        status, payload = pickle.loads(b"".join(chunks))
    except Exception as err:  # noqa: BLE001 - the child died before answering
        raise ProbeFailed(f"the probe process building {task} died") from err
    if status == "error":
        raise payload
    return payload
