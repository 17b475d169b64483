"""Compile time of ``integrate`` vs the number of branches: ours vs the reference (jaxley).

Cells: a balanced binary tree of ``n`` branches (``parents[i] = (i - 1) // 2``; ``--shape
random`` attaches each branch to a uniformly random earlier one, ``chain`` is an unbranched
line of branches, the deepest tree), 2 compartments per branch, HH everywhere,
``step_current(1, 3, 0.5)`` into the last branch, v recorded at ``branch(0).loc(0)``,
t_max 5 ms, float64, on JAX's default backend. Both packages build the cell with identical
calls.

Per package and cell, in a fresh subprocess (one for all rows, or one per row with
``--isolate``), after warming JAX and both packages up on a tiny unrelated model (so no
one-time cost of a process or package is counted),
``f = jax.jit(lambda p: integrate(cell, params=p, t_max=5))`` is timed as

* ``trace``: ``f.lower(params)`` (Python-side preparation, tracing, lowering to StableHLO),
* ``compile``: ``lowered.compile()`` (XLA),
* ``run``: the first call of the compiled executable; ``steady``: median of 3 more calls,
* ``first call`` = trace + compile + run, which is what the first ``f(params)`` costs.

With ``repeats`` > 1 (default 2, 1 with --quick) every repeat builds fresh cells and the
fastest repeat of each quantity is reported, which damps the noise of a shared machine.

``ratio`` is ours / reference of trace + compile. The slope (least squares over the
branch counts) is printed in seconds per 100 branches. Also printed: nodes (compartments
plus branch points in our numbering), the tree depth in branches, our DHS levels at width
1 (the CPU default: one level per non-root node) and 32, the reference's DHS levels, and
the number of operations of the lowered module (StableHLO), which shows whether the
traced program itself grows with the tree.

Run: ``python bench/compile_scaling.py [--quick] [--branches 10 100] [--shape balanced]``
(--quick: 10, 100, 1000 branches, ~1-1.5 min on 2 busy cores, most of it the reference's
cell construction, ~10 s per cell: it runs eager JAX ops that compile for every new size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRANCH_COUNTS = (10, 30, 100, 300, 1000)
QUICK_BRANCH_COUNTS = (10, 100, 1000)
SHAPES = ("balanced", "random", "chain")
NCOMP = 2
T_MAX = 5.0
DELTA_T = 0.025
STEADY_REPEATS = 3


# --------------------------------------------------------------------------- trees

def tree_parents(n_branches: int, shape: str = "balanced", seed: int = 0) -> list[int]:
    """Parent branch of every branch (``-1`` for the root)."""
    if shape == "balanced":
        return [-1] + [(i - 1) // 2 for i in range(1, n_branches)]
    if shape == "chain":
        return [-1] + list(range(n_branches - 1))
    if shape == "random":
        import numpy as np

        rng = np.random.default_rng(seed)
        return [-1] + [int(rng.integers(0, i)) for i in range(1, n_branches)]
    raise ValueError(f"unknown shape {shape!r}; valid: {SHAPES}")


def tree_depth(parents) -> int:
    """Depth of the branch tree: edges from the root to the deepest branch."""
    depth = [0] * len(parents)
    for i, p in enumerate(parents):  # parents precede children in all our shapes
        depth[i] = 0 if p < 0 else depth[p] + 1
    return max(depth)


def build_cell(jx, HH, parents):
    """The benchmark cell, built with the same calls in both packages."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=NCOMP), parents=parents)
    cell.insert(HH())
    current = jx.step_current(1.0, 3.0, 0.5, DELTA_T, T_MAX)
    cell.branch(len(parents) - 1).loc(1.0).stimulate(current, verbose=False)
    cell.branch(0).loc(0.0).record("v", verbose=False)
    return cell


# --------------------------------------------------------------------------- worker

