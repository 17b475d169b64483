"""Accelerator benchmark (issue 18, part 3): one script, one Markdown table, ≤ 8 minutes.

Run on a GPU machine with only the repository installed::

    pip install -e ".[test]"
    python bench/device.py            # full sizes, time budget 480 s
    python bench/device.py --cpu      # CI-sized, on CPU, budget 110 s

Everything runs in float32 (JAX's default). Rows (every rate in cell solver steps per
second: envs or parameter sets x solver steps / seconds; compile excluded):

- ``env``: the vmapped functional env (``jax.jit(jax.vmap(rollout))`` of random actions,
  auto-reset on; :func:`bench.env_vs_reference.make_rollout`) at 1k / 16k / 128k envs
  (``--cpu``: 16 / 64) for VoltageTarget-v0 (3x4 HH cell) and DendriteControl-v0 (CA1,
  156 compartments); against jaxley's ``jax.jit(jax.vmap(integrate))`` of the same cell
  (VoltageTarget: :func:`bench.env_vs_reference.vmapped_integrate`; DendriteControl: a jaxley
  cell of the same branch tree with every compartment's geometry and channel columns copied)
  over as many stimulus amplitudes, for as many solver steps; and the arithmetic floor
  (:mod:`bench.floor`) of the same cell and batch.
- ``ca1``: CA1 (``neuroenv/data/morph_ca1_n120.swc``, ncomp 4, HH), a batch of 1,024
  ``HH_gNa`` values (``--cpu``: 4): ``jit(vmap(integrate))`` and ``jit(vmap(grad))`` of the
  summed soma voltage; the floor of the batched run.
- ``dhs``: the DHS level width sweep (``integrate(..., dhs_width=w)``, w = 1, 8, 32, 128) on
  the CA1 cell, one cell and the batch.

Columns: ours, jaxley and floor rates; ``ours/jaxley`` and ``ours/floor`` as ratios of
TIMES (below 1: ours faster); ``first call`` = trace + compile + one run of ours; ``peak
MiB`` = the device's ``memory_stats()["peak_bytes_in_use"]`` after the row (cumulative
over the process; "-" where the backend reports none, e.g. CPU).

Each section has a share of the time budget; a measurement is started only if its
predicted time (the previous size's time scaled by the batch) fits in what is left of its
section, and every skipped measurement is listed under the table. Asserts nothing about
speed; exits 1 if a result is not finite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

os.environ.setdefault("NEUROENV_COMPILATION_CACHE", "0")  # first calls compile
if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench._common import DELTA_T, REPO, median  # noqa: E402

MODES = {
    "gpu": dict(envs=(1024, 16384, 131072), env_steps=25, ca1_batch=1024, ca1_t=10.0,
                widths=(1, 8, 32, 128), repeats=3, budget=480.0),
    "cpu": dict(envs=(16, 64), env_steps=2, ca1_batch=4, ca1_t=0.5, widths=(1, 8, 32, 128),
                repeats=1, budget=110.0),
}
#: share of the budget per section (cumulative deadlines, in this order)
SHARES = {"env": 0.55, "ca1": 0.25, "dhs": 0.20}
TASKS = ("VoltageTarget-v0", "DendriteControl-v0")
CA1_SWC = REPO / "neuroenv" / "data" / "morph_ca1_n120.swc"
#: On accelerators the floor unrolls tree solves up to this many nodes (DendriteControl's).
UNROLL_ACCEL = 256


class Budget:
    """Cumulative per-section deadlines over ``total`` seconds; records what was skipped."""

    def __init__(self, total):
        self.start = time.perf_counter()
        self.deadline, acc = {}, 0.0
        for name, share in SHARES.items():
            acc += share
            self.deadline[name] = self.start + acc * total
        self.skipped = []

    def fits(self, section, predicted_s, what):
        left = self.deadline[section] - time.perf_counter()
        if predicted_s <= left:
            return True
        self.skipped.append(f"{section}: {what} (predicted {predicted_s:.0f} s, "
                            f"{max(left, 0):.0f} s left in the section)")
        return False


def peak_mib():
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:
        return None
    if not stats or "peak_bytes_in_use" not in stats:
        return None
    return stats["peak_bytes_in_use"] / 2**20


def measure(fn, arg, repeats):
    """(first call s, median s of ``repeats`` calls, output) of ``fn(arg)``, blocked."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(arg))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(arg))
        times.append(time.perf_counter() - t0)
    return first, median(times), out


