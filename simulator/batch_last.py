"""Node-major batches: run a simulation function under ``jax.vmap`` with the batch last.

``jax.vmap`` keeps the batch as the leading axis of every array, so a vmapped step holds
``(B, n_nodes)`` arrays: the node axis is innermost, and that is the axis XLA's CPU backend
vectorises and the tree solve walks. For the small trees of RL envs (a dozen nodes) the
vectors are mostly remainder, and every step of the sweep reads a strided column.
:func:`batch_last` wraps a function so that under ``vmap`` it runs on ``(n_nodes, B)``
arrays instead: the batch is innermost (full vectors whatever the node count) and each node
is one contiguous row. The function's own code runs unchanged: the step's indexing is on
the leading (node) axis and its arithmetic is elementwise (mechanisms that declare
``elementwise = True``), and the tree solve accepts trailing batch axes
(:func:`simulator.solvers.dhs.tree_solve_row_sums`).

Measured by ``python -m bench`` (1,024 vmapped envs against jaxley's vmapped ``integrate``,
ours/jaxley time per solver step, 2 CPU cores; docs/performance.md, "Fourth pass"):
VoltageTarget float64 0.563 → 0.498, float32 0.541 → 0.404; DendriteControl (235 nodes)
float64 0.849 → 0.321, float32 0.617 → 0.295.

Derivatives are taken through the plain function (a ``custom_jvp`` whose rule is
``jax.jvp`` of it), so forward and reverse mode behave exactly as without the wrapper; only
the primal computation under ``vmap`` is node-major.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import tree_util


def batch_last(fn, carried: tuple[int, ...] = (), shared: tuple[int, ...] = ()):
    """``fn`` (a function of pytrees of arrays) that runs node-major under ``jax.vmap``.

    ``fn`` must give the same results when every array argument ``(a, ...)`` gains a
    trailing batch axis: ``(a, ..., B)`` for a batched argument, ``(a, ..., 1)`` for a
    shared one (scalars stay scalars or become ``(B,)``), i.e. it may index and reduce only
    along leading axes and must otherwise be elementwise. Its outputs then carry the
    trailing batch axis (or broadcast to it), and are returned batch-first as ``vmap``
    would.

    Args:
        fn: the function.
        carried: positions of arguments that ``fn`` updates (a scan's carry): they get the
            full batch axis ``(a, ..., B)`` even where shared.
        shared: positions of arguments passed as they are (no trailing axis), e.g. matrices
            that multiply node vectors; where one of them is batched, the call falls back
            to plain ``vmap``.

    Unbatched calls and derivatives run ``fn`` as it is. ``fn``'s outputs must not be
    empty arrays (return ``None`` instead): jax 0.10 loses an empty output's batch axis in
    reverse mode through a jitted function under ``vmap`` (an IndexError in a later
    reduction).
    """
    batched_fn = jax.custom_batching.custom_vmap(fn)

    @batched_fn.def_vmap
    def _rule(axis_size, in_batched, *args):
        in_batched = tuple(in_batched)
        if any(any(tree_util.tree_leaves(in_batched[i])) for i in shared):
            axes = tree_util.tree_map(lambda b: 0 if b else None, in_batched)
            out = jax.vmap(fn, in_axes=axes)(*args)
            return out, tree_util.tree_map(lambda _: True, out)
        trailing = tuple(
            arg if i in shared else tree_util.tree_map(
                lambda a, b, full=i in carried: _to_trailing(a, b, full, axis_size), arg,
                in_batched[i])
            for i, arg in enumerate(args))
        out = fn(*trailing)
        shapes = jax.eval_shape(fn, *tree_util.tree_map(_unbatched_aval, args, in_batched))
        out = tree_util.tree_map(lambda o, s: _to_leading(o, s.shape, axis_size), out, shapes)
        return out, tree_util.tree_map(lambda _: True, out)

    wrapped = jax.custom_jvp(batched_fn)

    @wrapped.defjvp
    def _jvp(primals, tangents):
        out, out_dot = jax.jvp(fn, primals, tangents)
        return _batch_first(out, _true_where_batched(primals)), out_dot

    return wrapped


def _batch_first(tree, flag):
    """``tree`` unchanged, every leaf batched along its first axis under ``vmap``.

    A jitted ``custom_jvp`` under ``vmap`` fixes its outputs' batch axes from the primal
    function (every output batched along the first axis, by the node-major rule) and does
    not move those of the derivative rule to match (jax 0.10: a scan's stacked outputs come
    batched along their second axis, and an output computed from shared values only comes
    unbatched; a later use raised a broadcasting TypeError or IndexError); the derivative
    rule's primal outputs pass through this. ``flag`` (True, batched wherever an argument
    is) batches every leaf; ``expand_dims`` and ``squeeze`` move the batch axis to the front
    in their batching rules. All of it is linear or a selection, so derivatives of any
    order go through."""
    def first(a):
        a = jnp.where(flag, a, a)
        return jax.lax.squeeze(jax.lax.expand_dims(a, (0,)), (0,))

    return tree_util.tree_map(first, tree)


def _true_where_batched(tree):
    """A bool scalar, True, that depends on the first entry of every array leaf of ``tree``
    (so under ``vmap`` it is batched wherever one of them is)."""
    flag = jnp.asarray(True)
    for leaf in tree_util.tree_leaves(tree):
        leaf = jnp.asarray(leaf)
        if leaf.size == 0 or jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            continue
        first = jnp.ravel(leaf)[:1]
        flag = flag & jnp.all((first == first) | True)
    return flag


def _to_trailing(a, batched: bool, full: bool, size: int):
    """A batch-first (``batched``) or shared argument leaf with the batch as its last axis
    (of ``size`` where ``full``, else of 1 for shared arrays; shared scalars stay scalars)."""
    a = jnp.asarray(a)
    if batched:
        return jnp.moveaxis(a, 0, -1)
    if full:
        return jnp.broadcast_to(a[..., None], (*a.shape, size))
    return a[..., None] if a.ndim else a


def _unbatched_aval(a, batched: bool):
    a = jnp.asarray(a)
    return jax.ShapeDtypeStruct(a.shape[1:] if batched else a.shape, a.dtype)


def _to_leading(out, shape: tuple, size: int):
    """An output of unbatched ``shape`` computed node-major -> ``(size, *shape)``."""
    out = jnp.asarray(out)
    if out.shape == shape:  # computed from shared values only
        out = out[..., None]
    if out.ndim != len(shape) + 1 or out.shape[-1] not in (1, size):
        raise AssertionError(f"node-major output of shape {out.shape} does not match"
                             f" {shape} with a trailing batch axis of {size}")
    return jnp.moveaxis(jnp.broadcast_to(out, (*shape, size)), -1, 0)


def supports_batch_last(compiled, solver) -> bool:
    """Whether :class:`simulator.step.Step` of ``compiled`` with ``solver`` may run node-major
    (:func:`batch_last`) when it is given its ``prepared`` data (computed outside, passed
    as a ``shared`` argument: exp_euler's transition matrices and the electrodes'
    matrices multiply node vectors): every channel, pump and synapse declares
    ``elementwise = True`` and the solver's ``batch_last`` is true (its update accepts
    trailing batch axes: every solver but the dense tree solve)."""
    mechanisms = ([m for m, _ in compiled.channels] + [m for m, _ in compiled.pumps]
                  + [s for s, _, _ in compiled.synapses])
    return (bool(getattr(solver, "batch_last", False))
            and all(getattr(m, "elementwise", False) for m in mechanisms))
