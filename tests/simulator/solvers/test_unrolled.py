"""The unrolled Hines solve of small trees (``simulator.solvers.unrolled``) against the
scanned DHS sweep it replaces by default for trees of ≤ MAX_UNROLLED_NODES nodes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from simulator.solvers.dhs import build_schedule, tree_solve_row_sums
from simulator.solvers.unrolled import MAX_UNROLLED_NODES, unrolled_solve_row_sums
from simulator.solvers.voltage import make_linear_solver

#: Error against the scanned sweep relative to max|x|: float64 measured ≤ 7.3e-16 (n ≤ 128),
#: float32 measured ≤ 1.7e-7 (the same operations, fused differently by XLA).
RTOL = {"float64": 1e-10, "float32": 2e-6}


def _system(parents, dtype, seed=0):
    rng = np.random.default_rng(seed)
    n = len(parents)
    nonroot = np.asarray(parents) >= 0
    lower = np.where(nonroot, -rng.uniform(1, 1e3, n), 0.0)
    upper = lower * rng.uniform(0.9, 1.1, n)
    row_sums = rng.uniform(0.5, 2.0, n)
    rhs = rng.normal(size=n)
    return tuple(jnp.asarray(a, dtype) for a in (row_sums, lower, upper, rhs))


def _random_forest(n, seed):
    rng = np.random.default_rng(seed)
    parents = np.array([-1] + [int(rng.integers(max(0, i - 3), i)) for i in range(1, n)])
    if n > 2:
        parents[rng.integers(2, n)] = -1  # a second root
    return parents


@pytest.mark.parametrize("n", [1, 2, 5, 16, 40])
def test_unrolled_equals_scanned_sweep(precision, n):
    parents = _random_forest(n, n)
    schedule = build_schedule(parents, 1)
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    args = _system(parents, dtype)
    ref = np.asarray(tree_solve_row_sums(schedule, *args))
    got = np.asarray(jax.jit(lambda *a: unrolled_solve_row_sums(schedule, *a))(*args))
    assert got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL[precision] * np.abs(ref).max())


def test_unrolled_gradient_and_vmap_equal_scanned(x64):
    parents = np.array([-1, 0, 1, 1, 3, 0])
    schedule = build_schedule(parents, 1)
    row_sums, lower, upper, rhs = _system(parents, jnp.float64)

    def loss(solve, rs):
        return jnp.sum(solve(schedule, rs, lower, upper, rhs) ** 2)

    g_ref = jax.grad(lambda rs: loss(tree_solve_row_sums, rs))(row_sums)
    g_got = jax.grad(lambda rs: loss(unrolled_solve_row_sums, rs))(row_sums)
    np.testing.assert_allclose(g_got, g_ref, rtol=1e-10)
    batch = jnp.stack([rhs, 2 * rhs, -rhs])
    v_ref = jax.vmap(lambda b: tree_solve_row_sums(schedule, row_sums, lower, upper, b))(batch)
    v_got = jax.vmap(lambda b: unrolled_solve_row_sums(schedule, row_sums, lower, upper, b))(
        batch)
    np.testing.assert_allclose(v_got, v_ref, rtol=0, atol=1e-10 * float(jnp.abs(v_ref).max()))


class _Numbering:
    def __init__(self, parents):
        self.tree_parent = parents


class _Compiled:
    def __init__(self, parents):
        self.numbering = _Numbering(parents)


@pytest.mark.parametrize("n", [MAX_UNROLLED_NODES, MAX_UNROLLED_NODES + 1])
def test_default_cpu_solver_unrolls_small_trees_only(x64, n):
    parents = np.arange(-1, n - 1)
    solve = make_linear_solver(_Compiled(parents), "jaxley.dhs.cpu", None)
    text = str(jax.make_jaxpr(solve)(*_system(parents, jnp.float64)))
    assert ("scan" not in text) == (n <= MAX_UNROLLED_NODES)
    forced = make_linear_solver(_Compiled(parents), "jaxley.dhs.cpu", 1)
    assert "scan" in str(jax.make_jaxpr(forced)(*_system(parents, jnp.float64)))