class Predictor:
    """Predicts a program's wall time at batch ``n`` from its last measurement (linear)."""

    def __init__(self):
        self.last = {}

    def __call__(self, key, n, repeats):
        if key not in self.last:
            return 0.0
        n0, first, run = self.last[key]
        return (first - run) + run * (n / n0) * (repeats + 1)

    def record(self, key, n, first, run):
        self.last[key] = (n, first, run)


def result(section, what, n, steps, ours=None, jaxley=None, floor=None, first=None,
           note="", finite=True):
    """A table row; ``ours``/``jaxley``/``floor`` are seconds for ``n`` x ``steps``."""
    return {"section": section, "what": what, "n": n, "steps": steps, "ours": ours,
            "jaxley": jaxley, "floor": floor, "first": first, "peak_mib": peak_mib(),
            "note": note, "finite": bool(finite)}


# --------------------------------------------------------------------------- cells

def env_programs(task, env_steps):
    """{label: (fn, arg_of_n)} of the env rollout (``ours``), jaxley's vmapped integrate
    (``jaxley``) and the floor (``floor``) of ``task``'s cell for ``env_steps`` control
    periods (``arg_of_n(n)``: the batch of ``n``), and the solver steps per env."""
    import jaxley
    from jaxley.channels import HH as RefHH

    import neuroenv
    import simulator
    from bench import env_vs_reference as evr
    from bench import floor

    env, params = neuroenv.make(task)
    n_steps = env_steps * env.substeps
    t_max = n_steps * DELTA_T
    scale = float(params.action_scale)

    def amps(n):
        return jnp.linspace(-scale, scale, n)

    if task == "VoltageTarget-v0":
        ref = evr.vmapped_integrate(jaxley, RefHH, t_max, amps(2))
        ours_cell = evr.build_cell(simulator, simulator.channels.HH)  # soma recorded
    else:
        from bench import dendrite_vmap
        from neuroenv.tasks.dendrite_control import ca1_cell

        ours_cell, _, _ = ca1_cell(1)
        # The re-rooted copy (every junction at a parent's end, as jaxley attaches), the
        # same cell to 1.4e-11 mV in float64; its soma is compartment comp_of[0].
        copy, comp_of = dendrite_vmap.jaxley_copy(ours_cell)
        ref = dendrite_vmap.vmapped_integrate(jaxley, copy, int(comp_of[0]), t_max)
        ours_cell.delete_recordings()  # the task records 5 sites; jaxley's copy the soma
        ours_cell.branch(0).comp(0).record("v", verbose=False)
    # The floor's cell gets jaxley's stimulus (soma, from 1 ms, scaled by the batch's amps).
    ours_cell.branch(0).comp(0).stimulate(
        simulator.step_current(1.0, t_max, 1.0, DELTA_T, t_max), verbose=False)
    prob = floor.floor_problem(ours_cell)
    # On accelerators a sequential scan over a few hundred nodes costs a kernel launch per
    # node; the unrolled solve fuses (compile time grows with the nodes).
    unroll = None if jax.default_backend() == "cpu" else prob.n <= UNROLL_ACCEL
    runner = floor.floor_runner(prob, n_steps, DELTA_T, unroll=unroll)
    progs = {"ours": (evr.make_rollout(env, params, env_steps),
                      lambda n: jax.random.split(jax.random.key(0), n)),
             "jaxley": (ref, amps), "floor": (runner, amps)}
    return progs, n_steps


# --------------------------------------------------------------------------- sections

