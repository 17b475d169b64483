"""Lane padding: batched HH cables whose compartment count XLA's CPU vectoriser handles badly.

Run: ``python bench/lane_padding.py [--dtype float64|float32] [--ncomp 12,13,14,16]
[--batch 1024] [--repeats 5] [--no-reference]``. For each cable of ``ncomp`` HH
compartments it times ``jax.jit(jax.vmap(integrate))`` over ``batch`` soma stimulus
amplitudes (20 ms, dt 0.025 ms) three ways, interleaved, and prints ns per cell step:
ours as the step evaluates it (padded where ``simulator.node_index.lane_padding`` says so),
ours with padding switched off (the channel declares ``lane_padding = False``), and the
reference (jaxley) on the same cable, with the largest |Δv| between ours padded and
unpadded. See docs/performance.md ("Lane padding").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DELTA_T, interleaved, median, timer  # noqa: E402

T_MAX = 20.0


def cable_runner(jx, channel, ncomp, batch):
    """``(run, amps)``: jit of vmap of ``integrate`` of an HH cable over soma amplitudes."""
    import jax
    import jax.numpy as jnp

    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=[-1])
    cell.insert(channel)
    soma = cell.branch(0).comp(0)
    soma.record("v", verbose=False)
    wave = jx.step_current(1.0, 5.0, 1.0, DELTA_T, T_MAX)

    def one(a):
        stim = soma.data_stimulate(a * wave, verbose=False)
        return jx.integrate(cell, t_max=T_MAX, delta_t=DELTA_T, data_stimuli=stim)[0]

    return jax.jit(jax.vmap(one)), jnp.linspace(0.0, 1.0, batch)


def measure(ncomp, batch, repeats, reference=True):
    """``{label: ns per cell step}`` and the max |Δv| (mV) padded vs unpadded."""
    import jax
    import numpy as np

    import simulator
    from simulator.channels import HH

    class UnpaddedHH(HH):
        lane_padding = False

    runs = {"ours": cable_runner(simulator, HH(), ncomp, batch),
            "ours unpadded": cable_runner(simulator, UnpaddedHH("HH"), ncomp, batch)}
    if reference:
        import jaxley
        from jaxley.channels import HH as RefHH

        runs["reference"] = cable_runner(jaxley, RefHH(), ncomp, batch)
    outs = {k: np.asarray(jax.block_until_ready(run(a))) for k, (run, a) in runs.items()}
    times = interleaved({k: timer(run, a) for k, (run, a) in runs.items()}, repeats)
    steps = batch * round(T_MAX / DELTA_T)
    ns = {k: median(t) / steps * 1e9 for k, t in times.items()}
    return ns, float(np.abs(outs["ours"] - outs["ours unpadded"]).max())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--ncomp", default="12,13,14,16")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", args.dtype == "float64")
    from simulator import node_index

    print(f"HH cable x {args.batch} batched, {T_MAX:g} ms, {args.dtype}: ns per cell step")
    print(f"{'ncomp':>5} {'padded to':>9} {'ours':>8} {'unpadded':>9} {'reference':>9} "
          f"{'unpadded/ours':>13} {'ref/ours':>8} {'max|dv| mV':>10}")
    for n in (int(x) for x in args.ncomp.split(",")):
        ns, dv = measure(n, args.batch, args.repeats, not args.no_reference)
        ref = ns.get("reference", float("nan"))
        pad = n + node_index.lane_padding(n, args.dtype)
        print(f"{n:>5} {pad:>9} {ns['ours']:>8.0f} {ns['ours unpadded']:>9.0f} {ref:>9.0f} "
              f"{ns['ours unpadded'] / ns['ours']:>13.2f} {ref / ns['ours']:>8.2f} {dv:>10.1e}",
              flush=True)


if __name__ == "__main__":
    main()
