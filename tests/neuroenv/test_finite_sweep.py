"""A reduced ``bench/finite_sweep.py``: nothing non-finite reaches the agent under random
and bang-bang actions, for every solver (issue 13, "Must show"; the full 10⁶-step sweep over
32 ids is the bench script)."""

from __future__ import annotations

import pytest

from bench.finite_sweep import SOLVERS, run

#: Base tasks and a variant of each kind; Desynchronize under fwd_euler blows up at every
#: step (its hub's gap-junction rate exceeds forward Euler's bound), so the guard is exercised.
IDS = ("VoltageTarget-v0", "SpikeTimingDrift-v0", "DesynchronizeNoisy-v0",
       "SilenceRandomized-v0")


@pytest.mark.slow
def test_reduced_sweep_hands_no_non_finite_value_to_the_agent():
    rows = run(IDS, SOLVERS, total_steps=len(IDS) * len(SOLVERS) * 8 * 30, n_envs=8,
               out=lambda line: None)
    assert len(rows) == len(IDS) * len(SOLVERS)
    assert sum(r["non_finite"] for r in rows) == 0, rows
    desync_fwd = next(r for r in rows if r["id"] == "DesynchronizeNoisy-v0"
                      and r["solver"] == "fwd_euler")
    assert desync_fwd["guard"] > 0  # the guard ended those episodes
    # fwd_euler at the tasks' dt 0.025 ms is past its bound on every task's cell: warned
    assert all(r["warned"] == (r["solver"] == "fwd_euler") for r in rows), rows
