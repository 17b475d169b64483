"""The gymnasium env's reset and step programs, compiled side by side at the first reset.

XLA's compilation of a program runs without Python's global lock, so two programs compile
on two cores at once. The first ``reset`` of a gymnasium env traces its reset program,
starts compiling it on a worker thread, traces the step program meanwhile (the step's
carry layout is known once the reset is traced) and starts compiling that on a second
worker; the reset then waits for its own program only, and the first ``step`` for the
step's. Traced, lowered and compiled exactly as ``jax.jit`` would (the persistent
compilation cache included), so the numbers are the same; only the wait is shorter
(docs/performance.md, "Fifth pass").
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class AheadOfTime:
    """The compiled reset and step of one configuration (see the module docstring).

    Args:
        reset_jit: jitted ``reset(key)``.
        step_jit: jitted ``step(carry, action)``.
        key: an example key (its type and shape are the reset program's).
        step_arguments: returns ``(carry, action)`` shapes and dtypes
            (``jax.ShapeDtypeStruct``), called after the reset is traced.
    """

    def __init__(self, reset_jit, step_jit, key, step_arguments: Callable) -> None:
        self._reset_jit, self._step_jit = reset_jit, step_jit
        lowered_reset = reset_jit.lower(key)
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="neuroenv-compile")
        try:
            self._reset = pool.submit(lowered_reset.compile)
            try:
                lowered_step = step_jit.lower(*step_arguments())
            except Exception:
                self._reset.result()  # the reset's own errors first
                raise
            self._step = pool.submit(lowered_step.compile)
        finally:
            pool.shutdown(wait=False)  # the workers end with their compilation

    def reset(self, key):
        """``reset_jit(key)``, by the program compiled ahead where the key's type fits."""
        program = self._reset.result()
        try:
            return program(key)
        except TypeError:  # another key type or shape than the first reset's
            return self._reset_jit(key)

    def step(self, carry, action):
        """``step_jit(carry, action)``, by the program compiled ahead where the types fit."""
        program = self._step.result()
        try:
            return program(carry, action)
        except TypeError:
            return self._step_jit(carry, action)
