"""Benchmark: neuroenv environments vs the reference (jaxley 0.14) on the same cell.

The task is VoltageTarget-v0: the cell of ``neuroenv.cells.hh_cell`` (three branches of 4
compartments, HH everywhere, v -65 mV with ``init_states``; the reference's copy is built with
every compartment's geometry and HH parameters set from it, and the two packages' vmapped
``integrate`` traces are compared), a 1 ms control period = 40 solver steps of 0.025 ms.
float32 (JAX's default), on whatever ``jax.devices()`` gives.

Measured (compile time always excluded from rates and printed separately):

(a) ``NeuronVectorEnv.step`` (NumPy in/out, one jitted vmapped call per batch step) for
    N = 1, 64, 1024 rows: env-steps/s and solver-steps/s, median of a few batches.
(b) the functional env as a jitted program: ``jax.jit(jax.vmap(rollout))`` over 1,024 envs,
    ``rollout`` a ``lax.scan`` of 1,000 random-action env steps (auto-reset on); solver-steps/s,
    and a check that every observation and reward stayed finite.
(c) the gymnasium single env (``gym.make("neuroenv/VoltageTarget-v0")``): µs per ``env.step``
    (median of per-call times), if ``neuroenv.gym_env`` exists.
(d) the reference on the same cell: µs per call of its jitted ``step_fn`` (from
    ``build_init_and_step_fn``) in a Python loop, and the throughput of
    ``jax.jit(jax.vmap(integrate))`` over 1,024 soma step-current amplitudes
    (``data_stimulate``, evenly spaced over the env's action range x ``action_scale``), 40 ms
    each. Our simulator's ``step_fn`` and vmapped ``integrate`` are timed the same way
    as diagnostics (they separate simulator speed from env overhead).

The targets of the issue are printed as ratios: gym ``env.step`` µs ≤ 0.15 × reference
``step_fn`` µs, and vmapped functional-env solver-steps/s ≥ 1.0 × reference vmapped
``integrate``. Steady-state repeats of (b) and (d) alternate so that load drift hits both.

Run: ``python bench/env_vs_reference.py [--quick]`` (``--quick``: 100 instead of 1,000 env
steps in (b), fewer repeats; under 2 minutes on 2 CPU cores). Exits 1 if anything is not
finite; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
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
    per_call_us,
    step_fn_setup,
    timed,
    timer,
)

TASK = "VoltageTarget-v0"
GYM_ID = f"neuroenv/{TASK}"
#: The constant action of the gym rows (scaled by the env's action_scale: the cell spikes).
GYM_ACTION = 0.2
DELTA_T = 0.025
N_BATCH = 1024
TARGET_STEP_RATIO = 0.15  # gym env.step µs / reference step_fn µs must be <= this
TARGET_THROUGHPUT_RATIO = 1.0  # functional / reference vmapped solver-steps/s must be >= this


# --------------------------------------------------------------------------- cells

#: per-compartment columns copied from the env's cell into the reference's.
COPIED_COLUMNS = ("length", "radius", "axial_resistivity", "capacitance", "v", "HH_gNa", "HH_gK",
                  "HH_gLeak", "HH_eNa", "HH_eK", "HH_eLeak")


def build_cell(jx, HH, stim_amp=None, t_max=None):
    """The env's cell (``neuroenv.cells.hh_cell``) in package ``jx``, soma recorded.

    For ``simulator`` it is ``hh_cell()`` itself; for the reference, the same skeleton
    (3 branches x 4 compartments, parents [-1, 0, 0], HH everywhere) with every compartment's
    ``COPIED_COLUMNS`` set to the env cell's values, then ``init_states()``.
    """
    from neuroenv.cells import hh_cell

    ours, ours_soma = hh_cell()
    if jx.__name__ == "simulator":
        cell, soma = ours, ours_soma
    else:
        cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0])
        cell.insert(HH())
        nodes = ours.nodes
        if len(nodes) != len(cell.nodes):
            raise RuntimeError("neuroenv.cells.hh_cell changed its skeleton: update build_cell")
        for _, row in nodes.iterrows():
            comp = cell.branch(int(row["local_branch_index"])).comp(int(row["local_comp_index"]))
            for col in COPIED_COLUMNS:
                comp.set(col, float(row[col]))
        cell.init_states()
        soma = cell.branch(0).comp(0)
        soma.record("v", verbose=False)
    if stim_amp is not None:
        soma.stimulate(jx.step_current(0.0, t_max, stim_amp, DELTA_T, t_max), verbose=False)
    return cell


def prepare_step_fn(jx, HH, build_init_and_step_fn, n_calls):
    """A jitted ``step_fn`` on the env's cell (soma stimulated with 0.05 nA), compiled.

    Returns (compile s, ``each()``, ``end()``, ``v()``): ``each()`` -> median µs of ``n_calls``
    individually timed calls that block every call; ``end()`` -> µs per call of ``n_calls``
    calls blocking at the end; ``v()`` -> the current voltages (NumPy).
    """
    t_max = n_calls * DELTA_T
    cell = build_cell(jx, HH, stim_amp=0.05, t_max=t_max)
    step, states, all_params, ext, inds = step_fn_setup(cell, build_init_and_step_fn, n_calls)
    compile_s, states = timed(step, states, all_params, ext[0], inds, DELTA_T)
    s = [states]

    def each():
        it = iter(ext)

        def one():
            s[0] = jax.block_until_ready(step(s[0], all_params, next(it), inds, DELTA_T))

        return per_call_us(one, n_calls)

    def end():
        t0 = time.perf_counter()
        for e in ext:
            s[0] = step(s[0], all_params, e, inds, DELTA_T)
        jax.block_until_ready(s[0])
        return (time.perf_counter() - t0) / n_calls * 1e6

    return compile_s, each, end, lambda: np.asarray(s[0]["v"])


def step_fn_loop(jx, HH, build_init_and_step_fn, n_calls):
    """(compile s, µs per call blocking each call (median), µs per call blocking at the end)
    of a jitted ``step_fn`` in a Python loop, soma stimulated with 0.05 nA."""
    compile_s, each, end, v = prepare_step_fn(jx, HH, build_init_and_step_fn, n_calls)
    out = compile_s, each(), end()
    assert np.all(np.isfinite(v()))
    return out


def vmapped_integrate(jx, HH, t_max, amps):
    """``jax.jit(jax.vmap(integrate))`` over soma stimulus amplitudes (data_stimulate)."""
    cell = build_cell(jx, HH)
    soma = cell.branch(0).comp(0)

    def sim(amp):
        current = jx.step_current(1.0, t_max, amp, DELTA_T, t_max)
        return jx.integrate(cell, data_stimuli=soma.data_stimulate(current), t_max=t_max,
                            delta_t=DELTA_T)

    return jax.jit(jax.vmap(sim))


# --------------------------------------------------------------------------- functional env

def make_rollout(env, params, n_steps):
    """``keys (n,) -> (all finite (n,), return (n,), numerical errors (n,))`` of random-action
    rollouts of ``n_steps`` env steps (jit of vmap of a lax.scan)."""

    def rollout(key):
        key, k0 = jax.random.split(key)
        obs, state = env.reset(k0, params)

        def body(carry, k):
            state, ok, ret, n_err = carry
            k_a, k_s = jax.random.split(k)
            a = jax.random.uniform(k_a, (env.num_actions,), jnp.float32, -1.0, 1.0)
            obs, state, r, _, _, info = env.step(k_s, state, a, params)
            ok = ok & jnp.all(jnp.isfinite(obs)) & jnp.isfinite(r)
            return (state, ok, ret + r, n_err + info["numerical_error"]), None

        init = (state, jnp.all(jnp.isfinite(obs)), jnp.float32(0.0), jnp.int32(0))
        (_, ok, ret, n_err), _ = jax.lax.scan(body, init, jax.random.split(key, n_steps))
        return ok, ret, n_err

    return jax.jit(jax.vmap(rollout))


# --------------------------------------------------------------------------- measurements

def load_packages():
    """{label: (jx, HH, build_init_and_step_fn)}, reference first."""
    import jaxley
    from jaxley.channels import HH as RefHH
    from jaxley.integrate import build_init_and_step_fn as ref_build

    import simulator
    from simulator.channels import HH as OurHH
    from simulator.integrate import build_init_and_step_fn as our_build

    return {"reference": (jaxley, RefHH, ref_build), "ours": (simulator, OurHH, our_build)}


def measure_vector_env(env, quick):
    """(a): rows of ``NeuronVectorEnv.step`` rates for N = 1, 64, 1024; (rows, all finite)."""
    from neuroenv.vector import NeuronVectorEnv

    substeps = env.substeps
    batch_steps = {1: 50, 64: 20, 1024: 5} if quick else {1: 200, 64: 50, 1024: 10}
    n_batches = 3 if quick else 7
    rng = np.random.default_rng(0)
    rows, ok = [], True
    for n, k in batch_steps.items():
        envs = NeuronVectorEnv(env, n)
        acts = rng.uniform(-1, 1, (k, n, 1)).astype(np.float32)
        t0 = time.perf_counter()
        envs.reset(seed=0)
        t_reset = time.perf_counter() - t0
        t0 = time.perf_counter()
        envs.step(acts[0])
        t_step = time.perf_counter() - t0
        times, finite = [], True
        for _ in range(n_batches):
            t0 = time.perf_counter()
            for a in acts:
                obs, reward, *_ = envs.step(a)
            times.append(time.perf_counter() - t0)
            finite &= bool(np.isfinite(obs).all() and np.isfinite(reward).all())
        ok &= finite
        rate = n * k / statistics.median(times)
        rows.append(("(a) vector env", f"N={n:<5d} env-steps/s",
                     f"{rate:12,.0f}  ({rate * substeps / 1e6:.2f} M solver-steps/s;"
                     f" {statistics.median(times) / k * 1e3:.2f} ms per batch step)"))
        rows.append(("", f"N={n:<5d} compile (reset + step)",
                     f"{t_reset:.1f} s + {t_step:.1f} s{'' if finite else '  NOT FINITE'}"))
    return rows, ok


def prepare_gym(n_calls):
    """``gym.make(GYM_ID)`` reset and stepped once (constant action ``GYM_ACTION``).

    Returns {"first": s (reset + first step), "gym": loop, "unwrapped": loop, "close": fn},
    each loop() -> median µs of ``n_calls`` individually timed ``env.step`` calls (of the
    wrapped env / of ``.unwrapped``), or {"skipped": why} if there is no gym env.
    """
    import gymnasium as gym

    try:
        import neuroenv.gym_env  # noqa: F401
    except ImportError as err:
        return {"skipped": f"neuroenv.gym_env not importable: {err}"}
    if GYM_ID not in gym.registry:
        return {"skipped": f"{GYM_ID} not registered"}
    single = gym.make(GYM_ID)
    a = np.full(single.action_space.shape, GYM_ACTION, np.float32)
    t0 = time.perf_counter()
    single.reset(seed=0)
    single.step(a)
    out = {"first": time.perf_counter() - t0, "close": single.close}
    for label, e in (("gym", single), ("unwrapped", single.unwrapped)):
        e.reset(seed=0)

        def one(e=e):
            _, r, term, trunc, _ = e.step(a)
            if term or trunc:
                e.reset()

        one()
        out[label] = lambda one=one: per_call_us(one, n_calls)
    return out


def measure_gym(n_calls):
    """(c): µs per ``env.step`` of ``gym.make(GYM_ID)`` and of ``.unwrapped`` (median of
    ``n_calls`` individually timed steps): {"gym": µs, "unwrapped": µs, "first": s} or
    {"skipped": why}."""
    prep = prepare_gym(n_calls)
    if "skipped" in prep:
        return prep
    out = {"first": prep["first"], "gym": prep["gym"](), "unwrapped": prep["unwrapped"]()}
    prep["close"]()
    return out


def measure_step_fns(n_calls, pkgs=None):
    """(d): {label: (compile s, µs per call blocking each call, µs blocking at the end)} of the
    packages' jitted ``step_fn`` on the env's cell."""
    pkgs = pkgs or load_packages()
    return {label: step_fn_loop(jx, HH, build, n_calls) for label, (jx, HH, build) in pkgs.items()}


def measure_vmap(env, params, rollout_steps, repeats, int_t_max=40.0, pkgs=None,
                 ours_integrate=True):
    """(b) and (d): solver-steps/s of the vmapped functional env (``N_BATCH`` envs x
    ``rollout_steps`` env steps) and of the reference's (and with ``ours_integrate`` our)
    vmapped ``integrate`` (``N_BATCH`` x ``int_t_max`` ms), steady-state repeats alternating.

    Returns {"rate": {label: solver-steps/s}, "first": {label: s}, "finite": bool,
    "return", "errors", ["dv_sub", "n_sub", "dv_all"]} with labels ``functional``,
    ``reference`` (and ``ours integrate``).
    """
    pkgs = pkgs or load_packages()
    substeps = env.substeps
    keys = jax.random.split(jax.random.key(0), N_BATCH)
    scale = float(params.action_scale)
    amps = jnp.linspace(-scale, scale, N_BATCH)
    (ref_jx, ref_hh, _), (our_jx, our_hh, _) = pkgs["reference"], pkgs["ours"]
    progs = {
        "functional": (make_rollout(env, params, rollout_steps), keys,
                       N_BATCH * rollout_steps * substeps),
        "reference": (vmapped_integrate(ref_jx, ref_hh, int_t_max, amps), amps, None),
    }
    if ours_integrate:
        progs["ours integrate"] = (vmapped_integrate(our_jx, our_hh, int_t_max, amps), amps,
                                   None)
    first, outs = {}, {}
    for label, (fn, arg, _) in progs.items():
        first[label], outs[label] = timed(fn, arg)
    n_int = outs["reference"].shape[-1] - 1  # solver steps of integrate (trace has t=0 too)
    work = {label: (w if w is not None else N_BATCH * n_int) for label, (_, _, w) in
            progs.items()}
    samples = interleaved({label: timer(fn, arg) for label, (fn, arg, _) in progs.items()},
                          repeats)
    rate = {label: work[label] / median(s) for label, s in samples.items()}
    f_ok, f_ret, f_err = (np.asarray(x) for x in outs["functional"])
    finite_f = bool(f_ok.all() and np.isfinite(f_ret).all())
    ref_v = np.asarray(outs["reference"])
    out = {"rate": rate, "first": first, "finite_functional": finite_f,
           "return": float(f_ret.mean()), "errors": int(f_err.sum()), "dtype": str(ref_v.dtype),
           "rollout_steps": rollout_steps, "int_t_max": int_t_max}
    finite_r = bool(np.isfinite(ref_v).all())
    if ours_integrate:
        our_v = np.asarray(outs["ours integrate"])
        finite_r &= bool(np.isfinite(our_v).all())
        # Same cell check: subthreshold rows agree to float32 rounding; spiking rows differ by
        # up to ~1 mV because rounding shifts spike times (in float64 all rows agree to
        # ~1e-11 mV).
        sub = (ref_v.max(axis=(1, 2)) < -40.0) & (our_v.max(axis=(1, 2)) < -40.0)
        out.update(n_sub=int(sub.sum()), dv_all=float(np.max(np.abs(ref_v - our_v))),
                   dv_sub=(float(np.max(np.abs(ref_v[sub] - our_v[sub]))) if sub.any()
                           else np.nan))
    out["finite"] = finite_f and finite_r
    return out


# --------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="100 env steps in (b), fewer repeats (under 2 minutes)")
    args = ap.parse_args(argv)
    quick = args.quick
    t_start = time.perf_counter()
    warnings.filterwarnings("ignore")

    import gymnasium as gym

    import neuroenv

    rollout_steps = 100 if quick else 1000
    repeats = 2 if quick else 3
    n_calls = 300 if quick else 2000
    print(f"python {platform.python_version()}  jax {jax.__version__}  "
          f"jaxlib {importlib.metadata.version('jaxlib')}  gymnasium {gym.__version__}  "
          f"jaxley {importlib.metadata.version('jaxley')}  "
          f"neuroenv {importlib.metadata.version('neuroenv')}")
    print(f"devices: {jax.devices()}  x64: {jax.config.jax_enable_x64}  mode: "
          f"{'quick' if quick else 'full'}")

    env, params = neuroenv.make(TASK)
    substeps = env.substeps
    print(f"{TASK}: control period {env.period_ms:g} ms = {substeps} solver steps of "
          f"{env.delta_t:g} ms, {env.n_sites} action, obs {env.observation_space().shape}")
    print()
    pkgs = load_packages()

    rows, ok = measure_vector_env(env, quick)
    print("  done: (a) vector env", flush=True)

    gym_res = measure_gym(n_calls)
    gym_us = gym_res.get("gym")
    if gym_us is None:
        rows.append(("(c) gym env.step", "skipped", gym_res["skipped"]))
    else:
        rows.append(("(c) gym env.step", "µs per step (median), gym.make",
                     f"{gym_us:10.1f} µs  ({substeps} solver steps, NumPy out)"))
        rows.append(("", "µs per step (median), .unwrapped", f"{gym_res['unwrapped']:10.1f} µs"))
        rows.append(("", "compile (reset + first step)", f"{gym_res['first']:.1f} s"))
    print("  done: (c) gym env", flush=True)

    step_res = measure_step_fns(n_calls, pkgs)
    for label, (c, each, end) in step_res.items():
        rows.append((f"(d) {label} step_fn" if label == "reference" else "    ours (diagnostic)",
                     "µs per call: block each / at end",
                     f"{each:10.1f} µs / {end:.1f} µs  (1 solver step; compile {c:.1f} s)"))
    print("  done: (d) step_fn loops", flush=True)

    vm = measure_vmap(env, params, rollout_steps, repeats, pkgs=pkgs)
    rate, first = vm["rate"], vm["first"]
    ok &= vm["finite"]
    rows.append(("(b) functional env", f"{N_BATCH} envs x {rollout_steps} steps, solver-steps/s",
                 f"{rate['functional'] / 1e6:10.2f} M  ({rate['functional'] / substeps:,.0f}"
                 f" env-steps/s; compile+run {first['functional']:.1f} s)"))
    rows.append(("", "all obs and rewards finite",
                 f"{vm['finite_functional']}  (numerical-error flags: {vm['errors']}; mean return"
                 f" {vm['return']:.2f})"))
    rows.append(("(d) reference",
                 f"vmap integrate {N_BATCH} x {vm['int_t_max']:g} ms, solver-steps/s",
                 f"{rate['reference'] / 1e6:10.2f} M  (compile+run {first['reference']:.1f} s)"))
    rows.append(("    ours (diagnostic)", "vmap integrate, same stimuli",
                 f"{rate['ours integrate'] / 1e6:10.2f} M  (compile+run"
                 f" {first['ours integrate']:.1f} s)"))
    rows.append(("", "max |ΔV| vs reference (same cell?)",
                 f"{vm['dv_sub']:.1e} mV on {vm['n_sub']} subthreshold rows; {vm['dv_all']:.2f}"
                 " mV over all (spike times shift by float32 rounding)"))
    print("  done: (b) functional env, (d) vmapped integrate", flush=True)

    # table ------------------------------------------------------------------------------
    print()
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for section, metric, value in rows:
        print(f"{section:{w0}s}  {metric:{w1}s}  {value}")
    print()
    print("targets (issue):")
    ref_each, ref_end = step_res["reference"][1], step_res["reference"][2]
    if gym_us is None:
        print("  gym env.step <= 0.15 x reference step_fn: skipped (no gym env)")
    else:
        for label, ref_us in (("block at end", ref_end), ("block each call", ref_each)):
            r = gym_us / ref_us
            print(f"  gym env.step / reference step_fn µs ({label:15s}) = {gym_us:.1f} /"
                  f" {ref_us:.1f} = {r:.3f}  (target <= {TARGET_STEP_RATIO}:"
                  f" {'MET' if r <= TARGET_STEP_RATIO else 'NOT MET'})")
    r = rate["functional"] / rate["reference"]
    print(f"  vmapped functional env / reference vmapped integrate solver-steps/s = {r:.2f}"
          f"  (target >= {TARGET_THROUGHPUT_RATIO}:"
          f" {'MET' if r >= TARGET_THROUGHPUT_RATIO else 'NOT MET'})")
    print(f"  (diagnostic) our vmapped integrate / reference = "
          f"{rate['ours integrate'] / rate['reference']:.2f}; functional env / our integrate ="
          f" {rate['functional'] / rate['ours integrate']:.2f}")
    print()
    print("Rates exclude compilation. A gym env.step runs 40 solver steps plus observation and"
          " reward\nand returns NumPy; a step_fn call is one solver step. The functional env"
          " runs auto-reset\n(a full reset computed every step) inside the scan. Timings on a"
          " shared machine are noisy.")
    print(f"total wall time {time.perf_counter() - t_start:.0f} s")
    if not ok:
        print("!! something was not finite")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
