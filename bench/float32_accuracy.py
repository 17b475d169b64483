"""float32 against float64: the accuracy table of ``docs/performance.md``.

Run from the repository root: ``python bench/float32_accuracy.py [--quick]`` (prints the
table), or as the ``float32`` section of ``python -m bench``. Three parts, each figure a
maximum over every compartment and every time step, next to ``TOLERANCE_MV``:

* **uniform cell** (:func:`uniform_sweep`): a 5-branch, 20-compartment HH cell of equal
  cylinders, compartment length 10 … 0.01 µm, axial resistivity 1e-4 … 1e4 Ω·cm, with and
  without a current of equal density in every compartment, 10 ms from −70 mV (one spike).
  Its voltage must not depend on geometry, so besides float32 − float64 the table gives
  each precision's deviation from a single compartment ("invariance");
* **CA1** (:func:`ca1_rows`): DendriteControl's cell (``neuroenv/data/morph_ca1_n120.swc``,
  shortest compartment 0.18 µm at ncomp 1) at ncomp 1 and 4 and with NEURON's d_lambda rule,
  a somatic current step that fires the soma, 40 ms;
* **tasks** (:func:`task_rows`): every base task's cell over an episode of its functional
  env (zero initial jitter and observation noise, same seed, same random actions), the
  voltage of every compartment at every control period and the recorded trace of every
  solver step.

float32 runs under ``jax.enable_x64(False)``, float64 under ``jax.enable_x64(True)``; each
builds its own model in its precision.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Required bound on max |v_float32 − v_float64| (mV), from issue 13.
TOLERANCE_MV = 0.05
LENGTHS_UM = (10.0, 1.0, 0.1, 0.01)
RESISTIVITIES = (1e-4, 1e-2, 1.0, 100.0, 1e4)
#: Solver / voltage-solver pairs of the full uniform sweep; the others get a subset.
SOLVERS = (("bwd_euler", "jaxley.dhs"), ("crank_nicolson", "jaxley.dhs"),
           ("bwd_euler", "jaxley.dhs.gpu"), ("bwd_euler", "dense"), ("exp_euler", "jaxley.dhs"))
DT = 0.025  # ms
UNIFORM_T = 10.0  # ms
#: Current density of the stimulated uniform cell: nA per µm² of membrane.
STIM_NA_PER_UM2 = 0.02 / (2 * np.pi * 10.0)


def _v(x64: bool):
    return jax.enable_x64(x64)


def _uniform_cell(length, ra, single):
    import simulator as jx
    from simulator.channels import HH

    if single:
        cell = jx.Compartment()
    else:
        cell = jx.Cell([jx.Branch(jx.Compartment(), 4)] * 5, parents=[-1, 0, 0, 1, 1])
    cell.set("length", length)
    cell.set("radius", 1.0)
    cell.set("axial_resistivity", ra)
    cell.insert(HH())
    cell.set("v", -70.0)
    cell.init_states()
    cell.record(verbose=False)
    return cell


def uniform_run(length, ra, stimulated, x64, solver="bwd_euler", voltage_solver="jaxley.dhs",
                single=False):
    """(n_comps, n_steps + 1) voltages (mV, float64 copy) of the uniform cell or, with
    ``single``, of one compartment of the same geometry."""
    import simulator as jx

    with _v(x64):
        cell = _uniform_cell(length, ra, single)
        if stimulated:
            n = int(round(UNIFORM_T / DT)) + 2
            current = np.zeros(n)
            current[40:240] = STIM_NA_PER_UM2 * 2 * np.pi * 1.0 * length  # nA per compartment
            cell.stimulate(current, verbose=False)
        out = jx.integrate(cell, t_max=UNIFORM_T, delta_t=DT, solver=solver,
                           voltage_solver=voltage_solver)
        return np.asarray(out, np.float64)


def _max_abs(a, b):
    d = np.abs(a - b)
    return float("nan") if np.isnan(d).any() else float(d.max())


def uniform_row(length, ra, stimulated, solver="bwd_euler", voltage_solver="jaxley.dhs"):
    v32 = uniform_run(length, ra, stimulated, False, solver, voltage_solver)
    v64 = uniform_run(length, ra, stimulated, True, solver, voltage_solver)
    s32 = uniform_run(length, ra, stimulated, False, solver, voltage_solver, single=True)
    s64 = uniform_run(length, ra, stimulated, True, solver, voltage_solver, single=True)
    return {"part": "uniform", "solver": f"{solver}/{voltage_solver}", "length_um": length,
            "ra_ohm_cm": ra, "stimulated": stimulated,
            "f32_vs_f64_mV": _max_abs(v32, v64), "f32_invariance_mV": _max_abs(v32, s32),
            "f64_invariance_mV": _max_abs(v64, s64),
            "single_f32_vs_f64_mV": _max_abs(s32, s64)}


def uniform_sweep(quick=False):
    """Rows of the uniform-cell sweep: every length × Ra × (stimulated or not) for the
    default solver, the first and last lengths and extreme Ra for the other solvers."""
    rows = []
    lengths = (10.0, 0.01) if quick else LENGTHS_UM
    ras = (1e-4, 100.0) if quick else RESISTIVITIES
    for solver, vsolver in SOLVERS[: 1 if quick else None]:
        full = (solver, vsolver) == SOLVERS[0]
        for length in lengths if full else (lengths[0], lengths[-1]):
            for ra in ras if full else (ras[0], 100.0):
                for stimulated in (False, True):
                    rows.append(uniform_row(length, ra, stimulated, solver, vsolver))
    return rows


def _ca1(ncomp, d_lambda):
    from neuroenv.tasks.dendrite_control import ca1_cell

    cell, _, _ = ca1_cell(1 if d_lambda else ncomp)
    if d_lambda:
        cell.delete_recordings()
        cell.set_ncomp_d_lambda(0.1)
        cell.init_states()
    cell.delete_recordings()
    cell.record(verbose=False)
    return cell


CA1_T = 40.0  # ms
CA1_STIM_NA = 0.3  # nA into the soma from 5 to 35 ms


def ca1_run(ncomp, d_lambda, x64, solver="bwd_euler"):
    """(n_comps, n_steps + 1) voltages (mV) of the CA1 cell with a somatic current step,
    and its shortest compartment (µm)."""
    import simulator as jx

    with _v(x64):
        cell = _ca1(ncomp, d_lambda)
        n = int(round(CA1_T / DT)) + 2
        current = np.zeros(n)
        current[200:1400] = CA1_STIM_NA
        cell.soma.branch(0).comp(0).stimulate(current, verbose=False)
        out = jx.integrate(cell, t_max=CA1_T, delta_t=DT, solver=solver)
        return np.asarray(out, np.float64), float(np.min(cell.nodes["length"]))


def ca1_rows(quick=False):
    rows = []
    configs = [(1, False)] if quick else [(1, False), (4, False), (1, True)]
    for ncomp, d_lambda in configs:
        for solver in ("bwd_euler",) if quick else ("bwd_euler", "crank_nicolson",
                                                   "exp_euler"):
            if solver == "exp_euler" and (ncomp > 1 or d_lambda):
                continue  # dense n_comps² transition: the smallest cell only
            v32, shortest = ca1_run(ncomp, d_lambda, False, solver)
            v64, _ = ca1_run(ncomp, d_lambda, True, solver)
            rows.append({"part": "CA1", "solver": solver,
                         "config": "d_lambda 0.1" if d_lambda else f"ncomp {ncomp}",
                         "n_comps": v64.shape[0], "shortest_um": shortest,
                         "v_max_mV": float(v64.max()),
                         "f32_vs_f64_mV": _max_abs(v32, v64)})
    return rows


TASK_STEPS = 200  # control periods (the default episode length)


def task_run(name, x64, n_periods, seed=0):
    """(n_periods, n_nodes) voltages at the period ends and (n_periods·substeps, n_rec)
    recorded traces of one episode with zero jitter and noise and seeded random actions."""
    import neuroenv

    with _v(x64):
        env, params = neuroenv.make(name)
        params = params.replace(init_v_jitter=np.float32(0.0), obs_noise_std=np.float32(0.0))
        key = jax.random.PRNGKey(seed)
        _, state = jax.jit(env.reset_env)(key, params)
        step = jax.jit(env.step_env)
        actions = np.random.default_rng(seed).uniform(-1, 1, (n_periods, env.n_sites))
        vs, traces = [], []
        for k in range(n_periods):
            key, sub = jax.random.split(key)
            _, state, _, _, _ = step(sub, state, actions[k].astype(np.float32), params)
            vs.append(np.asarray(state.sim["v"], np.float64))
            traces.append(np.asarray(state.last_trace, np.float64))
        return np.stack(vs), np.concatenate(traces)


def task_rows(quick=False):
    from neuroenv.registry import BASE_TASKS

    rows = []
    for name in BASE_TASKS:
        n = 20 if quick else TASK_STEPS
        v32, t32 = task_run(name, False, n)
        v64, t64 = task_run(name, True, n)
        rows.append({"part": "task", "solver": "bwd_euler", "config": name,
                     "n_nodes": v64.shape[1], "periods": n, "v_max_mV": float(v64.max()),
                     "f32_vs_f64_mV": max(_max_abs(v32, v64), _max_abs(t32, t64))})
    return rows


def measure(quick=False):
    """Every row (dicts; ``f32_vs_f64_mV`` against ``TOLERANCE_MV``)."""
    rows = uniform_sweep(quick) + ca1_rows(quick) + task_rows(quick)
    for r in rows:
        r["ok"] = bool(r["f32_vs_f64_mV"] <= TOLERANCE_MV)
        if r["part"] == "uniform":
            r["ok"] &= bool(r["f32_invariance_mV"] <= TOLERANCE_MV)
    return rows


def _g(x):
    return "nan" if x != x else f"{x:.2g}"


def format_table(rows) -> str:
    """Markdown tables: the uniform sweep, then CA1 and the tasks."""
    lines = [f"max |v_float32 − v_float64| (mV); tolerance {TOLERANCE_MV} mV", "",
             "| uniform cell: solver | length µm | Ra Ω·cm | stim | f32 − f64 | "
             "f32 invariance | f64 invariance | 1 comp. f32 − f64 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["part"] == "uniform":
            lines.append(f"| {r['solver']} | {r['length_um']:g} | {r['ra_ohm_cm']:g} | "
                         f"{'yes' if r['stimulated'] else 'no'} | {_g(r['f32_vs_f64_mV'])} | "
                         f"{_g(r['f32_invariance_mV'])} | {_g(r['f64_invariance_mV'])} | "
                         f"{_g(r['single_f32_vs_f64_mV'])} |")
    lines += ["", "| cell | solver | compartments | shortest µm | max v mV | f32 − f64 |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        if r["part"] == "CA1":
            lines.append(f"| CA1 {r['config']} | {r['solver']} | {r['n_comps']} | "
                         f"{r['shortest_um']:.2g} | {r['v_max_mV']:.0f} | "
                         f"{_g(r['f32_vs_f64_mV'])} |")
        elif r["part"] == "task":
            lines.append(f"| {r['config']} ({r['periods']} periods) | {r['solver']} | "
                         f"{r['n_nodes']} nodes | | {r['v_max_mV']:.0f} | "
                         f"{_g(r['f32_vs_f64_mV'])} |")
    worst = max((r["f32_vs_f64_mV"] for r in rows), default=float("nan"))
    lines += ["", f"worst f32 − f64: {_g(worst)} mV; all within tolerance: "
                  f"{all(r['ok'] for r in rows)}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a representative subset (about a minute)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = measure(quick=args.quick)
    print(format_table(rows))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
