"""Every benchmark against the reference (jaxley 0.14) and NEURON, one table of ratios.

Run from the repository root: ``python -m bench [--quick] [--only NAME ...] [--json PATH]``
(or ``python bench/run.py ...``). Sections (``--only`` takes any of them, comma-separated or
repeated): ``ca1``, ``step``, ``gym``, ``first_step``, ``vmap``, ``network``, ``compile``,
``memory``, ``sharding``, ``swc``; ``--list`` prints them with their descriptions.

Ours and the reference (and NEURON where it applies) run in the same process: JAX and each
package are warmed up on a tiny unrelated model first, steady-state repeats alternate between
the packages so that load drift hits both alike, and every number is a median of repeats.
JAX's CPU async dispatch is off for the whole run (as in a process that a gymnasium env
started, ``neuroenv.cpu_dispatch``), for both packages alike; with
``JAX_CPU_ENABLE_ASYNC_DISPATCH=1`` set, JAX's default (async) is measured instead.
The main process runs in float64 (the dtype of the issue's reference numbers); in a full run
the float32 rows (gym env and vmapped throughput) come from one child process of this script
with x64 off, since ``jax_enable_x64`` is process-global. ``compile``, ``memory`` and
``sharding`` come from ``bench/compile_scaling.py``, ``bench/memory.py`` and
``bench/sharding_scaling.py`` (their ``measure(quick=...)``, each in subprocesses of its own)
when those exist.

``--quick`` (under 2 minutes on 2 idle cores): CA1 20 ms and 2 repeats, 500 step_fn calls,
100 env steps per vmapped rollout, a 100-cell 10 ms network, float64 only, and no
``compile``/``memory``/``sharding`` unless named with ``--only``. A full run takes tens of
minutes (the reference's ``read_swc`` of CA1 alone takes ~30 s, its network build minutes).

Every ratio is ours / reference of a time (lower is better for ours); the throughput row is
shown as time per solver step, so its ratio is reference / ours solver-steps per second.
"met" compares the ratio with the issue's target. Nothing about speed is asserted: the exit
status is 1 only if a correctness cross-check fails (traces not finite, or not matching the
reference or NEURON where the scripts compare them), 2 if a section raised an exception.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

#: "first call" rows time trace + compile + run: importing neuroenv turns on JAX's persistent
#: compilation cache for every package in the process (jaxley's programs too), so without
#: this a rerun reads compiled programs from disk and a code change looks like a slowdown
#: (issue 14: CA1 first call 489 vs 613 ms, equal with the cache off). The first-step rows
#: set up their own caches in child processes.
os.environ.setdefault("NEUROENV_COMPILATION_CACHE", "0")

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, interleaved, median, versions, warm_up_jax  # noqa: E402

SECTIONS = {
    "ca1": "CA1 SWC (ncomp 4, HH, 100 ms): jit integrate run + first call, jit grad; NEURON run",
    "step": "build_init_and_step_fn: jitted step_fn per call from Python, v read back "
            "(1 HH compartment); NEURON h.fadvance()",
    "gym": "gym.make('neuroenv/VoltageTarget-v0') env.step µs vs the reference's step_fn µs",
    "first_step": "gym.make -> first step in a fresh process, cold (empty compilation cache) "
                  "and warm, every base task (quick: VoltageTarget-v0; bench/first_step.py)",
    "vmap": "vmapped functional env, 1,024 envs: solver steps/s vs the reference's vmapped "
            "integrate (float64 here, float32 in a child process)",
    "dendrite": "vmapped DendriteControl-v0 env (CA1, 156 comps), 1,024 envs vs jaxley's "
                "vmapped integrate of the same cell, re-rooted (bench/dendrite_vmap.py)",
    "ppo": "rejax PPO (neuroenv.ppo.CONFIG) 131k steps: VoltageTarget-v0 vs gymnax "
           "Pendulum-v1, float32 child (bench/ppo_wall.py; quick: 16k steps)",
    "network": "1,000 HH point neurons, ~100,000 synapses, 100 ms (quick: 200 cells, 20 ms)",
    "compile": "compile time 10 -> 1000 branches (bench/compile_scaling.py)",
    "memory": "peak memory of grads over 10,000 CA1 steps (bench/memory.py)",
    "sharding": "sharding scaling (bench/sharding_scaling.py)",
    "swc": "read_swc load time and peak RSS, 20k-200k-point chains and branchy trees "
           "(bench/swc_scaling.py)",
    "float32": "float32 vs float64 max |ΔV|: uniform cell 10-0.01 µm, CA1, every task "
               "(bench/float32_accuracy.py; quick: a subset)",
    "extracellular": "extracellular recording / stimulation cost vs the plain run: CA1 and "
                     "1,024 vmapped ball-and-stick cells (bench/extracellular.py)",
    "dbs": "BasalGangliaDBS-v0 (Rubin & Terman network), 1,024 vmapped envs (quick: 64) vs "
           "the network's vmapped integrate (bench/dbs_env.py)",
}
#: sections that also run in float32 (in a child process), per mode
FLOAT32_SECTIONS = {"quick": (), "full": ("gym", "vmap", "dendrite")}
#: sections left out of ``--quick`` unless named with ``--only``
SLOW_SECTIONS = ("compile", "memory", "sharding", "swc", "float32", "ppo")
TASK = "VoltageTarget-v0"


# --------------------------------------------------------------------------- rows

def row(section, metric, dtype, ours, ref, unit, ref_name="jaxley", target=None,
        ratio=None, note="", absolute=False, floor=None):
    """One table row; ``ratio`` defaults to ours / ref; ``met`` = ratio <= target (with
    ``absolute``: ours <= target, in the row's unit); ``floor``: the arithmetic floor's
    value in the row's unit (bench/floor.py), shown as ours / floor."""
    if ratio is None and isinstance(ours, (int, float)) and isinstance(ref, (int, float)) \
            and ref:
        ratio = ours / ref
    value = ours if absolute else ratio
    met = None if target is None or value is None else bool(value <= target)
    return {"section": section, "metric": metric, "dtype": dtype, "ours": ours,
            "reference": ref, "unit": unit, "ref_name": ref_name, "ratio": ratio,
            "target": target, "absolute": absolute, "met": met, "note": note, "floor": floor,
            "floor_ratio": (ours / floor if floor and isinstance(ours, (int, float))
                            else None)}


def fmt_value(x, unit):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "s":
        return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"
    if unit == "us":
        return f"{x:.1f} µs"
    if unit == "ns":
        return f"{x:.2f} ns"
    if unit == "GB":
        return f"{x:.2f} GB"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def format_table(rows):
    cols = ["benchmark", "metric", "dtype", "ours", "reference", "ours/ref", "ours/floor",
            "target", "met", "note"]
    lines = []
    for r in rows:
        lines.append([
            r["section"], r["metric"], r["dtype"], fmt_value(r["ours"], r["unit"]),
            (f"{fmt_value(r['reference'], r['unit'])} ({r['ref_name']})"
             if r["reference"] is not None else "-"),
            "-" if r["ratio"] is None else f"{r['ratio']:.3f}",
            "-" if r.get("floor_ratio") is None else f"{r['floor_ratio']:.2f}",
            ("-" if r["target"] is None else
             f"ours <= {fmt_value(r['target'], r['unit'])}" if r.get("absolute") else
             f"<= {r['target']:g}"),
            {True: "yes", False: "no", None: "-"}[r["met"]], r["note"]])
    widths = [max(len(c), *(len(x[i]) for x in lines)) if lines else len(c)
              for i, c in enumerate(cols)]
    right = {3, 4, 5, 6}
    out = []

    def join(cells):
        return "  ".join((c.rjust(w) if i in right else c.ljust(w))
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out.append(join(cols))
    out.append("-" * len(out[0]))
    prev = None
    for cells in lines:
        if cells[0] == prev:
            cells = [""] + cells[1:]
        else:
            prev = cells[0]
        out.append(join(cells))
    return "\n".join(out)


def plain(x):
    """``x`` made JSON-friendly: arrays of more than one element and callables dropped."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items() if not callable(v)
                and not (isinstance(v, np.ndarray) and v.size > 1)}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.item() if x.size == 1 else None
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


# --------------------------------------------------------------------------- sections

def floor_of(workload, *args, **kwargs):
    """``bench.floor_workloads.<workload>(*args, **kwargs)``: the arithmetic floor of a
    workload (a dict of times), or {} if it cannot be measured (traceback printed)."""
    try:
        from bench import floor_workloads

        return getattr(floor_workloads, workload)(*args, **kwargs)
    except Exception:
        traceback.print_exc()
        return {}


def run_ca1(quick, dtype):
    from bench import swc_vs_reference as swc

    try:
        import neuron  # noqa: F401
        has_neuron = True
    except ImportError:
        has_neuron = False
    t_max = 20.0 if quick else 100.0
    res = swc.measure("morph_ca1_n120.swc", 4, t_max=t_max, repeats=2 if quick else 7,
                      grad=True, neuron=has_neuron,
                      cache_dir=Path(tempfile.gettempdir()) / "neuroenv-bench" if quick else None)
    o, r = res["ours"], res["reference"]
    res["floor"] = fl = floor_of("ca1", t_max, repeats=2 if quick else 7)
    name = f"CA1 ncomp=4 HH {t_max:g} ms"
    rows = [
        row(name, "jit integrate: run (median)", dtype, o["run"], r["run"], "s", target=0.7,
            note=f"{o['n_comp']} vs {r['n_comp']} comps; min ratio "
                 f"{o['run_min'] / r['run_min']:.2f}", floor=fl.get("run")),
        row(name, "jit integrate: first call", dtype, o["first"], r["first"], "s", target=0.5,
            note="trace + compile + run", floor=fl.get("first")),
        row(name, "jit grad(sum v): run (median)", dtype, o["grad_run"], r["grad_run"], "s",
            target=0.5, note=f"min ratio {o['grad_run_min'] / r['grad_run_min']:.2f}"),
        row(name, "jit grad(sum v): first call", dtype, o["grad_first"], r["grad_first"], "s"),
        row(name, "read_swc", dtype, o["read"], r["read"], "s",
            note="one call" if r["read"] is not None else "reference's cell from the --quick"
                                                        " pickle cache: not timed"),
    ]
    if "neuron" in res:
        n = res["neuron"]
        rows.insert(1, row(name, "run vs NEURON (median)", dtype, o["run"], n["run"], "s",
                           ref_name="NEURON", note="NEURON: finitialize + continuerun"))
    check = (f"max |ΔV| ours vs jaxley {res['dv_reference']:.2g} mV"
             + (f", mean |ΔV| ours vs NEURON {res['dv_neuron']:.2g} mV (bar "
                f"{swc.TOL_NEURON_MV})" if "dv_neuron" in res else ""))
    return rows, res["ok"], res, check


def run_step(quick, dtype):
    from bench import simulator_vs_reference as svr

    res = svr.measure_step_loop(n_calls=500 if quick else 2000, repeats=3 if quick else 7,
                                neuron=_has_neuron())
    o, r = res["ours"], res["reference"]
    res["floor"] = fl = floor_of("step_loop", res["n_calls"], res["repeats"])
    name = "step_fn loop, 1 HH comp"
    rows = [row(name, "µs per call (jit step_fn, v read back)", dtype, o["us"], r["us"], "us",
                target=0.5, note=f"{res['n_calls']} calls x {res['repeats']} repeats; min ratio"
                                 f" {o['us_min'] / r['us_min']:.2f}", floor=fl.get("us"))]
    if "neuron" in res:
        rows.append(row(name, "vs NEURON h.fadvance() + seg.v", dtype, o["us"],
                        res["neuron"]["us"], "us", ref_name="NEURON"))
    return rows, res["ok"], res, ""


def run_gym(quick, dtype):
    import numpy as np

    from bench import env_vs_reference as evr

    n_calls = 300 if quick else 2000
    repeats = 2 if quick else 5
    pkgs = evr.load_packages()
    ref_jx, ref_hh, ref_build = pkgs["reference"]
    compile_s, ref_each, _, ref_v = evr.prepare_step_fn(ref_jx, ref_hh, ref_build, n_calls)
    gym = evr.prepare_gym(n_calls)
    if "skipped" in gym:
        return [row("gym env.step", "skipped", dtype, None, None, "us",
                    note=gym["skipped"])], True, gym, ""
    samples = interleaved({"gym": gym["gym"], "reference": ref_each}, repeats)
    gym["close"]()
    res = {k: median(v) for k, v in samples.items()}
    res.update(first=gym["first"], ref_compile=compile_s, n_calls=n_calls, repeats=repeats)
    res["floor"] = fl = floor_of("gym_step", n_calls, repeats=repeats)
    ok = bool(np.all(np.isfinite(ref_v())))
    rows = [row("gym env.step (VoltageTarget)", "µs per env.step vs reference step_fn call",
                dtype, res["gym"], res["reference"], "us", target=100.0, absolute=True,
                note="1 env.step = 40 solver steps; step_fn = 1 (env's 3x4 cell, block each)",
                floor=fl.get("us"))]
    return rows, ok, res, ""


def run_first_step(quick, dtype):
    from bench import first_step

    res = first_step.measure(quick=quick)
    rows = []
    for r in res:
        cold, warm = r["cold"], r["warm"]
        for label, t in (("cold", cold), ("warm", warm)):
            rows.append(row("gym.make -> first step", f"{r['task']} {label}", "float32",
                            t["first_step_s"], None, "s",
                            target=(first_step.TARGET_WARM_S if label == "warm"
                                    else first_step.TARGET_COLD_S),
                            absolute=True,
                            note=(f"median of {len(r[label + '_runs'])}; "
                                  f"CPU {t['first_step_cpu_s']:.2f} s; make "
                                  f"{t['make_s']:.2f} + reset {t['reset_s']:.2f} + "
                                  f"step {t['step_s']:.2f} s; import {t['import_s']:.2f} s"
                                  + (f"; {r['cache_files']} cache entries" if label == "cold"
                                     else ""))))
    ok = all(isinstance(r["warm"]["reward"], float) and math.isfinite(r["warm"]["reward"])
             for r in res)
    return rows, ok, res, ""


def run_vmap(quick, dtype):
    import neuroenv
    from bench import env_vs_reference as evr

    env, params = neuroenv.make(TASK)
    res = evr.measure_vmap(env, params, rollout_steps=100 if quick else 1000,
                           repeats=2 if quick else 3, ours_integrate=not quick)
    rate = res["rate"]
    res["floor"] = fl = floor_of("vmap", evr.N_BATCH, res["int_t_max"], repeats=2 if quick else 3)
    target_tp = 1.0 if dtype == "float64" else 2.0
    tp = rate["functional"] / rate["reference"]
    name = f"vmap functional env x{evr.N_BATCH}"
    rows = [
        row(name, "ns per solver step (1/throughput)", dtype, 1e9 / rate["functional"],
            1e9 / rate["reference"], "ns", target=1 / target_tp,
            note=f"throughput ours/ref {tp:.2f} (target >= {target_tp:g}); ref = vmapped "
                 "integrate", floor=fl.get("ns_per_step")),
    ]
    if "ours integrate" in rate:
        rows.append(row(name, "diag: our vmapped integrate", dtype, 1e9 / rate["ours integrate"],
                        1e9 / rate["reference"], "ns", note=f"throughput ours/ref "
                        f"{rate['ours integrate'] / rate['reference']:.2f}",
                        floor=fl.get("ns_per_step")))
    check = f"{res['errors']} numerical-error flags in the functional env"
    if "dv_sub" in res:
        check += (f"; max |ΔV| vmapped integrate ours vs jaxley {res['dv_sub']:.2g} mV on "
                  f"{res['n_sub']} subthreshold rows")
    return rows, res["finite"], res, check


def run_dendrite(quick, dtype):
    from bench import dendrite_vmap as dv

    steps, repeats = (5, 2) if quick else (25, 3)
    res = dv.measure(rollout_steps=steps, repeats=repeats)
    rate = res["rate"]
    res["floor"] = fl = floor_of("dendrite", dv.N_BATCH, res["t_max"], repeats=repeats)
    name = f"vmap DendriteControl env x{dv.N_BATCH}"
    tp = rate["functional"] / rate["reference"]
    same = (f"same cell: max |ΔV| our vs jaxley's vmapped integrate {res['dv_sub']:.2g} mV "
            f"on {res['n_sub']} subthreshold rows")
    rows = [
        row(name, "ns per solver step (1/throughput)", dtype, 1e9 / rate["functional"],
            1e9 / rate["reference"], "ns", target=0.5 if dtype == "float32" else None,
            note=f"throughput ours/ref {tp:.2f} (target >= 2, f32); {same}",
            floor=fl.get("ns_per_step")),
        row(name, "diag: our vmapped integrate", dtype, 1e9 / rate["ours integrate"],
            1e9 / rate["reference"], "ns", floor=fl.get("ns_per_step"),
            note=f"{res['n_steps']} solver steps; first call ours env "
                 f"{res['first']['functional']:.1f} s, jaxley {res['first']['reference']:.1f} s"),
    ]
    check = (f"{res['errors']} numerical-error flags; {same} (all finite rows "
             f"{res['dv_all']:.2g} mV; jaxley not finite on {res['ref_not_finite']} rows)")
    return rows, res["finite"], res, check


def run_ppo(quick, dtype):
    from bench import ppo_wall

    res = ppo_wall.measure(quick=quick)
    volt, pend = ppo_wall.ENVS
    name = f"ppo rejax {res['timesteps'] // 1000}k steps"
    share = f"neuron {res['neuron_share']:.0%} of the run"
    rows = [row(name, f"{volt} train wall (median)", "float32", res["run"][volt],
                res["run"][pend], "s", ref_name=pend,
                note=f"{share}; first call (compile + run) {res['first'][volt]:.1f} s vs "
                     f"{res['first'][pend]:.1f} s; neuroenv.ppo.CONFIG, 1 seed")]
    return rows, True, res, ""


def run_network(quick, dtype):
    from bench import network_vs_reference as nvr

    n_cells, t_max = (100, 10.0) if quick else (1000, 100.0)
    res = nvr.measure(n_cells, t_max, repeats=3 if quick else 5, pieces=False,
                      agreement=True, connect_alone=False)
    o, r = res["ours_ref"]["ours"], res["ours_ref"]["reference"]
    res["floor"] = fl = floor_of("network", n_cells, t_max, repeats=3 if quick else 5)
    name = f"network {n_cells} HH cells {t_max:g} ms"
    syn = f"{o['n_syn']} vs {r['n_syn']} synapses"
    rows = [
        row(name, "jit integrate: run (median)", dtype, o["run"], r["run"], "s", target=0.5,
            note=f"{syn}; min ratio {o['run_min'] / r['run_min']:.2f}", floor=fl.get("run")),
        row(name, "jit integrate: first call", dtype, o["first"], r["first"], "s",
            floor=fl.get("first")),
        row(name, "build (Network + insert + sparse_connect)", dtype, o["build"], r["build"],
            "s"),
    ]
    agree = res["agreement"]
    check = (f"connectivity_matrix_connect agreement max |ΔV| {agree[0]:.2g} mV"
             if agree else "")
    return rows, res["ok"], res, check


def _optional(module):
    """``bench.<module>`` if it exists and has ``measure``, else None."""
    import importlib

    try:
        mod = importlib.import_module(f"bench.{module}")
    except ImportError as err:
        if f"bench.{module}" in str(err) or module in str(err):
            return None
        raise
    return mod if hasattr(mod, "measure") else None


def run_compile(quick, dtype):
    mod = _optional("compile_scaling")
    if mod is None:
        return [row("compile scaling", "not available", dtype, None, None, "s",
                    note="bench/compile_scaling.py missing")], True, None, ""
    rows_in = mod.measure(quick=quick)
    rows = []
    for r in rows_in:
        rows.append(row("compile scaling (integrate)", f"{r['branches']} branches: first call",
                        dtype, r["ours_first_call_s"], r["ref_first_call_s"], "s",
                        note=f"trace+compile ratio {r['ratio']:.2f}; max |ΔV| "
                             f"{r['max_abs_dv_mV']:.1g} mV"))
    if len(rows_in) > 1:
        s_o = mod.slope_per_100([{**r, "y": r["ours_trace_s"] + r["ours_compile_s"]}
                                 for r in rows_in], "y")
        s_r = mod.slope_per_100([{**r, "y": r["ref_trace_s"] + r["ref_compile_s"]}
                                 for r in rows_in], "y")
        rows.append(row("compile scaling (integrate)", "slope: trace+compile s / 100 branches",
                        dtype, s_o, s_r, "s", note="least squares over the branch counts"))
    ok = all(r.get("max_abs_dv_mV", 0.0) <= 1e-6 for r in rows_in)
    return rows, ok, rows_in, ""


def _generic(section, title, result, dtype):
    """Rows for a result of unknown shape: a list of row dicts (as here) is kept, a dict's
    scalar items (or each dict of a list) become one row with a compact note."""
    items = result if isinstance(result, list) else [result]
    rows, ok = [], True
    for item in items:
        if isinstance(item, dict) and {"section", "metric", "ratio"} <= set(item):
            rows.append(item)
            continue
        if not isinstance(item, dict):
            rows.append(row(title, str(item)[:60], dtype, None, None, ""))
            continue
        ok &= bool(item.get("ok", True))
        ours = item.get("ours", item.get("ours_s", item.get("ours_gb")))
        ref = item.get("reference", item.get("ref", item.get("ref_s", item.get("ref_gb"))))
        scalars = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in item.items() if isinstance(v, (int, float, str, bool))
                   and k not in ("ours", "reference", "ref", "ok")]
        rows.append(row(title, str(item.get("metric", item.get("name", section))), dtype,
                        ours if isinstance(ours, (int, float)) else None,
                        ref if isinstance(ref, (int, float)) else None, "",
                        target=item.get("target") if isinstance(item.get("target"), float)
                        else None, note=", ".join(scalars[:10])))
    return rows, ok


def run_memory(quick, dtype):
    mod = _optional("memory")
    if mod is None:
        return [row("memory", "not available", dtype, None, None, "",
                    note="bench/memory.py missing")], True, None, ""
    res = mod.measure(quick=quick)
    target_gb = getattr(mod, "TARGET_BYTES", 2e9) / 1e9

    def gb(r):
        return max(r.get("xla_total_bytes") or 0, r.get("peak_rss_delta_bytes") or 0) / 1e9

    refs = {str(r.get("checkpoint_lengths")): r for r in res if r.get("package") == "ref"}
    rows = []
    for r in res:
        if r.get("package") != "ours":
            continue
        ref = refs.get(str(r.get("checkpoint_lengths")))
        rows.append(row(f"memory: grad of {r['n_steps']} CA1 steps",
                        f"peak, checkpoint_lengths={r.get('checkpoint_lengths')}", dtype,
                        gb(r), gb(ref) if ref else None, "GB",
                        # The bound is for runs with checkpoint_lengths.
                        target=target_gb if r.get("checkpoint_lengths") else None,
                        absolute=True, note=f"max(XLA temp+args+out, peak RSS delta); "
                                            f"grad {r['grad_s']:.1f} s"))
    # Checkpointing must not change a package's gradient; the two packages' CA1 cells differ
    # (624 vs 620 compartments), so their gradients are compared only within a package.
    ok, counts = True, []
    for package in ("ours", "ref"):
        grads = [r["grad"] for r in res if "grad" in r and r.get("package") == package]
        ok &= all(abs(g - grads[0]) <= 1e-6 * max(abs(grads[0]), 1.0) for g in grads)
        counts.append(f"{package} {len(grads)}")
    return rows, ok, res, (f"dL/dgNa equal with and without checkpointing within each package"
                           f" ({', '.join(counts)} configurations): {ok}")


def run_sharding(quick, dtype):
    mod = _optional("sharding_scaling")
    if mod is None:
        return [row("sharding", "not available", dtype, None, None, "",
                    note="bench/sharding_scaling.py missing")], True, None, ""
    res = mod.measure(quick=quick)
    rows, ok = _generic("sharding", "sharding scaling", res, dtype)
    return rows, ok, res, ""


def run_swc(quick, dtype):
    mod = _optional("swc_scaling")
    if mod is None:
        return [row("swc scaling", "not available", dtype, None, None, "",
                    note="bench/swc_scaling.py missing")], True, None, ""
    res = mod.measure(quick=quick)
    rows = []
    for r in res:
        bounded = r["kind"] == "branchy" and r["points"] >= 200_000
        exponent = "" if r["exponent"] is None else f"; exponent {r['exponent']:.2f}"
        note = f"{r['branches']} branches; peak +{r['peak_extra_mb']:.0f} MB{exponent}"
        rows.append(row("swc scaling (read_swc)", f"{r['kind']} {r['points']} points: load",
                        "float64", r["seconds"], None, "s",
                        target=mod.TARGET_SECONDS if bounded else None, absolute=True,
                        note=note))
        if bounded:
            rows.append(row("swc scaling (read_swc)", f"{r['kind']} {r['points']} points: peak"
                            " extra RSS", "float64", r["peak_extra_mb"], None, "MB",
                            target=mod.TARGET_MB, absolute=True))
    return rows, True, res, ""  # speed is reported, not asserted (see the module docstring)


def run_float32(quick, dtype):
    mod = _optional("float32_accuracy")
    if mod is None:
        return [row("float32 accuracy", "not available", dtype, None, None, "mV",
                    note="bench/float32_accuracy.py missing")], True, None, ""
    res = mod.measure(quick=quick)
    rows = []
    for r in res:
        what = (f"uniform {r['length_um']:g} µm Ra {r['ra_ohm_cm']:g}"
                f"{' stim' if r['stimulated'] else ''}" if r["part"] == "uniform"
                else f"{r['part']} {r['config']}")
        note = (f"f32 invariance {r['f32_invariance_mV']:.2g} mV" if r["part"] == "uniform"
                else f"{r['n_comps']} compartments" if "n_comps" in r
                else f"{r['n_nodes']} nodes")
        rows.append(row("float32 accuracy", f"{what} ({r['solver']}): max |f32 - f64|",
                        "float32", r["f32_vs_f64_mV"], None, "mV", target=mod.TOLERANCE_MV,
                        absolute=True, note=note))
    # Reported against the tolerance, not asserted: spiking cells have a float32 floor
    # (see the table in docs/performance.md); tests/simulator/test_float32_accuracy.py asserts.
    return rows, True, res, ""


def run_extracellular(quick, dtype):
    mod = _optional("extracellular")
    if mod is None:
        return [row("extracellular", "not available", dtype, None, None, "s",
                    note="bench/extracellular.py missing")], True, None, ""
    res = mod.measure(quick=quick)
    plain = {r["workload"]: r["seconds"] for r in res if r["variant"] == "plain"}
    rows = [row("extracellular", f"{r['workload']} {r['variant']} ({r['n_steps']} steps)",
                dtype, r["seconds"], plain[r["workload"]], "s", ref_name="plain",
                target=mod.TARGET_RATIO, note=f"first call {r['first_call_s']:.2f} s")
            for r in res if r["variant"] != "plain"]
    return rows, True, res, ""


def run_dbs(quick, dtype):
    mod = _optional("dbs_env")
    if mod is None:
        return [row("dbs", "not available", dtype, None, None, "s",
                    note="bench/dbs_env.py missing")], True, None, ""
    r = mod.measure(quick=quick)
    steps = r["n_envs"] * r["solver_steps"]
    rows = [row("dbs", f"BasalGangliaDBS-v0 x{r['n_envs']}, {r['solver_steps']} steps",
                r["dtype"], r["env_s"], r["integrate_s"], "s", ref_name="integrate",
                note=f"{steps / r['env_s']:.3g} env solver steps/s; first call "
                     f"{r['first_call_s']:.1f} s")]
    return rows, True, r, ""


RUNNERS = {"dbs": run_dbs, "extracellular": run_extracellular, "float32": run_float32,
           "ca1": run_ca1,
           "step": run_step, "gym": run_gym,
           "first_step": run_first_step, "vmap": run_vmap, "network": run_network,
           "dendrite": run_dendrite, "ppo": run_ppo,
           "compile": run_compile,
           "memory": run_memory, "sharding": run_sharding, "swc": run_swc}


def _has_neuron():
    try:
        import neuron  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- main

def parse_only(values):
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    bad = [n for n in names if n not in SECTIONS]
    if bad:
        raise SystemExit(f"unknown section(s) {bad}; valid: {', '.join(SECTIONS)}")
    return [n for n in SECTIONS if n in names] if names else list(SECTIONS)


def run_sections(names, quick, dtype, log):
    """Run ``names`` in this process; returns (rows, ok, crashed, raw results, checks)."""
    import jax

    from bench import simulator_vs_reference as svr
    from bench._common import warm_up_package

    warm_up_jax()
    needs_pkgs = any(n in ("ca1", "step", "gym", "vmap", "network") for n in names)
    if needs_pkgs:
        t0 = time.perf_counter()
        for jx, _, HH in svr.load_packages().values():
            warm_up_package(jx, HH)
        log(f"[warm-up] JAX + both packages on a tiny model: {time.perf_counter() - t0:.1f} s"
            f" ({dtype}, {jax.devices()})")
    rows, ok, crashed, raw, checks = [], True, False, {}, []
    for name in names:
        t0 = time.perf_counter()
        try:
            r, good, res, check = RUNNERS[name](quick, dtype)
        except Exception:
            traceback.print_exc()
            crashed = True
            r, good, res, check = ([row(name, "FAILED (exception, see above)", dtype, None,
                                        None, "")], True, None, "")
        dt = time.perf_counter() - t0
        ok &= bool(good)
        rows += r
        raw[f"{name}/{dtype}"] = {"wall_s": dt, "ok": bool(good), "result": plain(res)}
        if check:
            checks.append(f"{name} ({dtype}): {check}{'' if good else '  MISMATCH'}")
        elif not good:
            checks.append(f"{name} ({dtype}): cross-check FAILED")
        log(f"[{name} {dtype}] {dt:.1f} s{'' if good else '  (cross-check FAILED)'}")
    return rows, ok, crashed, raw, checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (under 2 minutes)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help=f"run only these sections (comma-separated or repeated): "
                         f"{', '.join(SECTIONS)}")
    ap.add_argument("--json", metavar="PATH", help="write rows and raw results as JSON")
    ap.add_argument("--list", action="store_true", help="list the sections and exit")
    ap.add_argument("--no-float32", action="store_true",
                    help="skip the float32 child process")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help=argparse.SUPPRESS)  # the child process's mode
    args = ap.parse_args(argv)
    if args.list:
        for name, desc in SECTIONS.items():
            print(f"{name:9s} {desc}")
        return 0
    names = parse_only(args.only)
    skipped = []
    if args.quick and not args.only:  # the slow subprocess-based sections: full runs only
        skipped = [n for n in SLOW_SECTIONS if n in names]
        names = [n for n in names if n not in SLOW_SECTIONS]
    child = args.dtype == "float32"
    t_start = time.perf_counter()

    import jax

    jax.config.update("jax_enable_x64", not child)
    # Like a gymnasium user's process (the env switches JAX's CPU async dispatch off when it
    # starts JAX, neuroenv.cpu_dispatch), for every section and both packages alike;
    # JAX_CPU_ENABLE_ASYNC_DISPATCH=1 python -m bench measures with JAX's default instead.
    from neuroenv import cpu_dispatch

    cpu_dispatch.prefer_inline()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    def log(msg):
        print(msg, flush=True)

    if not child:
        log(versions())
        log(f"devices {jax.devices()}; {'quick' if args.quick else 'full'} run of "
            f"{', '.join(names)}; CPU dispatch "
            f"{'async' if cpu_dispatch.async_dispatch() else 'inline'}")
    rows, ok, crashed, raw, checks = run_sections(names, args.quick, args.dtype, log)
    rows += [row(n, "skipped in --quick (run it with --only " + n + ")", "-", None, None, "")
             for n in skipped]

    f32 = [] if child or args.no_float32 else [
        n for n in FLOAT32_SECTIONS["quick" if args.quick else "full"] if n in names]
    if f32:
        log(f"[float32] child process: {', '.join(f32)}")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "f32.json"
            cmd = [sys.executable, "-m", "bench", "--dtype", "float32", "--only", ",".join(f32),
                   "--json", str(out)] + (["--quick"] if args.quick else [])
            env = dict(os.environ, JAX_ENABLE_X64="0")
            env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in
                                                              [env.get("PYTHONPATH")] if p])
            proc = subprocess.run(cmd, cwd=REPO, env=env)
            if out.exists():
                sub = json.loads(out.read_text())
                rows += sub["rows"]
                raw.update(sub["raw"])
                checks += sub["checks"]
                ok &= sub["ok"]
                crashed |= sub["crashed"]
            else:
                crashed = True
                log(f"!! float32 child failed (exit {proc.returncode})")
    order = list(SECTIONS)
    rows.sort(key=lambda r: next((i for i, n in enumerate(order)
                                  if r["section"].lower().startswith(n[:3])), len(order)))
    wall = time.perf_counter() - t_start
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"versions": versions(), "quick": args.quick, "wall_s": wall, "ok": ok,
             "crashed": crashed, "rows": plain(rows), "raw": raw, "checks": checks},
            indent=1))
    if child:
        return 0
    print()
    print(format_table(rows))
    print()
    print("ours/ref: ratio of medians of time (lower = ours faster); vmap rows: time per solver"
          " step,\nso ours/ref = reference/ours throughput. 'first call' = trace + compile +"
          " one run. Timings on a\nshared machine are noisy: compare ratios within one run."
          " ours/floor: ours over the arithmetic floor\n(bench/floor.py: the same compartments"
          " x steps x batch through one fused kernel of gates,\nmembrane current and one tree"
          " solve per step, same dtype; measured after ours, same process).")
    print("cross-checks:")
    for c in checks:
        print(f"  {c}")
    print(f"total wall time {wall:.0f} s; exit {0 if ok and not crashed else (1 if not ok else 2)}")
    if not ok:
        return 1
    return 2 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