def run_batch(section, label, fn, arg, n, repeats, budget, predict, what):
    """Measure ``fn(arg)`` if its prediction fits: (first s, run s, finite, output) or
    None."""
    key = (section, what, label)
    if not budget.fits(section, predict(key, n, repeats), f"{what} {label} n={n}"):
        return None
    first, run, out = measure(fn, arg, repeats)
    predict.record(key, n, first, run)
    finite = all(bool(np.isfinite(np.asarray(x)).all()) for x in jax.tree.leaves(out))
    return first, run, finite, out


def same_cell_note(ref, flo):
    """Max |ΔV| (mV) of jaxley's and the floor's soma traces (n, 1, T + 1) over the rows
    that stay below -40 mV in both (float32 rounding shifts spike times)."""
    ref, flo = np.asarray(ref), np.asarray(flo)
    if ref.shape != flo.shape:
        return f"jaxley vs floor shapes differ {ref.shape} {flo.shape}"
    sub = (ref.max(axis=(1, 2)) < -40.0) & (flo.max(axis=(1, 2)) < -40.0)
    if not sub.any():
        return "no subthreshold row to compare jaxley and the floor"
    return (f"same cell: max |ΔV| jaxley vs floor {np.abs(ref[sub] - flo[sub]).max():.2g} mV"
            f" on {int(sub.sum())} subthreshold rows")


def section_env(cfg, budget, predict):
    rows = []
    for task in TASKS:
        if not budget.fits("env", 0.0, task):
            continue
        progs, n_steps = env_programs(task, cfg["env_steps"])
        for n in cfg["envs"]:
            got = {}
            for label, (fn, make_arg) in progs.items():  # ours first: nothing without it
                got[label] = run_batch("env", label, fn, make_arg(n), n, cfg["repeats"],
                                       budget, predict, task)
                if got["ours"] is None:
                    break
            if got["ours"] is None:
                continue
            check = (same_cell_note(got["jaxley"][3], got["floor"][3])
                     if got.get("jaxley") and got.get("floor") else "")
            rows.append(result("env", f"{task} vmapped env (random actions)", n, n_steps,
                               ours=got["ours"][1],
                               jaxley=got["jaxley"] and got["jaxley"][1],
                               floor=got["floor"] and got["floor"][1], first=got["ours"][0],
                               finite=all(g[2] for g in got.values() if g)
                               and bool(np.asarray(got["ours"][3][0]).all()),  # obs/reward ok
                               note="jaxley: vmapped integrate, soma step current; " + check))
    return rows


def ca1_programs(t_max, width=None):
    """(run, grad, cell) for CA1: ``g (B,) -> traces`` and ``-> d sum(v) / d gNa``."""
    import simulator
    from bench import swc_vs_reference as swc
    from simulator.channels import HH

    cell = swc.build(simulator, HH, CA1_SWC, 4, t_max)

    def sim(g):
        return simulator.integrate(cell, params=[{"HH_gNa": g[None]}], t_max=t_max,
                                   delta_t=DELTA_T, dhs_width=width)

    return (jax.jit(jax.vmap(sim)), jax.jit(jax.vmap(jax.grad(lambda g: jnp.sum(sim(g))))),
            cell)


def section_ca1(cfg, budget, predict):
    from bench import floor

    b, t_max = cfg["ca1_batch"], cfg["ca1_t"]
    n_steps = int(round(t_max / DELTA_T))
    run, grad, cell = ca1_programs(t_max)
    g = jnp.linspace(0.08, 0.16, b)
    rows = []
    runner = floor.floor_runner(floor.floor_problem(cell), n_steps, DELTA_T)
    fl = run_batch("ca1", "floor", runner, jnp.ones(b), b, cfg["repeats"], budget, predict,
                   "CA1")
    for what, fn in (("run", run), ("grad(sum v) wrt gNa", grad)):
        got = run_batch("ca1", what, fn, g, b, cfg["repeats"], budget, predict, "CA1")
        if got:
            rows.append(result("ca1", f"CA1 ncomp 4, {b} gNa values: {what}", b, n_steps,
                               ours=got[1], floor=fl[1] if fl and what == "run" else None,
                               first=got[0], finite=got[2] and (fl is None or fl[2]),
                               note=f"{t_max:g} ms"))
    return rows


