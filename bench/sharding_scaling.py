"""Benchmark: rollouts sharded over 1, 2, 4 devices (``neuroenv.sharding.sharded_evaluate``).

A fixed batch of VoltageTarget-v0 episodes (the task's cell: three branches of 4 HH
compartments; 1 ms control period = 40 solver steps of 0.025 ms; a noisy proportional
policy; float32) runs as one ``sharded_evaluate`` call per repeat, on a mesh of d devices.
On a CPU-only machine the d devices are fake ones
(``XLA_FLAGS=--xla_force_host_platform_device_count=d``): each device runs its block of the
batch on its own thread, so the speed-up is bounded by the number of cores
(``os.cpu_count()``, printed). Each device count runs in its own subprocess (the device count
is fixed when JAX starts): they compile at the same time, then run their timed calls one
after the other. Compilation (first call, slower while the children compile together) is
excluded from the rates and printed separately.

Columns: devices | batch | median s (per call, over repeats) | solver-steps/s
(batch x n_steps x substeps / median) | speed-up (vs 1 device).

Run: ``python bench/sharding_scaling.py [--quick] [--batch B] [--steps T] [--repeats R]
[--devices 1 2 4]`` (``--quick``: batch 256, 10 control periods, 3 repeats; about a minute on
2 idle cores, mostly compilation). Exits 1 if a run fails or returns non-finite results;
asserts nothing about speed. With accelerators, ``--real-devices`` uses the first d of
``jax.devices()`` instead of fake CPU devices.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASK = "VoltageTarget-v0"


def child(n_devices: int, batch: int, n_steps: int, repeats: int) -> dict:
    """Runs in the subprocess: times ``sharded_evaluate`` on the first ``n_devices`` devices."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import neuroenv
    from neuroenv.sharding import sharded_evaluate
    from simulator.sharding import batch_mesh

    devices = jax.devices()
    if len(devices) < n_devices:
        raise SystemExit(f"asked for {n_devices} devices, JAX has {len(devices)}: {devices}")
    mesh = batch_mesh(devices[:n_devices])
    env, params = neuroenv.make(TASK)

    def policy(obs, key):  # proportional feedback towards the target, plus noise
        return jnp.clip((obs[-1:] - obs[:1]) / 10.0 + 0.1 * jax.random.normal(key, (1,)),
                        -1.0, 1.0)

    def call(seed):
        keys = jax.random.split(jax.random.key(seed), batch)
        out = sharded_evaluate(env, params, policy, keys, n_steps, mesh=mesh)
        return jax.block_until_ready(out)

    start = time.perf_counter()
    first = call(0)
    compile_s = time.perf_counter() - start
    # The children compile concurrently; the timed calls run one child at a time.
    print("ready", flush=True)
    sys.stdin.readline()
    times = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        out = call(seed)
        times.append(time.perf_counter() - start)
    returns = np.asarray(out.returns)
    return {"devices": n_devices, "platform": devices[0].platform, "batch": batch,
            "n_steps": n_steps, "substeps": env.substeps, "first_call_s": compile_s,
            "median_s": statistics.median(times), "min_s": min(times),
            "finite": bool(np.all(np.isfinite(returns))
                           and np.all(np.isfinite(np.asarray(first.returns)))),
            "mean_return": float(returns.mean()),
            "sharding": str(out.returns.sharding.spec),
            "n_result_devices": len(out.returns.sharding.device_set)}


def start_child(n_devices: int, args) -> subprocess.Popen:
    """Start the child for ``n_devices``; it compiles, prints "ready" and waits for a line."""
    env = dict(os.environ)
    if not args.real_devices:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "")
                            + f" --xla_force_host_platform_device_count={n_devices}").strip()
        env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    code = (f"import json, runpy; ns = runpy.run_path({str(Path(__file__).resolve())!r});"
            f" print(json.dumps(ns['child']({n_devices}, {args.batch}, {args.steps},"
            f" {args.repeats})))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _fail(n_devices: int, proc: subprocess.Popen):
    proc.kill()
    raise SystemExit(f"the run on {n_devices} devices failed (exit {proc.wait()})")


def run_children(args) -> list[dict]:
    """Compile in every child at once (time-to-table halves on 2 cores), then time one by
    one so that the timed calls do not compete for the cores."""
    procs = {d: start_child(d, args) for d in args.devices}
    for d, proc in procs.items():
        line = "start"
        while line and line.strip() != "ready":  # skip anything the child printed before
            line = proc.stdout.readline()
        if not line:
            _fail(d, proc)
    rows = []
    for d, proc in procs.items():
        out, _ = proc.communicate("go\n")
        if proc.returncode != 0:
            _fail(d, proc)
        rows.append(json.loads(out.strip().splitlines()[-1]))
    return rows


QUICK = {"batch": 256, "steps": 10, "repeats": 3}
FULL = {"batch": 1024, "steps": 50, "repeats": 5}


def measure(quick: bool = False, devices=(1, 2, 4)) -> list[dict]:
    """One row dict per device count (for ``bench/run.py``): ``ours_s`` is the median time
    of one sharded call, ``speed_up`` against 1 device, ``ok`` whether results are finite."""
    args = argparse.Namespace(devices=list(devices), real_devices=False,
                              **(QUICK if quick else FULL))
    rows = run_children(args)
    base = next((r for r in rows if r["devices"] == 1), rows[0])
    return [{"metric": f"{r['devices']} {r['platform']} device(s), batch {r['batch']}",
             "ours_s": r["median_s"], "ok": r["finite"],
             "speed_up": base["median_s"] / r["median_s"],
             "solver_steps_per_s": r["batch"] * r["n_steps"] * r["substeps"] / r["median_s"],
             "cpu_count": os.cpu_count()} for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 256, 10 periods, 3 repeats")
    parser.add_argument("--batch", type=int, default=None, help="episodes per call (default 1024)")
    parser.add_argument("--steps", type=int, default=None,
                        help="control periods per episode (default 50)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 5)")
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--real-devices", action="store_true",
                        help="use jax.devices() as they are (GPUs/TPUs), no fake CPU devices")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    print(f"task {TASK}, os.cpu_count() = {os.cpu_count()}, python {sys.version.split()[0]}")
    print("fake CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=d): speed-up is"
          " bounded by the number of cores" if not args.real_devices else "real devices")
    rows = run_children(args)
    base = next((r for r in rows if r["devices"] == 1), rows[0])
    header = (f"{'devices':>7} | {'batch':>5} | {'median s':>9} | {'solver-steps/s':>14} |"
              f" {'speed-up':>8} | {'first call s':>12} | result sharding")
    print(header)
    print("-" * len(header))
    ok = True
    for r in rows:
        steps = r["batch"] * r["n_steps"] * r["substeps"]
        print(f"{r['devices']:>7} | {r['batch']:>5} | {r['median_s']:>9.3f} |"
              f" {steps / r['median_s']:>14.3g} | {base['median_s'] / r['median_s']:>7.2f}x |"
              f" {r['first_call_s']:>12.1f} | {r['sharding']} over {r['n_result_devices']}"
              f" {r['platform']} device(s)")
        ok = ok and r["finite"]
    print(f"({args.steps} control periods x {base['substeps']} solver steps per episode,"
          f" {args.repeats} timed calls each; mean return {base['mean_return']:.3f})")
    if not ok:
        print("non-finite returns", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
