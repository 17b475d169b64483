"""Shared helpers of the benchmark scripts: timing, interleaved repeats, warm-ups, versions.

Every timing here includes ``jax.block_until_ready`` of the result. Steady-state repeats of
two (or more) competing programs alternate their order (``interleaved``) so that drift in the
machine's load hits all of them alike; summaries are medians.
"""

from __future__ import annotations

import importlib.metadata
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The test morphologies (SWC files kept in the repository, see tests/data/README.md).
SWC_DIR = REPO / "tests" / "data" / "swc"
DELTA_T = 0.025


def ensure_repo_on_path() -> None:
    """Make ``simulator``, ``neuroenv`` and ``bench`` importable when a script is run by path
    (``python bench/x.py`` puts ``bench/`` on ``sys.path``, not the repository root)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def median(xs):
    return statistics.median(xs)


def timed(fn, *args):
    """(seconds, result) of one call ``fn(*args)``, including ``block_until_ready``."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, out


def step_fn_setup(module, build_init_and_step_fn, n_calls):
    """A jitted ``step_fn`` of ``module`` (either package) ready for a Python loop.

    Returns ``(step, states, all_params, ext_steps, external_inds)``: ``ext_steps`` holds the
    per-step externals of ``n_calls`` calls, pre-sliced (cycling through the module's
    samples) so that a timed loop measures ``step_fn`` only.
    """
    import jax
    import jax.numpy as jnp

    params = module.get_parameters()
    module.to_jax()
    externals = {k: jnp.asarray(v) for k, v in module.externals.items()}
    external_inds = module.external_inds.copy()
    init_fn, step_fn = build_init_and_step_fn(module)
    states, all_params = init_fn(params, delta_t=DELTA_T)
    n_t = min(v.shape[1] for v in externals.values())
    ext_steps = [{k: v[:, i % n_t] for k, v in externals.items()} for i in range(n_calls)]
    jax.block_until_ready(ext_steps)
    return jax.jit(step_fn), states, all_params, ext_steps, external_inds


def timed_plain(fn, *args):
    """(seconds, result) of one call of a function that is not JAX (NEURON, NumPy)."""
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def per_call_times(fn, n):
    """Seconds of each of ``n`` individually timed calls ``fn()`` (``fn`` blocks itself)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def per_call_us(fn, n):
    """Median µs of ``n`` individually timed calls of ``fn()``."""
    return median(per_call_times(fn, n)) * 1e6


def interleaved(fns, repeats):
    """``{label: [seconds, ...]}`` of ``repeats`` calls of each zero-argument ``fns[label]``
    (which returns its own duration in seconds), alternating the order every repeat."""
    labels = list(fns)
    out = {label: [] for label in labels}
    for rep in range(repeats):
        for label in (labels if rep % 2 == 0 else labels[::-1]):
            out[label].append(fns[label]())
    return out


def timer(fn, *args):
    """Zero-argument callable returning the seconds of one blocked call ``fn(*args)``."""
    return lambda: timed(fn, *args)[0]


def warm_up_jax():
    """Pay JAX's one-time costs (backend start, first jit/scan/grad) before any timing."""
    import jax
    import jax.numpy as jnp

    f = jax.jit(jax.grad(lambda x: jnp.sum(jax.lax.scan(lambda c, _: (jnp.tanh(c), c), x,
                                                        None, length=3)[1])))
    jax.block_until_ready(f(jnp.ones(3)))


def warm_up_package(jx, HH):
    """Pay a package's one-time costs (first trace of its helpers) on a model unlike the
    benchmarked ones (a 2-compartment branch, 1 ms); returns the seconds it took."""
    import jax

    t0 = time.perf_counter()
    mod = jx.Branch(jx.Compartment(), ncomp=2)
    mod.insert(HH())
    mod.comp(0).stimulate(jx.step_current(0.1, 0.5, 0.1, DELTA_T, 1.0), verbose=False)
    mod.comp(1).record("v", verbose=False)
    jax.block_until_ready(jx.integrate(mod, t_max=1.0, delta_t=DELTA_T))
    return time.perf_counter() - t0


def versions() -> str:
    import jax

    def v(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "-"

    return (f"python {platform.python_version()}  jax {jax.__version__}  jaxlib {v('jaxlib')}  "
            f"jaxley {v('jaxley')}  neuroenv {v('neuroenv')}  NEURON {v('NEURON')}")


def dtype_name() -> str:
    import jax

    return "float64" if jax.config.jax_enable_x64 else "float32"
