"""read_swc stays linear in the size of the file (issue 13: a 200k-point branchy tree took
322 s and +3.9 GB because every branch got its own DataFrame, geometry call and Python loop).

No wall-clock time is asserted: the test counts Python-level function calls made while a
2,000- and a 20,000-point branchy tree are read. Work done per branch in Python shows up as
calls growing with the branch count (the old reader made thousands per branch: tens of
millions for the 20k tree); the vectorised reader makes the same few hundred for both.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from bench.swc_scaling import STEP_UM, swc_text, tree_parents
from simulator.morphology.swc import read_swc


def expected_branches(kind: str, n: int) -> int:
    """Sections NEURON's rules give the generated tree (a one-point soma, then basal points in
    parent-first id order): every basal point starts a section unless its parent is a basal
    point whose only child is that point, the next one."""
    parent = tree_parents(kind, n)
    child = np.arange(1, n)
    p = parent[child]
    n_children = np.bincount(p, minlength=n)
    continues = (p != 0) & (n_children[p] == 1) & (child == p + 1)
    return 1 + int(np.sum(~continues))


def python_calls(fn) -> int:
    """Number of Python function calls (not C calls) made while ``fn()`` runs."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_branchy_tree_loads_with_the_right_branches(tmp_path):
    n = 20_000
    path = tmp_path / "branchy.swc"
    path.write_text(swc_text("branchy", n))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cell = read_swc(path, ncomp=1, backend="neuron")
    assert cell.topology.n_branches == expected_branches("branchy", n) > 0.99 * n
    assert cell.topology.n_comps == cell.topology.n_branches
    assert len(cell.xyzr) == cell.topology.n_branches
    # Cable length: the soma cylinder (2 r = 2 µm) plus every point's distance to its parent
    # in the file (STEP_UM up to the 4 printed decimals). Measured relative error 0 (bound
    # left for summation order over 20k compartments).
    table = np.loadtxt(path)
    steps = np.linalg.norm(table[1:, 2:5] - table[table[1:, 6].astype(int) - 1, 2:5], axis=1)
    assert np.allclose(steps, STEP_UM, atol=1e-3)
    total = cell.nodes["length"].sum()
    assert abs(total - (2.0 + steps.sum())) <= 1e-12 * total
    assert (cell.nodes["basal"].sum(), cell.nodes["soma"].sum()) == (cell.topology.n_comps - 1, 1)


def test_python_work_does_not_grow_with_the_branch_count(tmp_path):
    small, large = tmp_path / "small.swc", tmp_path / "large.swc"
    small.write_text(swc_text("branchy", 2_000))
    large.write_text(swc_text("branchy", 20_000))
    read_swc(small, ncomp=1, backend="neuron")  # imports and first-use caches out of the count
    calls_small = python_calls(lambda: read_swc(small, ncomp=1, backend="neuron"))
    calls_large = python_calls(lambda: read_swc(large, ncomp=1, backend="neuron"))
    # ~18,000 more branches: the reader before the fix made > 50 calls per extra branch
    # (an 18,000-branch increase gave millions); now it is flat (measured 5,603 vs 5,655).
    assert calls_large - calls_small < 2_000, (calls_small, calls_large)


def test_chain_is_one_branch(tmp_path):
    path = tmp_path / "chain.swc"
    path.write_text(swc_text("chain", 20_000))
    cell = read_swc(path, ncomp=3, backend="neuron")
    assert cell.topology.n_branches == expected_branches("chain", 20_000) == 2
    assert cell.topology.n_comps == 6
