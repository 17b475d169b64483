"""Peak memory of reverse-mode gradients through long runs, with and without checkpointing.

Cell: CA1 (``morph_ca1_n120.swc``, ``read_swc(ncomp=4)``), HH everywhere, ``HH_gNa``
trainable (one global value), ``step_current(1, 10, 0.5)`` into ``branch(0).loc(0.5)``, v
recorded there; 10,000 steps (delta_t 0.025 ms, t_max = 9999 · 0.025 ms), float64, CPU.
Loss: the sum of the recorded voltage. Ours (``simulator``) and the reference (jaxley)
build it with identical calls.

Every configuration (package x ``checkpoint_lengths``) runs in a fresh subprocess, which
reports

* XLA's ``memory_analysis()`` of ``jax.jit(jax.grad(loss)).lower(params).compile()``:
  temp, argument and output bytes (temp is the buffer for the scan's residuals),
* the peak RSS during the gradient call minus the RSS just before it (after compiling;
  the peak is reset with ``/proc/self/clear_refs`` where the kernel allows, else it is
  ``ru_maxrss``, which then also covers compilation),
* wall time of trace + lower, of XLA compile and of the (first) gradient call, and the
  gradient itself (it must agree between configurations).

The two cells are not identical: ours traces the SWC file as NEURON's Import3d does (156
branches, 624 compartments, frustum-integrated geometry), the reference as it does (155
branches, 620 compartments), so the gradients agree across configurations of one package,
not between the packages (they differ by ~2%).

The reference's ``read_swc`` takes ~50 s for this cell; its cell is therefore read once per
``measure`` call and handed to the later reference workers as a pickle.

Run: ``python bench/memory.py [--quick] [--no-reference] [--steps N]``
(--quick: ours with checkpoint_lengths (100, 100) only, ~30 s on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWC = ROOT / "tests" / "data" / "swc" / "morph_ca1_n120.swc"
NCOMP = 4
DELTA_T = 0.025
N_STEPS = 10_000
TARGET_BYTES = 2e9
#: (package, checkpoint_lengths) of the full run, in order.
CONFIGS = (
    ("ours", None),
    ("ours", (100, 100)),
    ("ours", (10, 10, 100)),
    ("ref", None),
    ("ref", (100, 100)),
    ("ref", (10, 10, 100)),
)
QUICK_CONFIGS = (("ours", (100, 100)),)


def t_max_for(n_steps: int) -> float:
    """t_max (ms) that gives ``n_steps`` steps: ``int(t_max // delta_t + 1) == n_steps``."""
    return (n_steps - 1) * DELTA_T


def checkpoints_for(lengths, n_steps: int):
    """Scale the default lengths to a shorter run (their product must cover n_steps)."""
    if lengths is None or n_steps == N_STEPS:
        return lengths
    import math

    inner = max(1, math.ceil(n_steps / math.prod(lengths[:-1])))
    return (*lengths[:-1], inner)


def build_cell(jx, HH, t_max: float, cell=None):
    """The benchmark cell (``cell``: an already read SWC cell of package ``jx``)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        if cell is None:
            cell = jx.read_swc(str(SWC), ncomp=NCOMP, backend="neuron")
        cell.insert(HH())
        cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, 10.0, 0.5, DELTA_T, t_max))
        cell.branch(0).loc(0.5).record("v")
        cell.make_trainable("HH_gNa")
    return cell


# --------------------------------------------------------------------------- worker

def _proc_status(field: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` entry of /proc/self/status, in bytes (None if unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _worker(package: str, lengths, n_steps: int, ref_pickle: str | None) -> dict:
    import gc
    import pickle
    import resource
    import time
    import warnings

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    warnings.filterwarnings("ignore")
    if package == "ours":
        import simulator as jx
        from simulator.channels import HH
    else:
        import jaxley as jx
        from jaxley.channels import HH
    t_max = t_max_for(n_steps)
    t0 = time.perf_counter()
    swc_cell = None
    if package == "ref" and ref_pickle and os.path.exists(ref_pickle):
        with open(ref_pickle, "rb") as f:
            swc_cell = pickle.load(f)
    elif package == "ref" and ref_pickle:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            swc_cell = jx.read_swc(str(SWC), ncomp=NCOMP, backend="neuron")
        with open(ref_pickle + ".tmp", "wb") as f:
            pickle.dump(swc_cell, f)
        os.replace(ref_pickle + ".tmp", ref_pickle)
    cell = build_cell(jx, HH, t_max, swc_cell)
    t_build = time.perf_counter() - t0
    params = cell.get_parameters()
    kwargs = {} if lengths is None else {"checkpoint_lengths": list(lengths)}

    def loss(p):
        return jnp.sum(jx.integrate(cell, params=p, t_max=t_max, delta_t=DELTA_T, **kwargs))

    t0 = time.perf_counter()
    lowered = jax.jit(jax.grad(loss)).lower(params)
    t_trace = time.perf_counter() - t0
    t0 = time.perf_counter()
    compiled = lowered.compile()
    t_compile = time.perf_counter() - t0
    mem = compiled.memory_analysis()

    gc.collect()
    rss_before = _proc_status("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    reset = _reset_peak_rss() and _proc_status("VmHWM") is not None
    t0 = time.perf_counter()
    grad = jax.block_until_ready(compiled(params))
    t_grad = time.perf_counter() - t0
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = _proc_status("VmHWM") if reset else maxrss_after
    leaves = [np.asarray(x).ravel() for x in jax.tree_util.tree_leaves(grad)]
    return {
        "package": package,
        "backend": jax.default_backend(),
        "checkpoint_lengths": None if lengths is None else list(lengths),
        "n_steps": n_steps,
        "nodes": int(len(cell.nodes)),
        "build_s": t_build,
        "trace_s": t_trace,
        "compile_s": t_compile,
        "grad_s": t_grad,
        "xla_temp_bytes": int(mem.temp_size_in_bytes),
        "xla_argument_bytes": int(mem.argument_size_in_bytes),
        "xla_output_bytes": int(mem.output_size_in_bytes),
        "xla_total_bytes": int(mem.temp_size_in_bytes + mem.argument_size_in_bytes
                               + mem.output_size_in_bytes),
        "rss_before_bytes": rss_before,
        "peak_rss_bytes": peak,
        "peak_rss_delta_bytes": None if rss_before is None else peak - rss_before,
        "peak_reset": reset,
        "ru_maxrss_before_bytes": maxrss_before,
        "ru_maxrss_after_bytes": maxrss_after,
        "grad": float(np.concatenate(leaves)[0]),
    }


def _run_worker(package, lengths, n_steps, ref_pickle, timeout: float = 1200) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", package,
           "none" if lengths is None else ",".join(map(str, lengths)), str(n_steps),
           ref_pickle or ""]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {package} {lengths} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- public API

def measure(quick: bool = False, configs=None, n_steps: int = N_STEPS,
            reference: bool = True) -> list[dict]:
    """One dict per configuration (keys as in ``_worker``), each from a fresh subprocess.

    ``configs``: ``(package, checkpoint_lengths)`` pairs, package ``"ours"`` or ``"ref"``;
    default ``CONFIGS`` (``QUICK_CONFIGS`` with ``quick``), the reference's left out unless
    ``reference``. Lengths are rescaled (last entry) when ``n_steps`` is not 10,000.
    """
    if configs is None:
        configs = QUICK_CONFIGS if quick else CONFIGS
    configs = [(p, c) for p, c in configs if reference or p != "ref"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        ref_pickle = os.path.join(tmp, "ca1_ref.pkl")
        for package, lengths in configs:
            if package not in ("ours", "ref"):
                raise ValueError(f"unknown package {package!r}")
            rows.append(_run_worker(package, checkpoints_for(lengths, n_steps), n_steps,
                                    ref_pickle))
    return rows


def _mb(x) -> str:
    return "n/a" if x is None else f"{x / 1e6:.1f}"


def format_table(rows) -> str:
    header = (f"{'package':8s} | {'checkpoint_lengths':18s} | {'steps':>6s} | "
              f"{'XLA temp MB':>11s} | {'XLA total MB':>12s} | {'peak RSS Δ MB':>13s} | "
              f"{'peak RSS MB':>11s} | "
              f"{'trace s':>7s} | {'compile s':>9s} | {'grad s':>6s} | {'dloss/dgNa':>12s}")
    lines = [header, "-" * len(header)]
    for r in rows:
        cl = "none" if r["checkpoint_lengths"] is None else str(tuple(r["checkpoint_lengths"]))
        lines.append(
            f"{r['package']:8s} | {cl:18s} | {r['n_steps']:6d} | "
            f"{_mb(r['xla_temp_bytes']):>11s} | {_mb(r['xla_total_bytes']):>12s} | "
            f"{_mb(r['peak_rss_delta_bytes']):>13s} | {_mb(r['peak_rss_bytes']):>11s} | "
            f"{r['trace_s']:7.2f} | "
            f"{r['compile_s']:9.2f} | {r['grad_s']:6.2f} | {r['grad']:12.6g}")
    lines.append("")
    for r in rows:
        if r["checkpoint_lengths"] is not None:
            ok = max(r["xla_total_bytes"], r["peak_rss_delta_bytes"] or 0) < TARGET_BYTES
            lines.append(f"{r['package']} {tuple(r['checkpoint_lengths'])}: "
                         f"{'meets' if ok else 'MISSES'} the < 2 GB target")
    if rows and not all(r["peak_reset"] for r in rows):
        lines.append("note: peak RSS from ru_maxrss (could not reset the peak): includes"
                     " compilation")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="ours with checkpoint_lengths (100, 100) only")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference")
    ap.add_argument("--steps", type=int, default=N_STEPS, help="number of steps")
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON")
    ap.add_argument("--worker", nargs=4, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        package, lengths, steps, ref_pickle = args.worker
        lengths = None if lengths == "none" else tuple(int(c) for c in lengths.split(","))
        print(json.dumps(_worker(package, lengths, int(steps), ref_pickle or None)))
        return 0
    rows = measure(quick=args.quick, n_steps=args.steps, reference=not args.no_reference)
    import importlib.metadata as md

    print(f"jax {md.version('jax')}, jaxley {md.version('jaxley')}, {rows[0]['backend']}, "
          f"float64; CA1 "
          f"(ncomp {NCOMP}, {rows[0]['nodes']} nodes), HH, grad of sum(v) w.r.t. HH_gNa, "
          f"delta_t {DELTA_T} ms; one fresh process per row")
    print(format_table(rows))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
