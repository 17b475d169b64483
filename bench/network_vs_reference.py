"""Benchmark: a large sparse network, ``simulator`` (ours) vs the reference (jaxley 0.14).

The reference's largest published CPU case: 1,000 Hodgkin-Huxley point neurons (one
``jx.Cell()`` each, ``HH`` inserted) with ~100,000 ``IonotropicSynapse`` s from
``sparse_connect(all cells, all cells, p=0.1)``, a step current into the first 100 cells,
``v`` recorded in the first 10, ``t_max`` 100 ms, ``delta_t`` 0.025 ms, float64, CPU.
Synapses keep their default parameters (gS 1e-4 µS): with ~100 inputs per cell the network
fires once and then settles in depolarisation block (about -38 mV), in both packages.

Both packages build the network with the same calls in one process. Their ``sparse_connect``
differ on purpose: ours draws each (pre, post) pair once with probability p, the reference
samples pairs with replacement, so the synapse counts (both printed) differ slightly, and so
do the traces. A separate agreement check builds both with ``connectivity_matrix_connect``
on one shared matrix (at the ``--quick`` size) and compares their voltage traces.

Timings: build (Network construction + insert + connect), first call of
``jax.jit(integrate)`` (trace + compile + one run) and run time (median of repeats,
alternating the packages), then the first call split into to_jax / trace / XLA compile /
run (jax's ahead-of-time API) on freshly built networks. Also ours' ``sparse_connect`` alone
for 1,000 cells (~100k synapses), in either mode.

Run: ``python bench/network_vs_reference.py [--quick] [--repeats N] [--no-agreement]``.
``--quick``: 200 cells, p 0.1 (~4,000 synapses), 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import jax
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import interleaved, median, timed, timer, versions  # noqa: E402

DELTA_T = 0.025
P_CONNECT = 0.1
SEED = 0
I_AMP = 0.02  # nA into a default point cell (area 62.8 µm²): ~32 µA/cm², a spiking drive
TOL_MV = 1e-6


# --------------------------------------------------------------------------- packages

def load_packages():
    """{label: namespace} of the calls used here, for ours and the reference."""
    import jaxley
    from jaxley.channels import HH as RefHH
    from jaxley.synapses import IonotropicSynapse as RefSyn

    import simulator
    from simulator.channels import HH as OurHH
    from simulator.synapses import IonotropicSynapse as OurSyn

    def ours_sparse(net, p, seed):
        simulator.sparse_connect(net.cell("all"), net.cell("all"), OurSyn(), p=p,
                                 random_state=seed)

    def ref_sparse(net, p, seed):
        # The reference draws from numpy's global generator and takes no seed argument.
        np.random.seed(seed)  # noqa: NPY002
        jaxley.sparse_connect(net.cell("all"), net.cell("all"), RefSyn(), p=p)

    return {
        "ours": dict(jx=simulator, HH=OurHH, Syn=OurSyn, sparse=ours_sparse),
        "reference": dict(jx=jaxley, HH=RefHH, Syn=RefSyn, sparse=ref_sparse),
    }


# --------------------------------------------------------------------------- model

def build_network(pkg, n_cells, connect):
    """Build the network; returns (net, {"construct", "insert", "connect"} seconds).

    ``connect(net)`` adds the synapses. One ``jx.Cell()`` object is passed ``n_cells``
    times, as in the reference's own network examples (each becomes its own cell).
    """
    jx = pkg["jx"]
    t0 = time.perf_counter()
    cell = jx.Cell()
    net = jx.Network([cell for _ in range(n_cells)])
    t1 = time.perf_counter()
    net.insert(pkg["HH"]())
    t2 = time.perf_counter()
    connect(net)
    t3 = time.perf_counter()
    return net, {"construct": t1 - t0, "insert": t2 - t1, "connect": t3 - t2,
                 "build": t3 - t0}


def add_io(pkg, net, n_cells, t_max):
    """Step current into the first 10% of the cells, v recorded in the first 10.

    Point cells have one compartment, so a cell view stimulates/records exactly that
    compartment in both packages. (``net.cell(list).branch(0).comp(0)`` would not do here:
    ours' ``branch(0)`` on a multi-cell view selects the first branch of the *selection*,
    i.e. of cell 0 only, while the reference selects branch 0 of every cell.)
    """
    jx = pkg["jx"]
    current = jx.step_current(5.0, 50.0, I_AMP, DELTA_T, t_max)
    net.cell(list(range(max(1, n_cells // 10)))).stimulate(current, verbose=False)
    net.cell(list(range(min(10, n_cells)))).record("v", verbose=False)


def n_synapses(net):
    return len(net.edges)


# --------------------------------------------------------------------------- timing helpers

def warm_up(pkg):
    """Pay a package's one-time costs (first trace of its helpers) on a tiny network."""
    t0 = time.perf_counter()
    jx = pkg["jx"]
    cell = jx.Cell()
    net = jx.Network([cell, cell])
    net.insert(pkg["HH"]())
    jx.connect(net.cell(0), net.cell(1), pkg["Syn"]())
    net.cell(0).stimulate(jx.step_current(0.1, 0.5, 0.01, DELTA_T, 1.0), verbose=False)
    net.cell(1).record("v", verbose=False)
    jax.block_until_ready(jx.integrate(net, t_max=1.0, delta_t=DELTA_T))
    return time.perf_counter() - t0


