"""DHS: a scheduled Hines solver for tree-structured linear systems.

The implicit cable step yields ``A x = b`` whose sparsity pattern is a tree (or a forest):
unknown ``i`` has at most one parent ``p(i)``, ``A[i, i] = diag[i]``, ``A[i, p(i)] =
lower[i]`` and ``A[p(i), i] = upper[i]`` (not symmetric in value). Hines elimination (leaves
to roots, then substitution back) solves it in O(n) without fill-in or pivoting. The sweep
carries each row's sum instead of its diagonal, so for cable matrices (``lower, upper ≤ 0``,
row sums ≥ 0) no step subtracts: ``tree_solve_row_sums`` takes the row sums from the caller,
``tree_solve`` forms them from ``diag``. Each level eliminates up to ``width`` ready nodes at
once (deepest first; Zhang et al., Nat. Commun. 14:5798, 2023): ``width == 1`` is sequential
Hines order (CPUs), wider schedules cut the number of sequential steps (GPUs). Derivatives go
through ``jax.lax.custom_linear_solve`` (one more solve, or one transposed solve), never
through the elimination loop. The algebra, the schedule, the solve order with its dummy slot
and measurements: docs/numerics.md.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from simulator.node_index import along_nodes, with_zero_row
from simulator.solvers.dhs_schedule import TreeSchedule, build_schedule, check_parents

__all__ = [
    "TreeSchedule",
    "build_schedule",
    "check_parents",
    "tree_matvec",
    "tree_solve",
    "tree_solve_row_sums",
]


# ----------------------------------------------------------------------------------
# Solve (jnp, run time)
# ----------------------------------------------------------------------------------


def _float_dtype(*arrays):
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.result_type(dtype, float)
    return dtype


def _as_node_arrays(n: int, names, arrays, dtype):
    """``arrays`` as ``dtype``, each ``(n, ...)``: the node axis first, then trailing batch
    axes that broadcast against each other."""
    out = []
    for name, a in zip(names, arrays, strict=True):
        a = jnp.asarray(a, dtype)
        if a.ndim == 0 or a.shape[0] != n:
            raise ValueError(f"{name} must have shape ({n},) or ({n}, ...) with trailing batch"
                             f" axes, got {a.shape}")
        out.append(a)
    try:
        np.broadcast_shapes(*(a.shape for a in out))
    except ValueError:
        shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(names, out, strict=True))
        raise ValueError(f"trailing batch axes must broadcast, got {shapes}") from None
    return out


def _as_vectors(n: int, names, arrays, dtype):
    out = []
    for name, a in zip(names, arrays, strict=True):
        a = jnp.asarray(a, dtype)
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
        out.append(a)
    return out


def _to_solve_order(schedule: TreeSchedule, a, pad_value):
    """Node-order ``(n, ...)`` -> solve-order ``(n + 1, ...)`` with the dummy slot appended."""
    return jnp.concatenate([a[schedule.order], jnp.full((1, *a.shape[1:]), pad_value, a.dtype)])


def _steps(schedule: TreeSchedule):
    """(children, parents) of the sweep: a scalar sequence at width 1, levels otherwise."""
    if schedule.width == 1:
        child = np.arange(schedule.n - 1, schedule.n_roots - 1, -1, dtype=np.int32)
        return child, schedule.parent[child]
    return schedule.levels, schedule.level_parents


def _sweep(schedule: TreeSchedule, row_sums, lower, upper, rhs, stacked=False):
    """Solve ``A x = rhs`` by Hines elimination then substitution (no custom derivative).

    Arrays are ``(n, ...)``: node axis first, node order in and out, any trailing batch
    axes. They are taken to solve order with a dummy slot appended, where ``s`` holds the
    row sums (see the module docstring) and ``lo`` is zero at the roots and the dummy slot.
    The steps (:func:`_steps`) are (n_steps,) for the width-1 scalar loop or (n_levels,
    width) for level-parallel DHS: the same body serves both (scalar or vector gathers and
    scatter-adds). ``stacked``: s and b travel as one (2, n + 1, ...) array, one update per
    step (faster for batched rows; docs/numerics.md); same arithmetic.
    """
    dtype = rhs.dtype
    s = _to_solve_order(schedule, row_sums, jnp.ones((), dtype))
    lo = _to_solve_order(schedule, lower, jnp.zeros((), dtype))
    # Roots take no lower entry (their pivot is their row sum); the dummy slot's is 0.
    lo = lo.at[: schedule.n_roots].set(0)
    up = _to_solve_order(schedule, upper, jnp.zeros((), dtype))
    b = _to_solve_order(schedule, rhs, jnp.zeros((), dtype))
    children, parents = _steps(schedule)
    xs = (children, parents, up[children], lo[children])
    if stacked:
        def eliminate(sb, xs):
            c, p, u, low = xs
            m = u / (sb[0, c] - low)
            return sb.at[:, p].add(-m * sb[:, c]), None

        sb, _ = jax.lax.scan(eliminate, jnp.stack(jnp.broadcast_arrays(s, b)), xs)
        s, b = sb[0], sb[1]
    else:
        def eliminate(carry, xs):
            s, b = carry
            c, p, u, low = xs
            m = u / (s[c] - low)
            return (s.at[p].add(-m * s[c]), b.at[p].add(-m * b[c])), None

        (s, b), _ = jax.lax.scan(eliminate, (s, b), xs)
    d = s - lo
    x0 = b / d
    ld = lo / d

    def substitute(x, xs):
        c, p, bd, ldc = xs
        return x.at[c].set(bd - ldc * x[p]), None

    x, _ = jax.lax.scan(substitute, x0, (children, parents, x0[children], ld[children]),
                        reverse=True)
    return x[schedule.position]


def _edges(parents: np.ndarray, lower, upper, dtype):
    """Parent slots (roots -> a dummy slot n) and lower/upper zeroed at the roots."""
    n = parents.shape[0]
    nonroot = parents >= 0
    zero = jnp.zeros((), dtype)
    return (np.where(nonroot, parents, n), jnp.where(along_nodes(nonroot, lower), lower, zero),
            jnp.where(along_nodes(nonroot, upper), upper, zero))


def _row_sums(parents: np.ndarray, diag, lower, upper):
    n = parents.shape[0]
    par, lower, upper = _edges(parents, lower, upper, diag.dtype)
    s = with_zero_row(diag + lower).at[par].add(upper)
    return s[:n]


def _matvec(parents: np.ndarray, row_sums, lower, upper, x):
    """``A @ x`` from the row sums: ``s x + lower (x_p − x) + Σ upper (x_k − x)`` per row,
    differences of neighbours rather than a large diagonal against large off-diagonals."""
    n = parents.shape[0]
    par, lower, upper = _edges(parents, lower, upper, x.dtype)
    diff = with_zero_row(x)[par] - x  # x_p - x_i (garbage at roots, multiplied by zero)
    y = row_sums * x + lower * diff
    return with_zero_row(y).at[par].add(-upper * diff)[:n]


@functools.partial(jax.jit, static_argnums=0)
def _tree_solve(schedule: TreeSchedule, row_sums, lower, upper, rhs):
    """The sweep as a linear solve (derivatives by one more sweep, of ``A^T``).

    Under ``vmap`` the batch becomes the *last* axis (``(n, B)`` arrays): every step of the
    sweep then reads and writes one contiguous row of B values, where ``vmap``'s own layout
    (batch first) would make each a strided column access. The arithmetic is the same.
    """

    # Trailing batch axes (node-major batches, simulator.batch_last): the row sums and the
    # right-hand side travel stacked, as in the batched rule below.
    trailing = max(row_sums.ndim, rhs.ndim) > 1
    if trailing:
        shape = np.broadcast_shapes(row_sums.shape, lower.shape, upper.shape, rhs.shape)
        row_sums, rhs = jnp.broadcast_to(row_sums, shape), jnp.broadcast_to(rhs, shape)
    sweep = jax.custom_batching.custom_vmap(functools.partial(_sweep, schedule,
                                                              stacked=trailing))

    @sweep.def_vmap
    def _sweep_batched(axis_size, in_batched, row_sums, lower, upper, rhs):
        # Row sums and right-hand side travel stacked, so both get the batch axis; a shared
        # (unbatched) lower or upper gets a trailing axis of 1 and broadcasts in the sweep's
        # arithmetic instead of being copied per batch member (DendriteControl x1,024:
        # about 15 % less time per solver step; docs/performance.md).
        def batch_last(a, batched, shared):
            if batched:
                return jnp.moveaxis(a, 0, -1)
            return a[..., None] if shared else jnp.broadcast_to(a[..., None],
                                                                 (*a.shape, axis_size))

        s_b, lo_b, up_b, rhs_b = in_batched
        args = (batch_last(row_sums, s_b, False), batch_last(lower, lo_b, True),
                batch_last(upper, up_b, True), batch_last(rhs, rhs_b, False))
        return jnp.moveaxis(_sweep(schedule, *args, stacked=True), -1, 0), True

    def matvec(x):
        return _matvec(schedule.parents, row_sums, lower, upper, x)

    def transpose_solve(_, b):
        # A^T: the same tree with lower and upper exchanged; its row sums are A's column
        # sums, s + (upper - lower) at a node and + (lower - upper) of each child.
        return sweep(_transpose_row_sums(schedule.parents, row_sums, lower, upper), upper,
                     lower, b)

    def solve(_, b):
        return sweep(row_sums, lower, upper, b)

    return jax.lax.custom_linear_solve(matvec, rhs, solve, transpose_solve)


def _transpose_row_sums(parents: np.ndarray, row_sums, lower, upper):
    n = parents.shape[0]
    par, lower, upper = _edges(parents, lower, upper, row_sums.dtype)
    return with_zero_row(row_sums + upper - lower).at[par].add(lower - upper)[:n]


def tree_solve(schedule: TreeSchedule, diag, lower, upper, rhs):
    """Solve the tree system ``A x = rhs`` with the DHS schedule.

    Args:
        schedule: from ``build_schedule`` (static).
        diag: ``(n,)`` diagonal ``A[i, i]``, node order.
        lower: ``(n,)`` ``A[i, parent(i)]``, node order (ignored at roots).
        upper: ``(n,)`` ``A[parent(i), i]``, node order (ignored at roots).
        rhs: ``(n,)`` right-hand side, node order.

    Every array may also be ``(n, ...)``: trailing batch axes that broadcast against each
    other (a node-major batch of systems, e.g. a shared matrix ``(n, 1)`` with right-hand
    sides ``(n, B)``); each step of the sweep then updates one contiguous row per node.

    Returns:
        ``(n,)`` (or ``(n, ...)``) solution ``x`` in node order, dtype the promoted float
        dtype of the inputs. Jit-able, vmap-able over every array argument and differentiable in all
        of them (derivatives cost one extra solve, see the module docstring). The solve
        is itself jitted with the schedule as a static argument, so eager calls with an
        equal schedule reuse the compiled code. Forms the row sums from ``diag`` and calls
        ``tree_solve_row_sums``; callers that know the row sums exactly (a diagonal that
        is the sum of large off-diagonals plus a small term) should call that directly.
    """
    diag, lower, upper, rhs = _checked(schedule, ("diag", "lower", "upper", "rhs"),
                                       (diag, lower, upper, rhs))
    if schedule.n == 0:
        return rhs / diag
    return _tree_solve(schedule, _row_sums(schedule.parents, diag, lower, upper), lower,
                       upper, rhs)


def tree_solve_row_sums(schedule: TreeSchedule, row_sums, lower, upper, rhs):
    """Solve ``A x = rhs`` given ``A``'s row sums instead of its diagonal.

    Args:
        schedule: from ``build_schedule`` (static).
        row_sums: ``(n,)`` ``Σ_j A[i, j]``, i.e. ``A[i, i] + lower[i] + Σ_{children k}
            upper[k]`` (``lower`` counted only at non-roots), node order.
        lower, upper, rhs: as in ``tree_solve``.

    Returns:
        ``(n,)`` ``x``, as ``tree_solve``. For an M-matrix (``lower, upper ≤ 0``,
        ``row_sums ≥ 0``) no step subtracts, so ``x`` is accurate to a few ulps whatever
        the ratio of off-diagonals to row sums (see the module docstring).
    """
    row_sums, lower, upper, rhs = _checked(schedule, ("row_sums", "lower", "upper", "rhs"),
                                           (row_sums, lower, upper, rhs))
    if schedule.n == 0:
        return rhs / row_sums
    return _tree_solve(schedule, row_sums, lower, upper, rhs)


def _checked(schedule, names, arrays):
    if not isinstance(schedule, TreeSchedule):
        raise TypeError(f"schedule must be a TreeSchedule, got {type(schedule).__name__}")
    return _as_node_arrays(schedule.n, names, arrays, _float_dtype(*arrays))


def parents_of(schedule_or_parents) -> np.ndarray:
    """The ``(n,)`` parent array of a ``TreeSchedule`` or of a checked parent array."""
    if isinstance(schedule_or_parents, TreeSchedule):
        return schedule_or_parents.parents
    return check_parents(schedule_or_parents)


def tree_matvec(schedule_or_parents, diag, lower, upper, x):
    """Tree matrix-vector product ``A @ x`` (node order in and out).

    Args:
        schedule_or_parents: a ``TreeSchedule`` or a ``(n,)`` parent array (``-1`` at
            roots).
        diag, lower, upper: ``(n,)`` entries of ``A`` as in ``tree_solve``.
        x: ``(n,)`` vector.

    Returns:
        ``(n,)`` ``A @ x``.
    """
    parents = parents_of(schedule_or_parents)
    n = parents.shape[0]
    dtype = _float_dtype(diag, lower, upper, x)
    diag, lower, upper, x = _as_vectors(
        n, ("diag", "lower", "upper", "x"), (diag, lower, upper, x), dtype
    )
    par, lo, up = _edges(parents, lower, upper, dtype)
    x_ext = with_zero_row(x)
    y = diag * x + lo * x_ext[par]
    return with_zero_row(y).at[par].add(up * x)[:n]