def _worker(branch_counts, shape: str, repeats: int = 1) -> list[dict]:
    """Measure both packages on each cell, in this order (called in a fresh subprocess)."""
    import warnings

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jaxley
    import numpy as np
    from jaxley.channels import HH as RefHH

    import simulator
    from simulator.channels import HH as OurHH

    warnings.filterwarnings("ignore")
    pkgs = {"ours": (simulator, OurHH), "ref": (jaxley, RefHH)}

    # One-time costs of JAX and of each package, on a model unlike the benchmarked one.
    f = jax.jit(jax.grad(lambda x: jnp.sum(jax.lax.scan(lambda c, _: (jnp.tanh(c), c), x,
                                                        None, length=3)[1])))
    jax.block_until_ready(f(jnp.ones(3)))
    for jx, HH in pkgs.values():
        mod = jx.Cell(jx.Branch(jx.Compartment(), ncomp=3), parents=[-1, 0, 0])
        mod.insert(HH())
        mod.branch(1).loc(0.0).stimulate(jx.step_current(0.1, 0.5, 0.1, DELTA_T, 1.0),
                                         verbose=False)
        mod.branch(2).loc(1.0).record("v", verbose=False)
        jax.block_until_ready(jx.integrate(mod, t_max=1.0, delta_t=DELTA_T))
        warm = jax.jit(lambda p, jx=jx, mod=mod: jx.integrate(mod, params=p, t_max=1.0,
                                                              delta_t=DELTA_T))
        jax.block_until_ready(warm.lower(mod.get_parameters()).compile()(mod.get_parameters()))

    return [_measure_row(jax, np, pkgs, n, shape, repeats) for n in branch_counts]


