"""Benchmark: ``simulator`` (ours) vs the reference (jaxley 0.14) on the same models.

Both packages build the same models in the same process (float64, CPU by default), the
voltage traces are checked to agree, and one table of timings is printed.

Run: ``python bench/simulator_vs_reference.py [--quick] [--t-max MS] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import (  # noqa: E402
    interleaved,
    median,
    per_call_times,
    step_fn_setup,
    timed,
    versions,
    warm_up_jax,
    warm_up_package,
)

DELTA_T = 0.025
TOL_MV = 1e-6


# --------------------------------------------------------------------------- packages

def load_packages():
    """Return {label: (jx, build_init_and_step_fn, HH)} for ours and the reference."""
    # ``pkg.integrate`` is the function (the package re-exports it), so import the step
    # builder by name from the submodule.
    import jaxley
    from jaxley.channels import HH as RefHH
    from jaxley.integrate import build_init_and_step_fn as ref_build

    import simulator
    from simulator.channels import HH as OurHH
    from simulator.integrate import build_init_and_step_fn as our_build

    return {
        "ours": (simulator, our_build, OurHH),
        "reference": (jaxley, ref_build, RefHH),
    }


# --------------------------------------------------------------------------- models

def build_model(name, jx, HH, t_max):
    """Build a fresh module of model ``name`` with package ``jx`` (identical calls)."""
    current = jx.step_current(1.0, 5.0, 1.0, DELTA_T, t_max)
    if name == "compartment":
        mod = jx.Compartment()
        mod.insert(HH())
        mod.stimulate(current, verbose=False)
        mod.record("v", verbose=False)
    elif name == "cell 3x8":
        comp = jx.Compartment()
        branch = jx.Branch(comp, ncomp=8)
        mod = jx.Cell(branch, parents=[-1, 0, 0])
        mod.set("radius", 5.0)
        mod.set("length", 10.0)
        mod.set("axial_resistivity", 1000.0)
        mod.set("capacitance", 7.0)
        mod.insert(HH())
        mod.branch(1).loc(0.0).stimulate(current, verbose=False)
        mod.branch(0).loc(0.0).record("v", verbose=False)
    else:
        raise ValueError(name)
    mod.make_trainable("HH_gNa", verbose=False)
    return mod


# --------------------------------------------------------------------------- timing helpers

def prepare_integrate(mod, jx, t_max):
    """jit of ``integrate``: returns (zero-argument callable, its argument)."""
    params = mod.get_parameters()
    sim = jax.jit(lambda p: jx.integrate(mod, params=p, t_max=t_max, delta_t=DELTA_T))
    return sim, params


def prepare_grad(mod, jx, t_max):
    params = mod.get_parameters()

    def loss(p):
        return jnp.sum(jx.integrate(mod, params=p, t_max=t_max, delta_t=DELTA_T))

    return jax.jit(jax.grad(loss)), params


def prepare_step(mod, build_init_and_step_fn, n_calls):
    """Two loop functions (block at the end / block every call), each -> s per call."""
    step, states, all_params, ext_steps, external_inds = step_fn_setup(
        mod, build_init_and_step_fn, n_calls)

    def call(s, e):
        return step(s, all_params, e, external_inds, DELTA_T)

    def compile_first():
        return timed(call, states, ext_steps[0])[0]

    def loop_block_end():
        s = states
        t0 = time.perf_counter()
        for e in ext_steps:
            s = call(s, e)
        jax.block_until_ready(s)
        return (time.perf_counter() - t0) / n_calls

    def loop_block_each():
        s = states
        t0 = time.perf_counter()
        for e in ext_steps:
            s = jax.block_until_ready(call(s, e))
        return (time.perf_counter() - t0) / n_calls

    return compile_first, loop_block_end, loop_block_each


# --------------------------------------------------------------------------- step loop

def neuron_compartment():
    """One NEURON section (nseg 1, L 10 µm, diam 2 µm, ``hh``, ``usetable_hh = 0``, 0.1 nA
    IClamp), all other sections deleted; returns ``advance()``: one ``h.fadvance()`` and a
    read of the membrane voltage, as a Python loop would do."""
    from neuron import h

    h.load_file("stdrun.hoc")
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    sec = h.Section(name="soma")
    sec.L, sec.diam, sec.nseg = 10.0, 2.0, 1
    sec.insert("hh")
    seg = sec(0.5)
    stim = h.IClamp(seg)
    stim.delay, stim.dur, stim.amp = 0.0, 1e9, 0.1
    h.usetable_hh = 0
    h.celsius = 6.3
    h.dt = DELTA_T
    h.secondorder = 0
    h.finitialize(-65.0)

    def advance():
        h.fadvance()
        return seg.v

    advance.keep = (sec, stim)
    return advance


def measure_step_loop(n_calls=2000, repeats=5, neuron=True, pkgs=None):
    """µs per call of a jitted ``step_fn`` (``build_init_and_step_fn``, one HH compartment)
    called once per step from Python with ``v`` read back to NumPy after every call; the
    same for NEURON's ``h.fadvance()`` (+ reading ``seg.v``) with ``neuron``.

    Returns ``{label: {"us": median over repeats of the median per-call µs, "us_min",
    "compile": s}}`` for ``ours``, ``reference`` (and ``neuron``); ``ok``: all v finite.
    """
    pkgs = pkgs or load_packages()
    t_max = n_calls * DELTA_T
    loops, res, finals = {}, {}, {}
    for label, (jx, build_init_and_step_fn, HH) in pkgs.items():
        mod = build_model("compartment", jx, HH, t_max)
        step, states, all_params, ext, inds = step_fn_setup(mod, build_init_and_step_fn,
                                                            n_calls)
        compile_s, _ = timed(step, states, all_params, ext[0], inds, DELTA_T)
        res[label] = {"compile": compile_s}

        def loop(step=step, states=states, all_params=all_params, ext=ext, inds=inds,
                 label=label):
            it = iter(ext)
            s = [states]

            def one():
                s[0] = step(s[0], all_params, next(it), inds, DELTA_T)
                finals[label] = np.asarray(s[0]["v"])

            return median(per_call_times(one, n_calls))

        loops[label] = loop
    if neuron:
        advance = neuron_compartment()
        res["neuron"] = {}

        def nrn_loop():
            from neuron import h

            h.finitialize(-65.0)
            v = [0.0]

            def one():
                v[0] = advance()

            out = median(per_call_times(one, n_calls))
            finals["neuron"] = np.array([v[0]])
            return out

        loops["neuron"] = nrn_loop
    for f in loops.values():
        f()  # one untimed loop each (first-call paths, caches)
    for label, s in interleaved(loops, repeats).items():
        res[label]["us"] = median(s) * 1e6
        res[label]["us_min"] = min(s) * 1e6
    res["ok"] = all(bool(np.all(np.isfinite(v))) for v in finals.values())
    res["n_calls"], res["repeats"] = n_calls, repeats
    return res


# --------------------------------------------------------------------------- main

def fmt(x, unit):
    if unit == "s":
        return f"{x * 1e3:10.2f} ms" if x < 10 else f"{x:10.2f} s "
    if unit == "us":
        return f"{x * 1e6:10.1f} µs"
    return f"{x:13.3g}"


def main(argv=None):
    jax.config.update("jax_enable_x64", True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, t_max 20 ms")
    ap.add_argument("--t-max", type=float, default=None, help="simulated time, ms (default 100)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats of each timed run")
    ap.add_argument("--steps", type=int, default=2000, help="step_fn calls per loop")
    args = ap.parse_args(argv)
    t_max = args.t_max if args.t_max is not None else (20.0 if args.quick else 100.0)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 10)
    step_repeats = 3 if args.quick else 7
    n_calls = 500 if args.quick and args.steps == 2000 else args.steps

    warnings.filterwarnings("ignore")
    pkgs = load_packages()
    print(versions())
    print(f"devices: {jax.devices()}  x64: {jax.config.jax_enable_x64}")
    print(f"t_max {t_max} ms, delta_t {DELTA_T} ms ({int(t_max // DELTA_T + 1)} steps), "
          f"{repeats} repeats (median), step loop {n_calls} calls x {step_repeats} repeats")
    print()

    warm_up_jax()
    for label, (jx, _, HH) in pkgs.items():
        print(f"one-time package warm-up (untimed below) {label:9s}: "
              f"{warm_up_package(jx, HH) * 1e3:7.1f} ms")
    rows = []  # (model, metric, unit, ours, reference)
    agree = []
    labels = list(pkgs)
    for model in ["compartment", "cell 3x8"]:
        res = {label: {} for label in labels}
        prep = {}
        # One-shot costs, one fresh module per package and per benchmark.
        for label, (jx, build_init_and_step_fn, HH) in pkgs.items():
            r = res[label]
            sim, params = prepare_integrate(build_model(model, jx, HH, t_max), jx, t_max)
            r["int_first"], v = timed(sim, params)
            r["v"] = np.asarray(v)
            grad, gparams = prepare_grad(build_model(model, jx, HH, t_max), jx, t_max)
            r["grad_first"], g = timed(grad, gparams)
            r["dgna"] = float(np.asarray(g[0]["HH_gNa"]).sum())
            compile_step, loop_end, loop_each = prepare_step(
                build_model(model, jx, HH, t_max), build_init_and_step_fn, n_calls)
            r["step_first"] = compile_step()
            prep[label] = (sim, params, grad, gparams, loop_end, loop_each)
        # Steady-state timings, interleaved between the packages (alternating which goes
        # first) so that drift in the machine's speed hits both alike.
        samples = {label: {k: [] for k in ("int_run", "grad_run", "step_end", "step_each")}
                   for label in labels}
        for rep in range(max(repeats, step_repeats)):
            for label in (labels if rep % 2 == 0 else labels[::-1]):
                sim, params, grad, gparams, loop_end, loop_each = prep[label]
                smp = samples[label]
                if rep < repeats:
                    smp["int_run"].append(timed(sim, params)[0])
                    smp["grad_run"].append(timed(grad, gparams)[0])
                if rep < step_repeats:
                    smp["step_end"].append(loop_end())
                    smp["step_each"].append(loop_each())
        for label in labels:
            res[label].update({k: statistics.median(v) for k, v in samples[label].items()})
            res[label].update({k + "_min": min(v) for k, v in samples[label].items()})
        print(f"  done: {model}", flush=True)
        o, f = res["ours"], res["reference"]
        if o["v"].shape != f["v"].shape:
            dv = float("inf")
            print(f"  !! {model}: trace shapes differ: ours {o['v'].shape}, "
                  f"reference {f['v'].shape}")
        else:
            dv = float(np.max(np.abs(o["v"] - f["v"])))
        dg = abs(o["dgna"] - f["dgna"]) / max(abs(f["dgna"]), 1e-300)
        agree.append((model, dv, o["v"].shape, float(o["v"].max()), dg))
        for key, metric, unit in [
            ("int_first", "integrate jit: first call", "s"),
            ("int_run", "integrate jit: run (median)", "s"),
            ("grad_first", "grad jit: first call", "s"),
            ("grad_run", "grad jit: run (median)", "s"),
            ("step_first", "step_fn jit: first call", "s"),
            ("step_end", "step_fn loop, block at end", "us"),
            ("step_each", "step_fn loop, block each call", "us"),
        ]:
            rmin = o.get(key + "_min", np.nan) / f.get(key + "_min", np.nan)
            rows.append((model, metric, unit, o[key], f[key], rmin))

    print()
    hdr = (f"{'model':12s} {'metric':32s} {'ours':>13s} {'reference':>13s} {'ours/ref':>9s}"
           f" {'(min)':>6s}")
    print(hdr)
    print("-" * len(hdr))
    prev = None
    for model, metric, unit, ours, ref, rmin in rows:
        name = model if model != prev else ""
        prev = model
        rmin_s = "" if np.isnan(rmin) else f"{rmin:6.2f}"
        print(f"{name:12s} {metric:32s} {fmt(ours, unit)} {fmt(ref, unit)} {ours / ref:9.2f}"
              f" {rmin_s:>6s}")
    print("ours/ref: ratio of the medians (lower is better for ours); (min): ratio of the"
          " fastest repeats,\nless sensitive to other load on the machine. 'first call' ="
          " trace + compile + one run.")
    print()
    ok = True
    for model, dv, shape, vmax, dg in agree:
        good = dv <= TOL_MV
        ok &= good
        print(f"{model:12s} trace {shape}, max v {vmax:.2f} mV: max |ΔV| ours vs reference = "
              f"{dv:.3e} mV ({'OK' if good else 'MISMATCH'} at {TOL_MV:g} mV); "
              f"rel. |Δ dL/dgNa| = {dg:.2e}")
    if not ok:
        print("!! the traces do not agree to the tolerance: the timings compare different work")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
