"""bench/device.py --cpu: the CI-sized accelerator benchmark runs and prints its whole table.

The budget is raised so that every row is measured even on a loaded machine (the script's own
default, 110 s, is for an idle one); nothing about speed is asserted.
"""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def parse_rate(cell):
    """'1.32 M/s' -> 1.32e6; '-' -> None."""
    if cell == "-":
        return None
    value, unit = cell.split()
    return float(value) * {"G/s": 1e9, "M/s": 1e6, "k/s": 1e3, "/s": 1.0}[unit]


@pytest.mark.slow
def test_device_script_cpu_prints_every_row():
    proc = subprocess.run([sys.executable, "bench/device.py", "--cpu", "--budget", "1500"],
                          cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    def cells(line):  # Markdown cells; "\|" is a pipe inside a cell
        return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    header = cells(lines[0])
    rows = [dict(zip(header, cells(line), strict=True)) for line in lines[1:]]
    keys = {(r["section"], r["workload"], r["batch"]) for r in rows}
    for task in ("VoltageTarget-v0", "DendriteControl-v0"):
        for n in ("16", "64"):
            assert ("env", f"{task} vmapped env (random actions)", n) in keys
    for what in ("run", "grad(sum v) wrt gNa"):
        assert ("ca1", f"CA1 ncomp 4, 4 gNa values: {what}", "4") in keys
    for width in (1, 8, 32, 128):
        for batch in ("1", "4"):
            assert ("dhs", f"CA1 run, dhs_width={width}", batch) in keys
    for r in rows:
        assert "NOT FINITE" not in r["note"]
        assert math.isfinite(parse_rate(r["ours"])) and parse_rate(r["ours"]) > 0
        assert r["first call (ours)"].endswith(" s")
        if r["section"] == "env":
            for col in ("jaxley", "floor", "ours/jaxley", "ours/floor"):
                assert r[col] != "-", (col, r)
            assert math.isfinite(float(r["ours/jaxley"]))
            assert math.isfinite(float(r["ours/floor"]))
    assert "skipped: nothing" in proc.stdout
