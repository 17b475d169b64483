"""``gym.make`` -> first ``step`` of every base task in a fresh process, cold and warm.

A new process pays for building the env and compiling its jitted programs before its first
step. neuroenv keeps compiled programs in JAX's persistent compilation cache
(:mod:`neuroenv.compilation_cache`), so only the first process on a machine compiles:

- **cold**: a fresh Python process with an empty cache folder (``NEUROENV_CACHE_DIR`` set to
  a new temporary folder): build + trace + compile + run;
- **warm**: a second fresh process with the folder the cold one filled: build + trace +
  load from the cache + run.

Each child process times ``gym.make(id)``, ``reset(seed=0)`` and one ``step`` of a zero
action after ``import neuroenv`` (the import itself, mostly JAX's, is reported apart), in
wall-clock time and in CPU time of the process (all its threads; less sensitive to other
jobs on a shared machine than the wall time, equal to it within a few % on an idle one for
the warm runs, which are single-threaded Python and cache reads).
Each task is measured ``repeats`` times (default 3; a new cache folder per repeat, cold then
warm) and every timing reported is the median over the repeats.
Targets: ``gym.make`` -> first step <= 1.5 s warm, <= 3 s cold.

Run alone: ``python -m bench.first_step [--quick] [--repeats=N] [TASK ...]`` or as the
``first_step`` section of ``python -m bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import REPO  # noqa: E402

#: Target for the warm time from gym.make to the end of the first step (s).
TARGET_WARM_S = 1.5
#: Target for the cold time (empty compilation cache) from gym.make to the first step (s).
TARGET_COLD_S = 3.0
#: Cold/warm pairs per task; every reported time is the median over them.
REPEATS = 3
#: Variables that would change where (or whether) the child caches.
_CACHE_VARIABLES = ("JAX_COMPILATION_CACHE_DIR", "NEUROENV_COMPILATION_CACHE",
                    "NEUROENV_CACHE_DIR", "XDG_CACHE_HOME")

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import gymnasium as gym
import numpy as np
import neuroenv
t1, c1 = time.perf_counter(), time.process_time()
env = gym.make(sys.argv[1])
t2 = time.perf_counter()
env.reset(seed=0)
t3 = time.perf_counter()
out = env.step(np.zeros(env.action_space.shape, env.action_space.dtype))
t4, c4 = time.perf_counter(), time.process_time()
import jax
print(json.dumps({"import_s": t1 - t0, "make_s": t2 - t1, "reset_s": t3 - t2,
                  "step_s": t4 - t3, "first_step_s": t4 - t1, "first_step_cpu_s": c4 - c1,
                  "reward": out[1],
                  "cache_dir": jax.config.jax_compilation_cache_dir}))
"""


def run_child(env_id: str, cache_root: str) -> dict:
    """One fresh process timing ``env_id`` with neuroenv's cache under ``cache_root``."""
    env = {k: v for k, v in os.environ.items() if k not in _CACHE_VARIABLES}
    env["NEUROENV_CACHE_DIR"] = cache_root
    proc = subprocess.run([sys.executable, "-c", CHILD, env_id], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"first-step child for {env_id} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    """The per-key median of the child timings ``runs`` (other keys from the first)."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if key.endswith("_s") and isinstance(value, float):
            out[key] = float(sorted(r[key] for r in runs)[len(runs) // 2])
    return out


def measure(quick: bool = False, tasks=None, repeats: int = REPEATS) -> list[dict]:
    """Cold and warm times of each task (``quick``: VoltageTarget-v0 only), medians over
    ``repeats`` cold/warm pairs, each pair on a new empty cache folder.

    Returns:
        one dict per task: ``task``, ``cold``/``warm`` (the child's timings, s, medians),
        ``cold_runs``/``warm_runs`` (every repeat's ``first_step_s``), ``cache_files``
        (entries the cold run wrote), ``met`` (warm <= TARGET_WARM_S and cold <=
        TARGET_COLD_S).
    """
    from neuroenv.registry import BASE_TASKS

    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    names = list(tasks) if tasks else (["VoltageTarget-v0"] if quick else list(BASE_TASKS))
    results = []
    for name in names:
        colds, warms, files = [], [], 0
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="neuroenv-first-step-") as root:
                colds.append(run_child(f"neuroenv/{name}", root))
                files = sum(1 for p in Path(root).rglob("*") if p.is_file())
                warms.append(run_child(f"neuroenv/{name}", root))
        cold, warm = _median_run(colds), _median_run(warms)
        results.append({"task": name, "cold": cold, "warm": warm, "cache_files": files,
                        "cold_runs": [r["first_step_s"] for r in colds],
                        "warm_runs": [r["first_step_s"] for r in warms],
                        "met": (warm["first_step_s"] <= TARGET_WARM_S
                                and cold["first_step_s"] <= TARGET_COLD_S)})
    return results


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    repeats = next((int(a.split("=", 1)[1]) for a in args if a.startswith("--repeats=")),
                   REPEATS)
    tasks = [a for a in args if not a.startswith("--")]
    print(f"{'task':28s} {'cold s':>7s} {'warm s':>7s} {'warm cpu s':>10s}  "
          f"warm: make / reset / step s  (import s)  cache files")
    for r in measure(quick=quick, tasks=tasks, repeats=repeats):
        c, w = r["cold"], r["warm"]
        print(f"{r['task']:28s} {c['first_step_s']:7.2f} {w['first_step_s']:7.2f} "
              f"{w['first_step_cpu_s']:10.2f}  "
              f"{w['make_s']:.2f} / {w['reset_s']:.2f} / {w['step_s']:.2f}  "
              f"({w['import_s']:.2f})  {r['cache_files']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
