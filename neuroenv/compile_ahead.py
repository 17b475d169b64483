"""Compile a jitted program on a worker thread while the caller goes on (a cold start's
first ``step`` program compiles while the first ``reset`` compiles and runs).

A gymnasium env's first ``reset`` and first ``step`` each trace and compile a program of
their own, one after the other; XLA's compiler releases the GIL and the second core sits
idle. :class:`AheadOfTime` lowers and compiles a program for given argument types on a
thread (``jax.jit(...).lower(...).compile()`` fills the same caches as a call with those
types, so the call then finds the program compiled) and :meth:`AheadOfTime.wait` joins it
before the first call, so that the call never compiles a second copy.
Nothing is run: the worker only traces and compiles. A failure in the worker is dropped
(the call then traces and compiles as usual and raises its own error), and a worker whose
configuration differs from the call's (e.g. a thread-local ``jax.default_device``) only
compiles a program the call does not use. ``jax_enable_x64`` is carried over from the
starting thread (JAX's context managers set it per thread).

Measured (``python -m bench.first_step``, 2 cores): see docs/performance.md "Seventh pass".
"""

from __future__ import annotations

import threading

import jax


class AheadOfTime:
    """At most one worker thread compiling ``fn`` for argument types ``args``.

    Args:
        fn: a ``jax.jit`` function.
        args: its arguments as ``jax.ShapeDtypeStruct`` (or arrays) of the first call.
    """

    def __init__(self, fn, args) -> None:
        x64 = bool(jax.config.jax_enable_x64)

        def work():
            try:
                with jax.enable_x64(x64):
                    fn.lower(*args).compile()
            except Exception:  # noqa: BLE001 - the call compiles and reports it itself
                pass

        # Not a daemon: the interpreter waits for a compilation in flight at exit rather
        # than tearing the runtime down under it.
        self._thread = threading.Thread(target=work, name="neuroenv-compile-ahead")
        self._thread.start()

    def wait(self) -> None:
        """Block until the worker is done (at once when it is; a joined worker is dropped,
        so that later calls cost an attribute read, not a ``join``)."""
        thread = self._thread
        if thread is not None:
            thread.join()
            self._thread = None
