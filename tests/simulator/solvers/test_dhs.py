"""Tests for the DHS tree solver (simulator.solvers.dhs) against the dense reference."""

import dataclasses
import itertools
from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.solvers.dense import dense_solve, dense_tree_matrix
from simulator.solvers.dhs import (
    TreeSchedule,
    build_schedule,
    check_parents,
    tree_matvec,
    tree_solve,
)

WIDTHS = (1, 2, 7, 32)


@pytest.fixture(scope="module", autouse=True)
def x64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------


def random_forest(n, n_roots, rng):
    """Random forest: build with parent[i] < i, then relabel the nodes randomly."""
    n_roots = max(1, min(n_roots, n))
    par = np.full(n, -1)
    for i in range(n_roots, n):
        par[i] = rng.integers(0, i)
    perm = rng.permutation(n)  # old label -> new label
    out = np.full(n, -1)
    out[perm] = np.where(par >= 0, perm[np.maximum(par, 0)], -1)
    return out


def balanced_binary(n_levels):
    n = 2 ** (n_levels + 1) - 1
    return np.array([-1] + [(i - 1) // 2 for i in range(1, n)])


def dominant_system(parents, rng, weak_fraction=0.3):
    """Random diagonally dominant tree system; some non-root rows only weakly."""
    n = len(parents)
    nonroot = parents >= 0
    lower = rng.uniform(-1.0, 1.0, n)
    upper = rng.uniform(-1.0, 1.0, n)
    # garbage at roots must be ignored
    lower[~nonroot] = 7.0
    upper[~nonroot] = -3.0
    off = np.where(nonroot, np.abs(lower), 0.0)
    np.add.at(off, parents[nonroot], np.abs(upper[nonroot]))
    margin = rng.uniform(0.05, 1.0, n)
    margin[nonroot & (rng.uniform(size=n) < weak_fraction)] = 0.0
    diag = off + margin  # roots keep a strict margin, so every tree is nonsingular
    rhs = rng.normal(size=n)
    return diag, lower, upper, rhs


def rel_err(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    scale = max(float(np.max(np.abs(b))), 1e-300) if b.size else 1.0
    return float(np.max(np.abs(a - b)) / scale) if b.size else 0.0


def min_levels_bruteforce(parents, width):
    """Fewest levels of any valid elimination schedule, by BFS over eliminated sets."""
    n = len(parents)
    nonroot = [i for i in range(n) if parents[i] >= 0]
    bit = {node: 1 << k for k, node in enumerate(nonroot)}
    children = {i: [c for c in nonroot if parents[c] == i] for i in range(n)}
    full = (1 << len(nonroot)) - 1
    dist = {0: 0}
    queue = deque([0])
    while queue:
        state = queue.popleft()
        if state == full:
            return dist[state]
        ready = [
            c for c in nonroot if not state & bit[c] and all(state & bit[g] for g in children[c])
        ]
        for size in range(1, min(width, len(ready)) + 1):
            for pick in itertools.combinations(ready, size):
                nxt = state | sum(bit[c] for c in pick)
                if nxt not in dist:
                    dist[nxt] = dist[state] + 1
                    queue.append(nxt)
    raise AssertionError("unreachable")


def level_of(schedule):
    """Node index -> level at which it is eliminated (-1 for roots)."""
    lev = np.full(schedule.n, -1)
    for k, row in enumerate(schedule.levels):
        for pos in row:
            if pos < schedule.n:
                lev[schedule.order[pos]] = k
    return lev


CASES = [
    (n, roots, w)
    for n, roots in [(1, 1), (2, 1), (3, 3), (9, 1), (64, 1), (64, 5), (150, 12), (300, 1)]
    for w in WIDTHS
]


# ----------------------------------------------------------------------------------
# solve accuracy
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n,n_roots,width", CASES)
def test_solve_matches_dense(n, n_roots, width):
    rng = np.random.default_rng(1000 * n + 10 * n_roots + width)
    parents = random_forest(n, n_roots, rng)
    diag, lower, upper, rhs = dominant_system(parents, rng)
    schedule = build_schedule(parents, width)
    x = tree_solve(schedule, diag, lower, upper, rhs)
    x_ref = dense_solve(parents, diag, lower, upper, rhs)
    assert x.shape == (n,)
    assert x.dtype == jnp.float64
    assert rel_err(x, x_ref) < 1e-10
    ax = tree_matvec(schedule, diag, lower, upper, x)
    assert rel_err(ax, rhs) < 1e-10
    # matvec by parents array equals the dense matrix product
    a = dense_tree_matrix(parents, diag, lower, upper)
    assert rel_err(tree_matvec(parents, diag, lower, upper, x), a @ x) < 1e-12


@settings(max_examples=15, deadline=None)
@given(
    parents_raw=st.lists(st.integers(-1, 10**6), min_size=1, max_size=30),
    width=st.sampled_from(WIDTHS),
    seed=st.integers(0, 2**31 - 1),
)
def test_solve_matches_dense_hypothesis(parents_raw, width, seed):
    # map arbitrary ints to a valid forest: node i's parent is an earlier node or -1,
    # then relabel with a random permutation
    rng = np.random.default_rng(seed)
    n = len(parents_raw)
    par = np.array([-1 if (v < 0 or i == 0) else v % i for i, v in enumerate(parents_raw)])
    perm = rng.permutation(n)
    parents = np.full(n, -1)
    parents[perm] = np.where(par >= 0, perm[np.maximum(par, 0)], -1)
    diag, lower, upper, rhs = dominant_system(parents, rng)
    schedule = build_schedule(parents, width)
    x = tree_solve(schedule, diag, lower, upper, rhs)
    assert rel_err(x, dense_solve(parents, diag, lower, upper, rhs)) < 1e-10


def test_single_compartment_and_isolated_roots():
    s = build_schedule([-1])
    assert s.n_levels == 0
    x = tree_solve(s, jnp.array([4.0]), jnp.array([1.0]), jnp.array([2.0]), jnp.array([2.0]))
    np.testing.assert_allclose(x, [0.5])
    # isolated roots mixed with a small tree
    parents = np.array([-1, -1, 1, -1, 1])
    for width in WIDTHS:
        s = build_schedule(parents, width)
        diag = np.array([2.0, 5.0, 3.0, 4.0, 6.0])
        lower = np.array([9.0, 9.0, -1.0, 9.0, -2.0])
        upper = np.array([9.0, 9.0, -1.5, 9.0, -0.5])
        rhs = np.array([1.0, 2.0, 3.0, 8.0, 5.0])
        x = tree_solve(s, diag, lower, upper, rhs)
        assert x[0] == pytest.approx(0.5, rel=1e-15)
        assert x[3] == pytest.approx(2.0, rel=1e-15)
        assert rel_err(x, dense_solve(parents, diag, lower, upper, rhs)) < 1e-14


def test_empty():
    s = build_schedule(np.zeros(0, int), width=4)
    assert s.n == 0 and s.n_levels == 0 and s.levels.shape == (0, 4)
    x = tree_solve(s, jnp.zeros(0), jnp.zeros(0), jnp.zeros(0), jnp.zeros(0))
    assert x.shape == (0,)


def test_float32():
    previous = jax.config.jax_enable_x64  # restored after: later tests in this process
    jax.config.update("jax_enable_x64", False)  # (e.g. the PPO demo) run in float32
    try:
        rng = np.random.default_rng(5)
        parents = random_forest(200, 3, rng)
        diag, lower, upper, rhs = (a.astype(np.float32) for a in dominant_system(parents, rng))
        for width in (1, 32):
            s = build_schedule(parents, width)
            x = jax.jit(tree_solve, static_argnums=0)(s, diag, lower, upper, rhs)
            assert x.dtype == jnp.float32
            x_ref = np.linalg.solve(
                np.asarray(dense_tree_matrix(parents, diag, lower, upper), np.float64),
                rhs.astype(np.float64),
            )
            assert rel_err(x, x_ref) < 1e-4
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_integer_inputs_promote_to_float():
    s = build_schedule([-1, 0])
    x = tree_solve(s, jnp.array([4, 4]), jnp.array([0, -1]), jnp.array([0, -1]), jnp.array([3, 3]))
    assert jnp.issubdtype(x.dtype, jnp.floating)
    np.testing.assert_allclose(x, [1.0, 1.0])


# ----------------------------------------------------------------------------------
# schedule structure
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n,n_roots,width", CASES)
def test_schedule_structure(n, n_roots, width):
    rng = np.random.default_rng(7 * n + n_roots + 1000 * width)
    parents = random_forest(n, n_roots, rng)
    s = build_schedule(parents, width)
    roots = np.flatnonzero(parents < 0)
    assert s.n == n and s.width == width and s.n_roots == len(roots)
    assert s.levels.dtype == np.int32 and s.levels.shape == (s.n_levels, width)
    # order / position / parent consistency, parents before children
    np.testing.assert_array_equal(np.sort(s.order), np.arange(n))
    np.testing.assert_array_equal(s.position[s.order], np.arange(n))
    for pos in range(n):
        node = s.order[pos]
        if parents[node] < 0:
            assert s.parent[pos] == n
        else:
            assert s.parent[pos] < pos
            assert s.order[s.parent[pos]] == parents[node]
    # every non-root exactly once, roots never, padding is the dummy slot
    entries = s.levels[s.levels < n]
    assert len(entries) == len(set(entries.tolist())) == n - len(roots)
    assert set(s.order[entries].tolist()) == set(np.flatnonzero(parents >= 0).tolist())
    assert np.all((s.levels >= 0) & (s.levels <= n))
    # each level non-empty and at most `width` wide (the array shape)
    assert np.all((s.levels < n).sum(axis=1) >= 1)
    np.testing.assert_array_equal(s.level_parents, np.append(s.parent, n)[s.levels])
    # children strictly before their parents
    lev = level_of(s)
    for c in np.flatnonzero(parents >= 0):
        p = parents[c]
        if parents[p] >= 0:
            assert lev[c] < lev[p]
    if width == 1:
        assert s.n_levels == n - len(roots)
    # never fewer than the two obvious lower bounds
    depth = np.zeros(n, int)
    for i in range(n):
        j = i
        while parents[j] >= 0:
            j = parents[j]
            depth[i] += 1
    assert s.n_levels >= max(int(depth.max()) if n else 0, -(-(n - len(roots)) // width))


def test_schedule_optimal_small_trees():
    rng = np.random.default_rng(11)
    trees = [balanced_binary(2), balanced_binary(3)]  # 7 and 15 nodes
    trees += [
        random_forest(int(rng.integers(1, 9)), int(rng.integers(1, 3)), rng) for _ in range(40)
    ]
    trees.append(np.array([-1, 0, 1, 2, 0, 0, 0, 0]))  # long arm plus a fan of leaves
    for parents in trees:
        for width in (1, 2, 3):
            if len(parents) > 8 and width != 2:
                continue
            s = build_schedule(parents, width)
            assert s.n_levels == min_levels_bruteforce(parents, width), (parents, width)


def test_balanced_binary_width2():
    s = build_schedule(balanced_binary(3), width=2)
    # 14 non-root nodes, 2 per level
    assert s.n_levels == 7 == min_levels_bruteforce(balanced_binary(3), 2)


def test_deepest_first_beats_shallow_first():
    # A chain hanging under the root next to many leaves: taking leaves first (shallow)
    # would leave the chain's levels sequential at the end.
    parents = np.array([-1, 0, 1, 2, 3, 0, 0, 0, 0])
    s = build_schedule(parents, width=2)
    assert s.n_levels == min_levels_bruteforce(parents, 2) == 4


def test_schedule_equality_hash_and_static_arg():
    parents = np.array([-1, 0, 0, 1, 1])
    a = build_schedule(parents, 2)
    b = build_schedule(list(parents), 2)
    assert a == b and hash(a) == hash(b)
    assert a != build_schedule(parents, 1)
    assert isinstance(a, TreeSchedule)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.width = 3
    with pytest.raises(ValueError):
        a.levels[0, 0] = 0  # read-only
    f = jax.jit(tree_solve, static_argnums=0)
    rng = np.random.default_rng(0)
    diag, lower, upper, rhs = dominant_system(parents, rng)
    np.testing.assert_allclose(f(a, diag, lower, upper, rhs), f(b, diag, lower, upper, rhs))


def count_eqns(jaxpr):
    """Number of equations in a jaxpr, counting nested jaxprs (scan bodies, ...)."""

    def sub(value):
        if hasattr(value, "eqns"):
            yield value
        elif hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
            yield value.jaxpr
        elif isinstance(value, (tuple, list)):
            for v in value:
                yield from sub(v)

    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for value in eqn.params.values():
            total += sum(count_eqns(j) for j in sub(value))
    return total


def test_loop_not_unrolled():
    """The traced program has the same size for 10 and 400 unknowns."""

    def n_eqns(n, width):
        rng = np.random.default_rng(n)
        parents = random_forest(n, 1, rng)
        s = build_schedule(parents, width)
        args = dominant_system(parents, rng)
        jaxpr = jax.make_jaxpr(lambda *a: tree_solve(s, *a))(*args)
        return count_eqns(jaxpr.jaxpr)

    for width in (1, 8):
        assert n_eqns(10, width) == n_eqns(400, width)


# ----------------------------------------------------------------------------------
# gradients
# ----------------------------------------------------------------------------------


def _loss(solver):
    def loss(diag, lower, upper, rhs):
        x = solver(diag, lower, upper, rhs)
        return jnp.sum(jnp.sin(x) * jnp.arange(1, x.shape[0] + 1)) + jnp.sum(x**2)

    return loss


@pytest.mark.parametrize("width", [1, 7])
@pytest.mark.parametrize("n,n_roots", [(1, 1), (40, 1), (60, 4)])
def test_gradients_match_dense_and_finite_differences(n, n_roots, width):
    rng = np.random.default_rng(n + width)
    parents = random_forest(n, n_roots, rng)
    args = tuple(jnp.asarray(a) for a in dominant_system(parents, rng))
    s = build_schedule(parents, width)
    loss_tree = jax.jit(_loss(lambda *a: tree_solve(s, *a)))
    loss_dense = _loss(lambda *a: dense_solve(parents, *a))
    g_tree = jax.jit(jax.grad(loss_tree, argnums=(0, 1, 2, 3)))(*args)
    g_dense = jax.grad(loss_dense, argnums=(0, 1, 2, 3))(*args)
    nonroot = parents >= 0
    for k, (gt, gd) in enumerate(zip(g_tree, g_dense, strict=True)):
        assert rel_err(gt, gd) < 1e-8, k
        if k in (1, 2):  # ignored entries at roots get zero gradient
            np.testing.assert_array_equal(np.asarray(gt)[~nonroot], 0.0)
    # central finite differences along random directions
    eps = 1e-6
    for k in range(4):
        for _ in range(2):
            v = rng.normal(size=n)
            if k in (1, 2):
                v = v * nonroot
            plus = list(args)
            minus = list(args)
            plus[k] = args[k] + eps * v
            minus[k] = args[k] - eps * v
            fd = (loss_tree(*plus) - loss_tree(*minus)) / (2 * eps)
            ad = jnp.vdot(g_tree[k], v)
            assert abs(float(fd - ad)) <= 1e-5 * max(abs(float(ad)), 1e-3), (k, fd, ad)


def test_jvp_matches_dense():
    rng = np.random.default_rng(3)
    parents = random_forest(50, 2, rng)
    args = tuple(jnp.asarray(a) for a in dominant_system(parents, rng))
    tangents = tuple(jnp.asarray(rng.normal(size=50)) for _ in range(4))
    s = build_schedule(parents, 32)
    x, dx = jax.jvp(lambda *a: tree_solve(s, *a), args, tangents)
    x_ref, dx_ref = jax.jvp(lambda *a: dense_solve(parents, *a), args, tangents)
    assert rel_err(x, x_ref) < 1e-10
    assert rel_err(dx, dx_ref) < 1e-8


# ----------------------------------------------------------------------------------
# jit / vmap
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1, 32])
def test_jit_and_vmap(width):
    rng = np.random.default_rng(width)
    n, batch = 80, 5
    parents = random_forest(n, 2, rng)
    s = build_schedule(parents, width)
    diag, lower, upper, rhs = dominant_system(parents, rng)
    rhs_b = rng.normal(size=(batch, n))
    diag_b = diag * rng.uniform(1.0, 2.0, size=(batch, n))
    solve = jax.jit(lambda d, lo, up, b: tree_solve(s, d, lo, up, b))
    x = tree_solve(s, diag, lower, upper, rhs)
    assert rel_err(solve(diag, lower, upper, rhs), x) < 1e-14
    # batch of rhs
    xb = jax.jit(jax.vmap(solve, in_axes=(None, None, None, 0)))(diag, lower, upper, rhs_b)
    for i in range(batch):
        assert rel_err(xb[i], tree_solve(s, diag, lower, upper, rhs_b[i])) < 1e-14
    # batch of diags
    xb = jax.vmap(solve, in_axes=(0, None, None, None))(diag_b, lower, upper, rhs)
    for i in range(batch):
        assert rel_err(xb[i], tree_solve(s, diag_b[i], lower, upper, rhs)) < 1e-14
    # batch of everything, with gradients through vmap
    low_b = np.tile(lower, (batch, 1))
    dense = jax.jit(lambda *a: dense_solve(parents, *a))
    xb = jax.vmap(solve)(diag_b, low_b, np.tile(upper, (batch, 1)), rhs_b)
    for i in range(batch):
        assert rel_err(xb[i], dense(diag_b[i], lower, upper, rhs_b[i])) < 1e-10
    grad = jax.grad(_loss(lambda *a: tree_solve(s, *a)))
    gb = jax.vmap(grad)(diag_b, low_b, np.tile(upper, (batch, 1)), rhs_b)
    grad = jax.jit(grad)
    for i in range(batch):
        g = grad(diag_b[i], lower, upper, rhs_b[i])
        assert rel_err(gb[i], g) < 1e-12


# ----------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [0, -3, 1.5, True, "2", None])
def test_bad_width(width):
    with pytest.raises(ValueError, match=repr(width).replace(".", r"\.")):
        build_schedule([-1, 0], width)


def test_bad_parents():
    with pytest.raises(ValueError, match=r"parents\[2\] = 7"):
        build_schedule([-1, 0, 7])
    with pytest.raises(ValueError, match="-2"):
        build_schedule([-1, -2])
    with pytest.raises(ValueError, match="node 1 is its own parent"):
        build_schedule([-1, 1])
    # cycle 1 -> 2 -> 3 -> 1, with node 4 hanging below it
    with pytest.raises(ValueError, match=r"cycle through node [123]\b"):
        build_schedule([-1, 2, 3, 1, 3])
    with pytest.raises(ValueError, match="cycle"):
        build_schedule([1, 0])  # no root at all
    with pytest.raises(ValueError, match="1-D"):
        build_schedule(np.zeros((2, 2), int))
    with pytest.raises(TypeError, match="float"):
        build_schedule(np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match="7"):
        tree_matvec([-1, 7], np.ones(2), np.ones(2), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="cycle"):
        dense_solve([1, 0], np.ones(2), np.ones(2), np.ones(2), np.ones(2))


def test_bad_shapes():
    s = build_schedule([-1, 0, 0])
    with pytest.raises(ValueError, match=r"rhs must have shape \(3,\)"):
        tree_solve(s, np.ones(3), np.ones(3), np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="TreeSchedule"):
        tree_solve([-1, 0, 0], np.ones(3), np.ones(3), np.ones(3), np.ones(3))


def test_check_parents_returns_readonly_int_array():
    p = check_parents([-1, 0, 1])
    assert p.dtype == np.int64 and not p.flags.writeable


@pytest.mark.parametrize("width", [1, 8])
def test_vmap_layout_rule_matches_rows(width):
    """Under vmap the sweep runs batch-last (custom_vmap rule): same values as solving row by
    row, with mixed batched/unbatched inputs, nested vmap and gradients through vmap."""
    rng = np.random.default_rng(7)
    parents = random_forest(30, 2, rng)
    s = build_schedule(parents, width)
    rows = [dominant_system(parents, rng) for _ in range(4)]
    d, lo, up, b = (np.stack(a) for a in zip(*rows, strict=True))
    solve = jax.jit(lambda *a: tree_solve(s, *a))
    ref = np.stack([np.asarray(solve(d[i], lo[i], up[i], b[i])) for i in range(4)])
    np.testing.assert_allclose(jax.vmap(solve)(d, lo, up, b), ref, rtol=1e-13, atol=1e-13)
    rhs_only = jax.vmap(lambda bb: solve(d[0], lo[0], up[0], bb))(b)
    want = np.stack([np.asarray(solve(d[0], lo[0], up[0], b[i])) for i in range(4)])
    np.testing.assert_allclose(rhs_only, want, rtol=1e-13, atol=1e-13)
    nested = jax.vmap(jax.vmap(solve))(*(np.stack([a, a]) for a in (d, lo, up, b)))
    np.testing.assert_allclose(nested, np.stack([ref, ref]), rtol=1e-13, atol=1e-13)
    grad = jax.grad(lambda dd: jax.vmap(solve)(dd, lo, up, b).sum())(d)
    grad_rows = np.stack([np.asarray(jax.grad(lambda dd, i=i: solve(dd, lo[i], up[i],
                                                                     b[i]).sum())(d[i]))
                          for i in range(4)])
    np.testing.assert_allclose(grad, grad_rows, rtol=1e-12, atol=1e-12)
