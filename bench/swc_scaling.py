"""How ``read_swc`` scales with the size of the file: load time and peak memory.

Two kinds of synthetic SWC files are generated (deterministically, from a seed):

* ``chain``: every point is the child of the previous one, one section of n points;
* ``branchy``: a random recursive tree below a one-point soma, every point the child of a
  uniformly drawn earlier point. Most points then have zero or several children, so nearly
  every point ends a section: 200,000 points give about 199,990 branches.

Each file is read with ``read_swc(path, ncomp=1)`` (which returns a ready-to-use Cell) in a
fresh Python process of its own, after ``simulator`` is imported, so that the numbers hold
only the reader and the module construction: seconds of the call and the peak resident
memory it adds (``ru_maxrss`` after the call minus the resident memory before it, MB).
The scaling exponent between two sizes is ``log(t2 / t1) / log(n2 / n1)`` (1 is linear, 2
quadratic).

Run from the repository root: ``python bench/swc_scaling.py [--quick]``, or as the ``swc``
section of ``python -m bench --only swc``. The issue's bound for the 200,000-point branchy
tree: at most ``TARGET_SECONDS`` s and ``TARGET_MB`` MB.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO  # noqa: E402

#: Bound of the issue for the 200k-point branchy file: seconds and extra peak RSS (MB).
TARGET_SECONDS = 15.0
TARGET_MB = 1000.0
#: (kind, number of points) measured by a full / quick run.
FULL_SIZES = (("chain", 20_000), ("chain", 200_000), ("branchy", 2_000), ("branchy", 20_000),
              ("branchy", 200_000))
QUICK_SIZES = (("chain", 20_000), ("branchy", 2_000), ("branchy", 20_000))
STEP_UM = 2.0  # distance between a point and its parent (µm)
RADIUS_UM = 1.0


def tree_parents(kind: str, n: int, seed: int = 0):
    """Parent row of each of ``n`` points (-1 for the root), parents before children."""
    import numpy as np

    if kind == "chain":
        return np.arange(n, dtype=np.int64) - 1
    if kind != "branchy":
        raise ValueError(f"kind must be 'chain' or 'branchy', got {kind!r}")
    rng = np.random.default_rng(seed)
    parent = np.empty(n, dtype=np.int64)
    parent[:2] = -1, 0
    # Point i >= 2 hangs from a uniformly drawn earlier non-soma point (1 .. i - 1), so the
    # soma has one child and NEURON's rule for dendrites leaving the soma stays out of it.
    parent[2:] = 1 + np.floor(rng.random(max(n - 2, 0)) * np.arange(1, n - 1)).astype(np.int64)
    return parent[:n]


def swc_text(kind: str, n: int, seed: int = 0) -> str:
    """SWC text of ``n`` points: a soma root (type 1), then basal points (type 3), each
    ``STEP_UM`` from its parent in a random direction, radius ``RADIUS_UM``."""
    import numpy as np

    parent = tree_parents(kind, n, seed)
    rng = np.random.default_rng(seed + 1)
    step = rng.normal(size=(n, 3))
    step *= STEP_UM / np.linalg.norm(step, axis=1)[:, None]
    step[0] = 0.0
    xyz = np.zeros((n, 3))
    for i in range(1, n):  # parents come first
        xyz[i] = xyz[parent[i]] + step[i]
    lines = [f"{i + 1} {1 if i == 0 else 3} {x:.4f} {y:.4f} {z:.4f} {RADIUS_UM}"
             f" {parent[i] + 1 if parent[i] >= 0 else -1}"
             for i, (x, y, z) in enumerate(xyz)]
    return "\n".join(lines) + "\n"


_CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import simulator
from simulator.morphology.swc import read_swc

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
before = rss_mb()
t0 = time.perf_counter()
cell = read_swc(sys.argv[1], ncomp=1, backend="neuron")
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps({"seconds": seconds, "peak_extra_mb": peak - before,
                  "branches": int(cell.topology.n_branches),
                  "compartments": int(cell.topology.n_comps)}))
"""


def measure_file(path: str | Path, timeout: float = 1800.0) -> dict:
    """Load ``path`` in a fresh process; seconds, peak extra RSS (MB), branch count."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"read_swc of {path} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(quick: bool = False, sizes=None) -> list[dict]:
    """One dict per (kind, points): seconds, peak_extra_mb, branches, exponent vs the next
    smaller size of the same kind, and ``ok`` (the bound, for the 200k branchy file)."""
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, n in sizes:
            path = Path(tmp) / f"{kind}_{n}.swc"
            path.write_text(swc_text(kind, n))
            res = measure_file(path)
            prev = [r for r in out if r["kind"] == kind]
            exponent = None
            if prev and res["seconds"] > 0 and prev[-1]["seconds"] > 0:
                exponent = (math.log(res["seconds"] / prev[-1]["seconds"])
                            / math.log(n / prev[-1]["points"]))
            bounded = kind == "branchy" and n >= 200_000
            ok = (not bounded or (res["seconds"] <= TARGET_SECONDS
                                  and res["peak_extra_mb"] <= TARGET_MB))
            out.append({"kind": kind, "points": n, **res, "exponent": exponent,
                        "ok": bool(ok)})
            path.unlink()
    return out


def format_rows(rows: list[dict]) -> str:
    lines = [f"{'kind':8s} {'points':>8s} {'branches':>9s} {'load s':>8s} {'peak +MB':>9s}"
             f" {'exponent':>9s}"]
    for r in rows:
        exp = "" if r["exponent"] is None else f"{r['exponent']:.2f}"
        lines.append(f"{r['kind']:8s} {r['points']:8d} {r['branches']:9d} {r['seconds']:8.2f}"
                     f" {r['peak_extra_mb']:9.0f} {exp:>9s}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"only {QUICK_SIZES}")
    ap.add_argument("--size", action="append", metavar="KIND:N",
                    help="measure only these, e.g. --size branchy:200000 (repeatable)")
    args = ap.parse_args(argv)
    sizes = None
    if args.size:
        sizes = [(s.split(":")[0], int(s.split(":")[1])) for s in args.size]
    rows = measure(quick=args.quick, sizes=sizes)
    print(format_rows(rows))
    print(f"bound for branchy 200000: <= {TARGET_SECONDS:g} s and <= {TARGET_MB:g} MB extra")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
