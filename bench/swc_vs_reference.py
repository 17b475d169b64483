"""SWC cells: ours vs the reference (jaxley 0.14) and NEURON, same process, float64.

Both JAX packages read the same SWC file (``read_swc``, jaxley 0.14's graph reader in both:
the same 155 branches of CA1), set axial resistivity 100 Ω·cm, insert
HH everywhere, start at -65 mV (``init_states``), inject 0.5 nA into the soma from 1 ms to
``t_max`` and record the soma voltage; delta_t 0.025 ms. NEURON builds the same file with
Import3d (nseg = ncomp, Ra 100, cm 1, ``hh``, ``usetable_hh = 0``, 6.3 °C, backward Euler) and
the same stimulus; its run is ``finitialize`` + ``continuerun`` (no Python per step), and its
voltage is compared with our cell read by Import3d as well (``read_swc(backend="neuron")``).

Per package: ``read_swc`` seconds, the first call of ``jax.jit(integrate)`` (trace + compile +
run) and its steady-state run (median of repeats, the packages alternating), and with
``grad`` the same for ``jax.jit(jax.grad(sum of the soma voltage))`` w.r.t. ``HH_gNa``.
Cross-checks: ours vs NEURON mean |ΔV| ≤ 0.05 mV (the tests' bar; exit 1 if not), ours vs
the reference max |ΔV| (printed).

Run: ``python bench/swc_vs_reference.py [--quick] [--t-max MS] [--repeats N] [--no-grad]``
(CA1 ncomp 4 and L5PC ncomp 2; t_max 100 ms, 5 repeats; ``--quick``: 20 ms, 3 repeats).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import (  # noqa: E402
    DELTA_T,
    SWC_DIR,
    interleaved,
    median,
    timed,
    timed_plain,
    timer,
    versions,
    warm_up_jax,
    warm_up_package,
)

CASES = [("morph_ca1_n120.swc", 4), ("morph_l5pc_with_axon.swc", 2)]
RA, V_INIT, AMP, DELAY = 100.0, -65.0, 0.5, 1.0
TOL_NEURON_MV = 0.05  # mean |ΔV| ours vs NEURON (tests/simulator/morphology/test_swc_neuron.py)


def load_packages():
    import jaxley
    import jaxley.channels

    import simulator
    import simulator.channels

    return {"ours": (simulator, simulator.channels.HH),
            "reference": (jaxley, jaxley.channels.HH)}


def read(jx, path, ncomp, backend="graph"):
    """``read_swc`` of package ``jx``: ``backend="graph"`` (jaxley 0.14's reader and our
    default; both packages then build the same branches) or ``"neuron"`` (ours only:
    NEURON's Import3d sections, for the comparison with NEURON)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return jx.read_swc(str(path), ncomp=ncomp, backend=backend)


def build(jx, HH, path, ncomp, t_max, cell=None):
    """The benchmarked cell in package ``jx`` (identical calls in both packages); ``cell``:
    a fresh ``read_swc`` result to use instead of reading the file again."""
    cell = cell if cell is not None else read(jx, path, ncomp)
    cell.set("axial_resistivity", RA)
    cell.insert(HH())
    cell.set("v", V_INIT)
    cell.init_states()
    cell.branch(0).loc(0.5).stimulate(jx.step_current(DELAY, t_max, AMP, DELTA_T, t_max),
                                      verbose=False)
    cell.branch(0).loc(0.5).record("v", verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    return cell


def neuron_cell(path, ncomp, our_cell, t_max):
    """The cell in NEURON, stimulated and recorded like ``build``'s; returns (run, vector):
    ``run()`` simulates ``t_max`` ms (``vector`` then holds the soma voltage)."""
    from neuron import h

    # The tests' NEURON builder (Import3d, nseg = ncomp, Ra 100 Ω·cm, cm 1, hh everywhere).
    tests_dir = str(Path(__file__).resolve().parents[1] / "tests" / "simulator")
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    from neuron_swc import _key
    from neuron_swc import neuron_cell as build_sections

    h.load_file("stdrun.hoc")
    _, by_key = build_sections(str(path), ncomp)
    soma = by_key[_key(our_cell.xyzr[0][0, :3], our_cell.xyzr[0][-1, :3])]
    site = int(our_cell.branch(0).loc(0.5).nodes["global_comp_index"].iloc[0])
    seg = soma((site + 0.5) / ncomp)
    stim = h.IClamp(seg)
    stim.delay, stim.dur, stim.amp = DELAY, t_max, AMP
    vec = h.Vector()
    vec.record(seg._ref_v)
    h.usetable_hh = 0
    h.celsius = 6.3
    h.dt = DELTA_T
    h.steps_per_ms = 1.0 / DELTA_T
    h.secondorder = 0

    def run():
        h.finitialize(V_INIT)
        h.continuerun(t_max)

    # keep the HOC objects alive with the closure
    run.keep = (stim, vec, by_key)
    return run, vec


def cached_read(jx, path, ncomp, cache_dir):
    """(``read_swc`` result, seconds or None if it came from the pickle cache in
    ``cache_dir``); the reference's reader takes ~30 s for CA1, so ``--quick`` caches it."""
    import importlib.metadata
    import pickle

    version = importlib.metadata.version(jx.__name__.split(".")[0])
    file = Path(cache_dir) / f"{jx.__name__}-{version}-{Path(path).stem}-ncomp{ncomp}.pkl"
    if file.exists():
        try:
            with open(file, "rb") as f:
                return pickle.load(f), None
        except Exception:  # a stale or partial cache file: read again
            pass
    seconds, cell = timed_plain(read, jx, path, ncomp)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(cell, f)
    os.replace(tmp, file)
    return cell, seconds


def measure(fname="morph_ca1_n120.swc", ncomp=4, t_max=100.0, repeats=5, grad=True,
            neuron=True, read_repeats=1, pkgs=None, cache_dir=None):
    """Time one SWC cell; returns a dict (seconds; see the module docstring).

    Keys: ``ours``/``reference`` -> {read, first, run, run_min, grad_first, grad_run, ...},
    ``neuron`` -> {build, run, run_min} (if ``neuron``), ``dv_reference`` (max |ΔV| ours vs
    reference, mV), ``dv_neuron`` (mean |ΔV| ours vs NEURON, mV), ``ok``. With
    ``cache_dir``, the reference's ``read_swc`` result is pickled there and reused (its
    ``read`` is then None when it came from the cache).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    pkgs = pkgs or load_packages()
    path = SWC_DIR / fname
    res = {"cell": f"{fname} ncomp={ncomp}", "t_max": t_max, "repeats": repeats,
           "dtype": "float64" if jax.config.jax_enable_x64 else "float32"}
    runs, grads, traces, cells = {}, {}, {}, {}
    for label, (jx, HH) in pkgs.items():
        r = res[label] = {}
        if cache_dir is not None and label == "reference":
            fresh, r["read"] = cached_read(jx, path, ncomp, cache_dir)
        else:
            reads = [timed_plain(read, jx, path, ncomp) for _ in range(read_repeats)]
            r["read"], fresh = median([t for t, _ in reads]), reads[-1][1]
        cell = build(jx, HH, path, ncomp, t_max, cell=fresh)
        cells[label] = cell
        params = cell.get_parameters()

        def sim(p, jx=jx, cell=cell):
            return jx.integrate(cell, params=p, t_max=t_max, delta_t=DELTA_T)

        sim = jax.jit(sim)
        r["first"], v = timed(sim, params)
        traces[label] = np.asarray(v)[0]
        r["n_comp"] = len(cell.nodes)
        runs[label] = timer(sim, params)
        if grad:
            def loss(p, jx=jx, cell=cell):
                return jnp.sum(jx.integrate(cell, params=p, t_max=t_max, delta_t=DELTA_T))

            g = jax.jit(jax.grad(loss))
            r["grad_first"], dg = timed(g, params)
            r["dgna"] = float(np.asarray(dg[0]["HH_gNa"]).sum())
            grads[label] = timer(g, params)
    if neuron:
        # NEURON's sections are Import3d's: compared with our cell read the same way (the
        # graph reader splits CA1 into 155 branches, Import3d into 156; timed as above).
        jx, HH = pkgs["ours"]
        ours_neuron = build(jx, HH, path, ncomp, t_max, read(jx, path, ncomp, "neuron"))
        traces["ours_neuron"] = np.asarray(jx.integrate(ours_neuron, t_max=t_max,
                                                        delta_t=DELTA_T))[0]
        t0 = time.perf_counter()
        run, vec = neuron_cell(path, ncomp, ours_neuron, t_max)
        res["neuron"] = {"build": time.perf_counter() - t0, "n_comp": len(ours_neuron.nodes)}
        runs["neuron"] = lambda: timed_plain(run)[0]
        run()
        traces["neuron"] = np.array(vec)
    for kind, fns in (("run", runs), ("grad_run", grads)):
        if not fns:
            continue
        samples = interleaved(fns, repeats)
        for label, s in samples.items():
            res[label][kind] = median(s)
            res[label][kind + "_min"] = min(s)
    vo, vr = traces["ours"], traces["reference"]
    res["dv_reference"] = (float(np.max(np.abs(vo - vr))) if vo.shape == vr.shape
                           else float("inf"))
    res["v_max"] = float(vo.max())
    ok = bool(np.all(np.isfinite(vo)))
    if neuron:
        vn, von = traces["neuron"], traces["ours_neuron"]
        res["dv_neuron"] = (float(np.mean(np.abs(von - vn))) if von.shape == vn.shape
                            else float("inf"))
        ok &= res["dv_neuron"] <= TOL_NEURON_MV
    res["ok"] = ok
    return res


def main(argv=None) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="t_max 20 ms, 3 repeats")
    ap.add_argument("--t-max", type=float, default=None, help="simulated ms (default 100)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs (default 5)")
    ap.add_argument("--no-grad", action="store_true", help="skip the gradient")
    ap.add_argument("--no-neuron", action="store_true", help="skip NEURON")
    args = ap.parse_args(argv)
    t_max = args.t_max if args.t_max is not None else (20.0 if args.quick else 100.0)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    warnings.filterwarnings("ignore")
    neuron = not args.no_neuron
    if neuron:
        try:
            import neuron  # noqa: F401
        except ImportError:
            neuron = False
    print(versions())
    print(f"devices {jax.devices()}, float64, t_max {t_max} ms, delta_t {DELTA_T} ms, "
          f"{repeats} repeats (median, alternating)")
    pkgs = load_packages()
    warm_up_jax()
    for jx, HH in pkgs.values():
        warm_up_package(jx, HH)
    results = [measure(f, n, t_max, repeats, grad=not args.no_grad, neuron=neuron,
                       read_repeats=repeats, pkgs=pkgs) for f, n in CASES]
    header = (f"{'cell':34s} {'metric':24s} {'ours':>10s} {'reference':>10s} {'ratio':>7s}"
              f" {'NEURON':>10s} {'ours/NRN':>8s}")
    print(header)
    print("-" * len(header))
    for res in results:
        o, r, n = res["ours"], res["reference"], res.get("neuron", {})
        for key, metric in (("read", "read_swc (s)"), ("first", "jit integrate: first (s)"),
                            ("run", "jit integrate: run (s)"),
                            ("grad_first", "jit grad: first (s)"),
                            ("grad_run", "jit grad: run (s)")):
            if key not in o:
                continue
            nrn = f"{n[key]:10.3f} {o[key] / n[key]:8.2f}" if key in n else ""
            print(f"{res['cell']:34s} {metric:24s} {o[key]:10.3f} {r[key]:10.3f}"
                  f" {o[key] / r[key]:7.2f} {nrn}")
    print("ratio = ours / reference (lower: ours faster); 'first' = trace + compile + one run")
    ok = True
    for res in results:
        ok &= res["ok"]
        nrn = (f"; mean |ΔV| ours vs NEURON {res['dv_neuron']:.2e} mV (bar {TOL_NEURON_MV})"
               if "dv_neuron" in res else "")
        print(f"{res['cell']}: {res['ours']['n_comp']} compartments, max v {res['v_max']:.1f} mV;"
              f" max |ΔV| ours vs reference {res['dv_reference']:.2e} mV{nrn}"
              f"{'' if res['ok'] else '  MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