def section_dhs(cfg, budget, predict):
    t_max = cfg["ca1_t"]
    n_steps = int(round(t_max / DELTA_T))
    rows = []
    for b in (1, cfg["ca1_batch"]):
        for w in cfg["widths"]:
            if not budget.fits("dhs", predict(("dhs", b), b, cfg["repeats"]),
                               f"width {w} batch {b}"):
                continue
            run, _, _ = ca1_programs(t_max, width=w)
            got = run_batch("dhs", str(w), run, jnp.linspace(0.08, 0.16, b), b,
                            cfg["repeats"], budget, predict, "CA1")
            if got:
                predict.record(("dhs", b), b, got[0], got[1])
                rows.append(result("dhs", f"CA1 run, dhs_width={w}", b, n_steps,
                                   ours=got[1], first=got[0], finite=got[2]))
    return rows


# --------------------------------------------------------------------------- table

def _rate(seconds, row):
    return None if not seconds else row["n"] * row["steps"] / seconds


def fmt_rate(x):
    if x is None:
        return "-"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g} {unit}/s"
    return f"{x:.3g} /s"


def format_table(rows, device):
    head = ("| section | workload | batch | solver steps | ours | jaxley | floor | ours/jaxley |"
            " ours/floor | first call (ours) | peak MiB | note |")
    out = [f"device: {device}; float32; rates in cell solver steps per second", "", head,
           "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ratio_j = r["ours"] / r["jaxley"] if r["ours"] and r["jaxley"] else None
        ratio_f = r["ours"] / r["floor"] if r["ours"] and r["floor"] else None
        cells = [r["section"], r["what"], str(r["n"]), str(r["steps"]),
                 fmt_rate(_rate(r["ours"], r)), fmt_rate(_rate(r["jaxley"], r)),
                 fmt_rate(_rate(r["floor"], r)),
                 "-" if ratio_j is None else f"{ratio_j:.2f}",
                 "-" if ratio_f is None else f"{ratio_f:.2f}",
                 "-" if r["first"] is None else f"{r['first']:.2f} s",
                 "-" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}",
                 r["note"] + ("" if r["finite"] else " NOT FINITE")]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", action="store_true", help="CI-sized run on the CPU")
    ap.add_argument("--budget", type=float, help="total seconds (default 480; --cpu 110)")
    ap.add_argument("--only", default=",".join(SHARES),
                    help=f"comma-separated sections of {', '.join(SHARES)}")
    args = ap.parse_args(argv)
    if args.cpu:
        jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_enable_x64", False)
    warnings.filterwarnings("ignore")
    cfg = MODES["cpu" if args.cpu else "gpu"]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SHARES]
    if bad:
        raise SystemExit(f"--only: unknown section(s) {bad}; valid: {', '.join(SHARES)}")
    budget = Budget(args.budget or cfg["budget"])
    predict = Predictor()
    device = f"{jax.devices()[0].device_kind} ({jax.default_backend()})"
    rows, crashed = [], []
    for name, fn in (("env", section_env), ("ca1", section_ca1), ("dhs", section_dhs)):
        if name not in only:
            budget.skipped.append(f"{name}: not in --only")
            continue
        t0 = time.perf_counter()
        try:
            rows += fn(cfg, budget, predict)
        except Exception:
            traceback.print_exc()
            crashed.append(name)
        print(f"[{name}] {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    print(format_table(rows, device))
    print()
    print("ours/jaxley, ours/floor: ratios of times for the same work (below 1: ours faster);"
          " first call = trace + compile + one run; peak MiB cumulative over the process.")
    print("skipped: " + ("; ".join(budget.skipped) if budget.skipped else "nothing"))
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
    total = time.perf_counter() - budget.start
    print(f"total wall time {total:.0f} s")
    ok = all(r["finite"] for r in rows)
    return 2 if crashed else (0 if ok else 1)


if __name__ == "__main__":
    raise SystemExit(main())
