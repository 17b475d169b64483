"""Per-solve time of small tree systems: scanned DHS sweep vs dense LU.

Run: ``python bench/small_tree_solves.py [32|64]`` (float32 or float64, default 64). Prints,
per tree size, the median time per solve inside a jitted loop of 200 solves, per jitted
call, and the error relative to the scanned sweep (max |x - x_scan| / max |x_scan|).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOOP = 200
CALLS = 50


def _solvers(n, dtype, rng):
    from simulator.solvers.dense import dense_tree_matrix
    from simulator.solvers.dhs import build_schedule, tree_solve_row_sums

    par = np.array([-1] + [int(rng.integers(max(0, i - 3), i)) for i in range(1, n)])
    sch = build_schedule(par, 1)
    lower = jnp.asarray(np.where(par >= 0, -rng.uniform(1, 1e3, n), 0), dtype)
    upper = lower * 1.1
    rs = jnp.asarray(rng.uniform(0.5, 2, n), dtype)
    child_up = np.zeros(n)
    np.add.at(child_up, par[par >= 0], np.asarray(upper)[par >= 0])
    diag = rs - jnp.where(jnp.asarray(par >= 0), lower, 0) - jnp.asarray(child_up, dtype)
    matrix = dense_tree_matrix(par, diag, lower, upper)
    return {"dhs_scan": lambda b: tree_solve_row_sums(sch, rs, lower, upper, b),
            "dense_lu": lambda b: jnp.linalg.solve(matrix, b)}


def measure(n, dtype):
    rng = np.random.default_rng(0)
    solvers = _solvers(n, dtype, rng)
    b0 = jnp.asarray(rng.normal(size=n), dtype)
    ref = np.asarray(solvers["dhs_scan"](b0))
    looped = {k: jax.jit(lambda b, f=f: jax.lax.fori_loop(0, LOOP, lambda i, x: f(x) * 0.5 + b, b))
              for k, f in solvers.items()}
    single = {k: jax.jit(f) for k, f in solvers.items()}
    err = {k: float(np.abs(np.asarray(f(b0)) - ref).max() / np.abs(ref).max())
           for k, f in single.items()}
    in_loop, per_call = {k: [] for k in solvers}, {k: [] for k in solvers}
    for f in (*looped.values(), *single.values()):
        jax.block_until_ready(f(b0))
    for _ in range(7):
        for k in solvers:
            t0 = time.perf_counter()
            jax.block_until_ready(looped[k](b0))
            in_loop[k].append((time.perf_counter() - t0) / LOOP * 1e6)
            t0 = time.perf_counter()
            for _ in range(CALLS):
                jax.block_until_ready(single[k](b0))
            per_call[k].append((time.perf_counter() - t0) / CALLS * 1e6)
    return {k: (statistics.median(in_loop[k]), statistics.median(per_call[k]), err[k])
            for k in solvers}


def main():
    bits = sys.argv[1] if len(sys.argv) > 1 else "64"
    jax.config.update("jax_enable_x64", bits == "64")
    dtype = jnp.float64 if bits == "64" else jnp.float32
    for n in (4, 8, 16, 32, 64, 128):
        row = measure(n, dtype)
        print(n, " | ".join(f"{k}: in-loop {a:.2f} us, call {b:.1f} us, err {e:.1e}"
                            for k, (a, b, e) in row.items()))


if __name__ == "__main__":
    main()