def jit_integrate(pkg, net, t_max):
    jx = pkg["jx"]
    params = net.get_parameters()
    return jax.jit(lambda p: jx.integrate(net, params=p, t_max=t_max, delta_t=DELTA_T)), params


def first_call_pieces(pkg, net, t_max):
    """to_jax, trace, lower, XLA compile and the first run of jit(integrate), separately."""
    out = {}
    t0 = time.perf_counter()
    net.to_jax()
    out["to_jax"] = time.perf_counter() - t0
    sim, params = jit_integrate(pkg, net, t_max)
    t0 = time.perf_counter()
    traced = sim.trace(params)
    out["trace"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lowered = traced.lower()
    out["lower"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    compiled = lowered.compile()
    out["compile"] = time.perf_counter() - t0
    out["run1"], _ = timed(compiled, params)
    return out


def spike_count(v, threshold=0.0):
    """Upward crossings of ``threshold`` per trace."""
    above = v > threshold
    return np.sum(above[:, 1:] & ~above[:, :-1], axis=1)


# --------------------------------------------------------------------------- sections

def agreement_check(pkgs, n_cells, t_max):
    """Same connectivity matrix in both packages: max |ΔV| of the recorded traces."""
    rng = np.random.default_rng(SEED)
    matrix = rng.random((n_cells, n_cells)) < P_CONNECT
    traces = {}
    for label, pkg in pkgs.items():
        jx = pkg["jx"]

        def connect(net, jx=jx, pkg=pkg):
            jx.connectivity_matrix_connect(net.cell("all"), net.cell("all"), pkg["Syn"](),
                                           matrix)

        net, _ = build_network(pkg, n_cells, connect)
        add_io(pkg, net, n_cells, t_max)
        traces[label] = (np.asarray(jx.integrate(net, t_max=t_max, delta_t=DELTA_T)),
                         n_synapses(net))
    (vo, no), (vr, nr) = traces["ours"], traces["reference"]
    dv = float(np.max(np.abs(vo - vr))) if vo.shape == vr.shape else float("inf")
    return dv, no, nr, vo.shape, float(vo.max())


def ours_connect_alone(pkg, n_cells, repeats):
    """Seconds of ours' sparse_connect (p=0.1) on fresh ``n_cells`` networks; synapse count."""
    times, count = [], 0
    for rep in range(repeats):
        cell = pkg["jx"].Cell()
        net = pkg["jx"].Network([cell for _ in range(n_cells)])
        net.insert(pkg["HH"]())
        t0 = time.perf_counter()
        pkg["sparse"](net, P_CONNECT, SEED + rep)
        times.append(time.perf_counter() - t0)
        count = n_synapses(net)
    return times, count


# --------------------------------------------------------------------------- measure

def measure(n_cells=1000, t_max=100.0, repeats=5, pieces=True, agreement=True,
            connect_alone=True, verbose=False, pkgs=None):
    """Build, first call and steady-state run of the network in both packages.

    Returns {"ours_ref": {label: {construct, insert, connect, build, n_syn, first, run,
    run_min, v, [build2, to_jax, trace, lower, compile, run1]}}, "connect_alone":
    (seconds list, synapse count) or None, "agreement": (max |ΔV|, n ours, n reference,
    shape, max v) or None, "ok": traces finite and agreement within TOL_MV}.
    """
    say = print if verbose else (lambda *a, **k: None)
    pkgs = pkgs or load_packages()
    labels = list(pkgs)
    for label in labels:
        say(f"one-time package warm-up (untimed below) {label:9s}: "
            f"{warm_up(pkgs[label]) * 1e3:8.1f} ms", flush=True)

    # Build + first call on one fresh network per package.
    res = {label: {} for label in labels}
    sims = {}
    for label in labels:
        pkg = pkgs[label]
        net, build = build_network(pkg, n_cells,
                                   lambda net, pkg=pkg: pkg["sparse"](net, P_CONNECT, SEED))
        res[label].update(build)
        res[label]["n_syn"] = n_synapses(net)
        add_io(pkg, net, n_cells, t_max)
        sim, params = jit_integrate(pkg, net, t_max)
        res[label]["first"], v = timed(sim, params)
        res[label]["v"] = np.asarray(v)
        sims[label] = timer(sim, params)
        say(f"  built + first call: {label} ({res[label]['n_syn']} synapses)", flush=True)

    # Steady-state runs, alternating which package goes first.
    for label, runs in interleaved(sims, repeats).items():
        res[label]["run"] = median(runs)
        res[label]["run_min"] = min(runs)
    del sims

    # The first call in pieces, on a second fresh network per package.
    if pieces:
        for label in labels:
            pkg = pkgs[label]
            net, build = build_network(
                pkg, n_cells, lambda net, pkg=pkg: pkg["sparse"](net, P_CONNECT, SEED))
            res[label]["build2"] = build["build"]
            add_io(pkg, net, n_cells, t_max)
            res[label].update(first_call_pieces(pkg, net, t_max))
            say(f"  first call in pieces: {label}", flush=True)

    alone = ours_connect_alone(pkgs["ours"], 1000, 3) if connect_alone else None
    agree = agreement_check(pkgs, min(n_cells, 200), min(t_max, 20.0)) if agreement else None
    ok = all(bool(np.all(np.isfinite(res[label]["v"]))) for label in labels)
    if agree is not None:
        ok &= agree[0] <= TOL_MV and agree[1] == agree[2]
    return {"ours_ref": res, "connect_alone": alone, "agreement": agree, "ok": ok,
            "n_cells": n_cells, "t_max": t_max, "repeats": repeats}


# --------------------------------------------------------------------------- main

def fmt(x):
    if x is None or np.isnan(x):
        return f"{'-':>13s}"
    return f"{x * 1e3:10.1f} ms" if x < 10 else f"{x:10.2f} s "


def main(argv=None):
    jax.config.update("jax_enable_x64", True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 cells, t_max 20 ms")
    ap.add_argument("--cells", type=int, default=None, help="number of cells (default 1000)")
    ap.add_argument("--t-max", type=float, default=None, help="simulated time, ms (default 100)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per package")
    ap.add_argument("--no-agreement", action="store_true", help="skip the agreement check")
    args = ap.parse_args(argv)
    n_cells = args.cells if args.cells is not None else (200 if args.quick else 1000)
    t_max = args.t_max if args.t_max is not None else (20.0 if args.quick else 100.0)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)

    warnings.filterwarnings("ignore")
    print(versions())
    print(f"devices: {jax.devices()}  x64: {jax.config.jax_enable_x64}")
    print(f"{n_cells} HH point cells, sparse_connect p={P_CONNECT}, step current {I_AMP} nA "
          f"into {max(1, n_cells // 10)} cells, v of {min(10, n_cells)} recorded; t_max "
          f"{t_max} ms, delta_t {DELTA_T} ms ({int(t_max // DELTA_T + 1)} steps); "
          f"{repeats} runs (median)")
    m = measure(n_cells, t_max, repeats, agreement=not args.no_agreement, verbose=True)
    res, labels = m["ours_ref"], ["ours", "reference"]
    connect_times, connect_count = m["connect_alone"]
    agreement = m["agreement"]
    o, r = res["ours"], res["reference"]
    rows = [
        ("synapses (sparse_connect p=0.1)", "n", o["n_syn"], r["n_syn"]),
        ("build: Network([cell]*n)", "s", o["construct"], r["construct"]),
        ("build: insert(HH())", "s", o["insert"], r["insert"]),
        ("build: sparse_connect", "s", o["connect"], r["connect"]),
        ("build: total", "s", o["build"], r["build"]),
        ("build: total (2nd fresh build)", "s", o["build2"], r["build2"]),
        ("jit(integrate): first call", "s", o["first"], r["first"]),
        ("jit(integrate): run (median)", "s", o["run"], r["run"]),
        ("jit(integrate): run (min)", "s", o["run_min"], r["run_min"]),
        ("first call - run (median): overhead", "s", o["first"] - o["run"],
         r["first"] - r["run"]),
        ("first call pieces: to_jax()", "s", o["to_jax"], r["to_jax"]),
        ("  jit(...).trace (Python + tracing)", "s", o["trace"], r["trace"]),
        ("  .lower (to StableHLO)", "s", o["lower"], r["lower"]),
        ("  .compile (XLA)", "s", o["compile"], r["compile"]),
        ("  first run of the compiled", "s", o["run1"], r["run1"]),
        ("  all pieces but the run", "s", o["to_jax"] + o["trace"] + o["lower"] + o["compile"],
         r["to_jax"] + r["trace"] + r["lower"] + r["compile"]),
    ]
    print()
    hdr = f"{'metric':38s} {'ours':>13s} {'reference':>13s} {'ours/ref':>9s}"
    print(hdr)
    print("-" * len(hdr))
    for metric, unit, ours, ref in rows:
        if unit == "n":
            print(f"{metric:38s} {ours:13d} {ref:13d} {ours / ref:9.3f}")
        else:
            print(f"{metric:38s} {fmt(ours)} {fmt(ref)} {ours / ref:9.2f}")
    print("ours/ref < 1: ours faster. 'first call' = trace + compile + one run of a fresh"
          " jax.jit(integrate);\nthe pieces come from a second fresh network per package"
          " (jax's trace/lower/compile API).")
    print(f"ours' sparse_connect alone, 1000 cells -> {connect_count} synapses: "
          f"median {statistics.median(connect_times) * 1e3:.1f} ms, "
          f"min {min(connect_times) * 1e3:.1f} ms ({len(connect_times)} fresh networks)")
    print()
    ok = True
    for label in labels:
        v = res[label]["v"]
        finite = bool(np.all(np.isfinite(v)))
        ok &= finite
        spikes = spike_count(v)
        print(f"{label:9s} trace {v.shape}: finite {finite}, max v {np.nanmax(v):.2f} mV, "
              f"min v {np.nanmin(v):.2f} mV, final v {np.round(v[:3, -1], 2).tolist()}... mV, "
              f"spikes per recorded cell {spikes.tolist()}")
    if agreement is not None:
        dv, no, nr, shape, vmax = agreement
        good = dv <= TOL_MV and no == nr
        ok &= good
        print(f"agreement (connectivity_matrix_connect, same matrix, {min(n_cells, 200)} cells, "
              f"{min(t_max, 20.0)} ms): {no} vs {nr} synapses, trace {shape}, max v "
              f"{vmax:.2f} mV, max |ΔV| = {dv:.3e} mV ({'OK' if good else 'MISMATCH'} at "
              f"{TOL_MV:g} mV)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
