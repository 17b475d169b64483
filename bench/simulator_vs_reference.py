"""Benchmark: ``simulator`` (ours) vs the reference (jaxley 0.14) on the same models.

Both packages build the same models in the same process (float64, CPU by default), the
voltage traces are checked to agree, and one table of timings is printed.

Run: ``python bench/simulator_vs_reference.py [--quick] [--t-max MS] [--repeats N]``.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

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

def timed(fn, *args):
    """(seconds, result) of one call, including ``block_until_ready``."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, out


def warm_up_jax():
    """Pay JAX's one-time costs (backend start, first jit/scan/grad) before any timing."""
    f = jax.jit(jax.grad(lambda x: jnp.sum(jax.lax.scan(lambda c, _: (jnp.tanh(c), c), x,
                                                        None, length=3)[1])))
    jax.block_until_ready(f(jnp.ones(3)))


def warm_up_package(jx, HH):
    """Pay a package's one-time costs (first trace of its helpers) on a model unlike the
    benchmarked ones (a 2-compartment branch, 1 ms); returns the seconds it took."""
    t0 = time.perf_counter()
    mod = jx.Branch(jx.Compartment(), ncomp=2)
    mod.insert(HH())
    mod.comp(0).stimulate(jx.step_current(0.1, 0.5, 0.1, DELTA_T, 1.0), verbose=False)
    mod.comp(1).record("v", verbose=False)
    jax.block_until_ready(jx.integrate(mod, t_max=1.0, delta_t=DELTA_T))
    return time.perf_counter() - t0


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
    params = mod.get_parameters()
    mod.to_jax()
    externals = {k: jnp.asarray(v) for k, v in mod.externals.items()}
    external_inds = mod.external_inds.copy()
    init_fn, step_fn = build_init_and_step_fn(mod)
    states, all_params = init_fn(params, delta_t=DELTA_T)
    step = jax.jit(step_fn)
    n_t = min(v.shape[1] for v in externals.values())
    # Pre-slice the per-step inputs so that the loop times step_fn only.
    ext_steps = [{k: v[:, i % n_t] for k, v in externals.items()} for i in range(n_calls)]
    jax.block_until_ready(ext_steps)

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


# --------------------------------------------------------------------------- main

def fmt(x, unit):
    if unit == "s":
        return f"{x * 1e3:10.2f} ms" if x < 10 else f"{x:10.2f} s "
    if unit == "us":
        return f"{x * 1e6:10.1f} µs"
    return f"{x:13.3g}"


def main(argv=None):
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
    print(f"python {platform.python_version()}  jax {jax.__version__}  "
          f"jaxlib {importlib.metadata.version('jaxlib')}  "
          f"jaxley {importlib.metadata.version('jaxley')}  "
          f"simulator (neuroenv) {importlib.metadata.version('neuroenv')}")
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
