"""Cost of extracellular recording and stimulation, as a ratio to the same run without them.

Two workloads, each in three variants run under ``jax.jit`` and timed as interleaved repeats
(medians):

- ``ca1``: the CA1 cell (``morph_ca1_n120.swc``, ncomp 4, HH), one run of 100 ms (20 ms
  with ``--quick``), the soma voltage recorded;
- ``batch``: 1,024 ball-and-stick cells (soma + 8 dendrite compartments, HH) vmapped over
  the soma's sodium conductance, 20 ms (5 ms with ``--quick``).

Variants: ``plain`` (no electrode), ``record`` (+ a 4-contact lead whose potentials are
recorded: n_contacts more rows per step) and ``record+stim`` (+ a biphasic 130 Hz pulse
train on contact 0). The issue's target: recording ≤ 1.2 × the plain step.

    python -m bench --only extracellular [--quick]
    python bench/extracellular.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import DELTA_T, SWC_DIR, interleaved, median, timed  # noqa: E402

#: The issue's bound on the recording cost, as a ratio to the plain step.
TARGET_RATIO = 1.2
VARIANTS = ("plain", "record", "record+stim")
N_BATCH = 1024


def _pulses(n_steps: int, amp: float = 20.0, period_ms: float = 1000.0 / 130.0):
    """(n_steps,) µA: cathodic-first biphasic pulses, 0.1 ms per phase, 130 Hz."""
    import numpy as np

    t = np.arange(n_steps) * DELTA_T % period_ms
    return np.where(t < 0.1, -amp, np.where(t < 0.2, amp, 0.0))


def _lead(centre):
    from simulator.extracellular import point_contacts

    return point_contacts([[centre[0] + dx, centre[1] + 100.0, centre[2]]
                           for dx in (-150.0, -50.0, 50.0, 150.0)])


def _with_electrode(cell, variant: str, n_steps: int, centre) -> None:
    if variant == "plain":
        return
    cell.add_electrode(_lead(centre), name="lead")
    cell.record_extracellular("lead")
    if variant == "record+stim":
        cell.stimulate_extracellular("lead", _pulses(n_steps), contacts="c0")


def _ca1(variant: str, t_max: float):
    import jax

    import simulator as jx
    from simulator.channels import HH

    cell = jx.read_swc(SWC_DIR / "morph_ca1_n120.swc", 4, backend="neuron")
    cell.insert(HH())
    cell.branch(0).loc(0.5).record(verbose=False)
    n_steps = int(t_max // DELTA_T + 1)
    _with_electrode(cell, variant, n_steps, cell.xyzr[0][0, :3])
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, t_max, 0.5, DELTA_T, t_max),
                                      verbose=False)
    run = jax.jit(lambda: jx.integrate(cell, t_max=t_max, delta_t=DELTA_T))
    return run, ()


def _batch(variant: str, t_max: float):
    import jax
    import jax.numpy as jnp

    import simulator as jx
    from simulator.channels import HH

    soma = jx.Branch(jx.Compartment(), ncomp=1)
    dend = jx.Branch(jx.Compartment(), ncomp=8)
    cell = jx.Cell([soma, dend], parents=[-1, 0])
    cell.branch(0).set("length", 20.0)
    cell.branch(0).set("radius", 10.0)
    cell.branch(1).set("length", 50.0)
    cell.branch(1).set("radius", 0.5)
    cell.compute_xyz()
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    n_steps = int(t_max // DELTA_T + 1)
    _with_electrode(cell, variant, n_steps, [200.0, 0.0, 0.0])
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, t_max, 0.3, DELTA_T, t_max),
                                     verbose=False)
    cell.branch(0).make_trainable("HH_gNa", verbose=False)
    gna = jnp.linspace(0.08, 0.16, N_BATCH)[:, None]
    one = lambda g: jx.integrate(cell, params=[{"HH_gNa": g}], t_max=t_max,  # noqa: E731
                                 delta_t=DELTA_T)
    return jax.jit(jax.vmap(one)), (gna,)


def measure(quick: bool = False, repeats: int | None = None) -> list[dict]:
    """Per workload and variant: median seconds per run and the ratio to ``plain``.

    Returns a list of dicts: workload, variant, n_steps, seconds (median), ratio (to the
    plain variant of the same workload), first_call_s (trace + compile + run).
    """
    repeats = repeats or (3 if quick else 7)
    workloads = {"ca1": (_ca1, 20.0 if quick else 100.0),
                 "batch": (_batch, 5.0 if quick else 20.0)}
    out = []
    for workload, (build, t_max) in workloads.items():
        programs, first = {}, {}
        for variant in VARIANTS:
            fn, args = build(variant, t_max)
            first[variant] = timed(fn, *args)[0]
            programs[variant] = (fn, args)
        times = interleaved({v: (lambda f=fn, a=args: timed(f, *a)[0])
                             for v, (fn, args) in programs.items()}, repeats)
        plain = median(times["plain"])
        for variant in VARIANTS:
            seconds = median(times[variant])
            out.append({"workload": workload, "variant": variant,
                        "n_steps": int(t_max // DELTA_T + 1), "seconds": seconds,
                        "ratio": seconds / plain, "first_call_s": first[variant]})
    return out


def format_table(results: list[dict]) -> str:
    lines = [f"{'workload':<10}{'variant':<13}{'steps':>7}{'median':>12}{'ratio':>8}"
             f"{'first call':>13}  target"]
    for r in results:
        target = "" if r["variant"] == "plain" else f"≤ {TARGET_RATIO} " + (
            "met" if r["ratio"] <= TARGET_RATIO else "MISSED")
        lines.append(f"{r['workload']:<10}{r['variant']:<13}{r['n_steps']:>7}"
                     f"{r['seconds'] * 1e3:>9.1f} ms{r['ratio']:>8.3f}"
                     f"{r['first_call_s']:>11.2f} s  {target}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    import jax

    jax.config.update("jax_enable_x64", True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    args = ap.parse_args(argv)
    print(format_table(measure(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