def _measure_row(jax, np, pkgs, n_branches: int, shape: str, repeats: int) -> dict:
    import time

    from simulator.solvers.dhs_schedule import _depths, build_schedule

    parents = tree_parents(n_branches, shape)
    row = {"branches": n_branches, "shape": shape, "depth": tree_depth(parents),
           "ncomp": NCOMP, "t_max": T_MAX, "backend": jax.default_backend(),
           "repeats": repeats}
    traces = {}
    times = {label: {} for label in pkgs}
    # Each repeat builds fresh cells (no cache of a package is reused), alternating packages.
    for _ in range(repeats):
        for label, (jx, HH) in pkgs.items():
            t = times[label]
            t0 = time.perf_counter()
            cell = build_cell(jx, HH, parents)
            t.setdefault("build", []).append(time.perf_counter() - t0)
            params = cell.get_parameters()
            fn = jax.jit(lambda p, jx=jx, cell=cell: jx.integrate(cell, params=p, t_max=T_MAX,
                                                                  delta_t=DELTA_T))
            t0 = time.perf_counter()
            lowered = fn.lower(params)
            t.setdefault("trace", []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            compiled = lowered.compile()
            t.setdefault("compile", []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            v = jax.block_until_ready(compiled(params))
            t.setdefault("run", []).append(time.perf_counter() - t0)
            t.setdefault("first_call", []).append(t["trace"][-1] + t["compile"][-1]
                                                  + t["run"][-1])
            for _ in range(STEADY_REPEATS):
                t0 = time.perf_counter()
                jax.block_until_ready(compiled(params))
                t.setdefault("steady", []).append(time.perf_counter() - t0)
            traces[label] = np.asarray(v)
            row[f"{label}_hlo_ops"] = _count_ops(lowered.as_text())
            if label == "ours":
                tree = cell.base._compiled.numbering.tree_parent
                row["nodes"] = int(len(tree))
                row["node_depth"] = int(_depths(np.asarray(tree)).max())
                row["ours_dhs_levels_w1"] = build_schedule(tree, 1).n_levels
                row["ours_dhs_levels_w32"] = build_schedule(tree, 32).n_levels
            else:
                row["ref_nodes"] = int(len(cell.nodes))
                row["ref_dhs_levels"] = len(cell._dhs_solve_indexer["node_order_grouped"])
    for label, t in times.items():
        for key, values in t.items():
            # Fastest repeat: the least disturbed by other load on the machine.
            value = float(np.median(values)) if key == "steady" else min(values)
            row[f"{label}_{key}_s"] = value
    row["max_abs_dv_mV"] = float(np.max(np.abs(traces["ours"] - traces["ref"])))
    row["ratio"] = ((row["ours_trace_s"] + row["ours_compile_s"])
                    / (row["ref_trace_s"] + row["ref_compile_s"]))
    return row


def _count_ops(stablehlo: str) -> int:
    """Operations in a StableHLO module (lines that define a value), constants included."""
    return sum(1 for line in stablehlo.splitlines() if " = " in line)


def _run_worker(branch_counts, shape: str, repeats: int, timeout: float = 1800) -> list[dict]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--shape", shape, "--repeats",
           str(repeats), "--worker",
           *(str(n) for n in branch_counts)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"worker for {branch_counts} branches failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- public API

def measure(branch_counts=BRANCH_COUNTS, quick: bool = False, shape: str = "balanced",
            isolate: bool = False, repeats: int | None = None) -> list[dict]:
    """Compile-time rows (one dict per branch count, keys as in the module docstring).

    The rows are measured in one fresh subprocess (after its warm-up), or with ``isolate``
    in one fresh subprocess each (slower: every process pays its imports and warm-up).
    ``quick`` replaces the default branch counts by (10, 100, 1000); explicitly given
    counts are kept. ``repeats`` (default 1 with ``quick``, else 2): fresh cells per
    package and branch count; times are the fastest repeat's (steady: median).
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; valid: {SHAPES}")
    if quick and tuple(branch_counts) == BRANCH_COUNTS:
        branch_counts = QUICK_BRANCH_COUNTS
    counts = [int(n) for n in branch_counts]
    if repeats is None:
        repeats = 1 if quick else 2
    if isolate:
        return [row for n in counts for row in _run_worker([n], shape, repeats)]
    return _run_worker(counts, shape, repeats)


def slope_per_100(rows, key: str) -> float:
    """Least-squares slope of ``key`` against the branch count, in s per 100 branches."""
    xs = [r["branches"] for r in rows]
    ys = [r[key] for r in rows]
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def format_table(rows) -> str:
    cols = [
        ("branches", "branches", "{:8d}"), ("nodes", "nodes", "{:6d}"),
        ("depth", "depth", "{:5d}"), ("ours_dhs_levels_w1", "levels w1", "{:9d}"),
        ("ours_dhs_levels_w32", "w32", "{:4d}"), ("ref_dhs_levels", "ref lv", "{:6d}"),
        ("ours_trace_s", "ours trace s", "{:12.2f}"),
        ("ours_compile_s", "ours compile s", "{:14.2f}"),
        ("ours_first_call_s", "ours first s", "{:12.2f}"),
        ("ref_trace_s", "ref trace s", "{:11.2f}"),
        ("ref_compile_s", "ref compile s", "{:13.2f}"),
        ("ref_first_call_s", "ref first-call s", "{:16.2f}"),
        ("ratio", "ratio", "{:5.2f}"),
        ("ours_hlo_ops", "ours HLO ops", "{:12d}"), ("ref_hlo_ops", "ref HLO ops", "{:11d}"),
    ]
    header = " | ".join(title for _, title, _ in cols)
    lines = [header, "-" * len(header)]
    for r in rows:
        cells = []
        for key, title, fmt in cols:
            cells.append(fmt.format(r[key]).rjust(len(title)))
        lines.append(" | ".join(cells))
    if len(rows) >= 2:
        lines.append("")
        lines.append("least-squares slope, s per 100 branches:")
        for key in ("ours_trace_s", "ours_compile_s", "ours_first_call_s", "ref_trace_s",
                    "ref_compile_s", "ref_first_call_s"):
            lo, hi = rows[0], rows[-1]
            lines.append(f"  {key:18s} {slope_per_100(rows, key):+8.3f}   "
                         f"({lo[key]:.2f} s at {lo['branches']} -> {hi[key]:.2f} s at"
                         f" {hi['branches']} branches)")
    lines.append("")
    lines.append("cell build (s): " + ", ".join(
        f"{r['branches']}: ours {r['ours_build_s']:.2f} / ref {r['ref_build_s']:.2f}"
        for r in rows))
    lines.append("steady run (s): " + ", ".join(
        f"{r['branches']}: ours {r['ours_steady_s']:.3f} / ref {r['ref_steady_s']:.3f}"
        for r in rows))
    lines.append("max |ours - ref| (mV): " + ", ".join(
        f"{r['branches']}: {r['max_abs_dv_mV']:.1e}" for r in rows))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10, 100 and 1000 branches only")
    ap.add_argument("--branches", type=int, nargs="+", default=None, help="branch counts")
    ap.add_argument("--shape", choices=SHAPES, default="balanced")
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON")
    ap.add_argument("--repeats", type=int, default=None,
                    help="fresh cells per row and package (default 1 with --quick, else 2)")
    ap.add_argument("--isolate", action="store_true", help="one fresh process per row")
    ap.add_argument("--worker", type=int, nargs="+", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.shape, args.repeats or 1)))
        return 0
    counts = tuple(args.branches) if args.branches else BRANCH_COUNTS
    rows = measure(counts, quick=args.quick, shape=args.shape, isolate=args.isolate,
                   repeats=args.repeats)
    import importlib.metadata as md

    print(f"jax {md.version('jax')}, jaxley {md.version('jaxley')}, {rows[0]['backend']}, "
          "float64; "
          f"{args.shape} tree of branches x {NCOMP} compartments, HH, t_max {T_MAX} ms; "
          + ("one fresh process per row" if args.isolate else "rows in one fresh process")
          + f"; fastest of {rows[0]['repeats']} repeat(s) with fresh cells")
    print(format_table(rows))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
