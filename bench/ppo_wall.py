"""Wall time of rejax PPO on VoltageTarget-v0 and, with the same configuration, on gymnax's
Pendulum-v1: what share of a training run the neuron costs (issue 18, report only).

Both runs use :data:`neuroenv.ppo.CONFIG` (64 envs x 64 steps per rollout, 8 epochs x 8
minibatches, MLP 64x64 tanh, observation and reward normalisation) with rejax's periodic
evaluation off, for ``timesteps`` env steps (131,072; ``--quick`` 16,384), one seed.
VoltageTarget goes through :func:`neuroenv.ppo.make_algo` (the adapter
:class:`neuroenv.adapters.GymnaxLegacy`); Pendulum-v1 is gymnax 1.0's env through the
same adapter (rejax 0.1.3 expects gymnax 0.x's five-value step). Per env: ``first`` =
trace + compile + one training run of ``jax.jit(algo.train)``, ``run`` = the median of
``repeats`` further runs (new seeds, the compiled program reused), the envs interleaved.
The neuron's share is ``1 - pendulum run / voltage-target run``: the part of a training run
that is not PPO's own work on a 3-dimensional classic-control env.

Runs in a child process with ``jax_enable_x64`` off (rejax trains in float32 only; the
``python -m bench`` main process runs in float64). Standalone:
``python -m bench.ppo_wall [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import REPO, interleaved, median  # noqa: E402

TIMESTEPS = 131_072
QUICK_TIMESTEPS = 16_384
ENVS = ("VoltageTarget-v0", "Pendulum-v1")


def make_algo(name: str, timesteps: int):
    """rejax PPO for ``name`` (a neuroenv base task or a gymnax env id) with
    :data:`neuroenv.ppo.CONFIG` and no periodic evaluation."""
    import neuroenv
    from neuroenv import ppo
    from neuroenv.registry import BASE_TASKS

    if name in BASE_TASKS:
        env, params = neuroenv.make(name)
        return ppo.make_algo(env, params, timesteps)
    import gymnax
    import rejax

    from neuroenv.adapters.legacy import GymnaxLegacy

    env, params = gymnax.make(name)
    algo = rejax.PPO.create(env=GymnaxLegacy(env), env_params=params,
                            total_timesteps=int(timesteps), eval_freq=int(timesteps),
                            skip_initial_evaluation=True,
                            **ppo.CONFIG)
    return algo.replace(eval_callback=lambda algo, ts, rng: ())


def child(timesteps: int, repeats: int) -> dict:
    """Timings of every env of :data:`ENVS` in this process (float32)."""
    import jax

    if jax.config.jax_enable_x64:
        raise RuntimeError("run with jax_enable_x64 off (JAX_ENABLE_X64=0)")
    trains, first = {}, {}
    for name in ENVS:
        algo = make_algo(name, timesteps)
        train = jax.jit(lambda key, algo=algo: algo.train(rng=key)[0])
        t0 = time.perf_counter()
        jax.block_until_ready(train(jax.random.key(0)))
        first[name] = time.perf_counter() - t0
        trains[name] = train
    seeds = iter(range(1, 10_000))

    def timer(train):
        def once():
            key = jax.random.key(next(seeds))
            t0 = time.perf_counter()
            jax.block_until_ready(train(key))
            return time.perf_counter() - t0
        return once

    samples = interleaved({name: timer(t) for name, t in trains.items()}, repeats)
    return {"timesteps": timesteps, "repeats": repeats, "first": first,
            "run": {name: median(s) for name, s in samples.items()}, "runs": samples}


def measure(quick: bool = False) -> dict:
    """:func:`child` in a fresh float32 process (``quick``: 16k steps, 1 repeat; else 131k
    steps, 3 repeats); adds ``neuron_share`` (of the steady-state run)."""
    timesteps, repeats = (QUICK_TIMESTEPS, 1) if quick else (TIMESTEPS, 3)
    env = dict(os.environ, JAX_ENABLE_X64="0")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.run([sys.executable, "-m", "bench.ppo_wall", "--child", str(timesteps),
                           str(repeats)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"PPO child failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    voltage, pendulum = (res["run"][name] for name in ENVS)
    res["neuron_share"] = 1.0 - pendulum / voltage
    return res


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        print(json.dumps(child(int(args[1]), int(args[2]))))
        return 0
    res = measure(quick="--quick" in args)
    for name in ENVS:
        print(f"{name:18s} first {res['first'][name]:6.1f} s  run {res['run'][name]:6.1f} s "
              f"({res['timesteps']} steps)")
    print(f"neuron share of the run: {res['neuron_share']:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
