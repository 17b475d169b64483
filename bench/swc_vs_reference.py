"""read_swc and simulation time of SWC cells: ours vs the reference (jaxley), same process.

Run: ``python bench/swc_vs_reference.py [--quick]``. float64, CPU, HH everywhere, 0.5 nA
into the soma, t_max 20 ms (5 with --quick). Prints one table; ratio = ours / reference.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jaxley  # noqa: E402
import jaxley.channels  # noqa: E402
import numpy as np  # noqa: E402

import simulator  # noqa: E402
import simulator.channels  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "swc"
CASES = [("morph_ca1_n120.swc", 4), ("morph_l5pc_with_axon.swc", 2)]


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        if isinstance(out, jax.Array):
            out.block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def build(pkg, channels, path, ncomp):
    with contextlib.redirect_stdout(io.StringIO()):
        cell = pkg.read_swc(str(path), ncomp=ncomp)
        cell.insert(channels.HH())
        cell.branch(0).loc(0.5).stimulate(pkg.step_current(1.0, 10.0, 0.5, 0.025, T_MAX))
        cell.branch(0).loc(0.5).record()
    return cell


def main() -> None:
    global T_MAX
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    T_MAX = 5.0 if args.quick else 20.0
    repeats = 3 if args.quick else 5
    rows = []
    for fname, ncomp in CASES:
        path = DATA / fname
        for label, pkg, channels in (("ours", simulator, simulator.channels),
                                     ("reference", jaxley, jaxley.channels)):
            def read(pkg=pkg, path=path, ncomp=ncomp):
                with contextlib.redirect_stdout(io.StringIO()):
                    return pkg.read_swc(str(path), ncomp=ncomp)

            t_read, cell = timed(read, repeats)
            cell = build(pkg, channels, path, ncomp)
            def simulate(p, pkg=pkg, cell=cell):
                return pkg.integrate(cell, params=p, t_max=T_MAX)

            sim = jax.jit(simulate)
            t_first, _ = timed(lambda sim=sim, cell=cell: sim(cell.get_parameters()), 1)
            t_run, v = timed(lambda sim=sim, cell=cell: sim(cell.get_parameters()), repeats)
            rows.append((fname, ncomp, label, t_read, t_first, t_run, float(np.max(v))))
    from importlib.metadata import version

    print(f"jax {jax.__version__}, jaxley {version('jaxley')}, devices {jax.devices()},"
          f" float64, t_max {T_MAX} ms")
    header = f"{'cell':34s} {'metric':22s} {'ours':>10s} {'reference':>10s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    for i in range(0, len(rows), 2):
        ours, ref = rows[i], rows[i + 1]
        name = f"{ours[0]} ncomp={ours[1]}"
        metrics = ((3, "read_swc (s)"), (4, "first integrate (s)"), (5, "integrate run (s)"))
        for j, metric in metrics:
            print(f"{name:34s} {metric:22s} {ours[j]:10.3f} {ref[j]:10.3f} {ours[j] / ref[j]:7.2f}")


if __name__ == "__main__":
    main()
