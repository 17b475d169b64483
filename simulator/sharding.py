"""Batches sharded over devices: ``vmap`` whose batch axis is split across a device mesh.

::

    from simulator.sharding import batch_mesh, integrate_sweep, sharded_vmap

    mesh = batch_mesh()                                   # every device, axis "batch"
    simulate = sharded_vmap(lambda g: jx.integrate(cell, [{"HH_gNa": g}]), mesh)
    v = simulate(gs)                                      # gs (B, 1) -> v (B, n_rec, n_steps + 1)

    sweep = integrate_sweep(cell, t_max=20.0)             # after cell.make_trainable("HH_gNa")
    v = sweep([{"HH_gNa": gs}])                           # the same, one compiled program

One ``jax.jit`` with GSPMD sharding constraints: the batch (leading axis) is padded to a
multiple of the mesh's ``"batch"`` size (by repeating the last row), split into equal blocks,
one per device, every device runs ``vmap(fn)`` on its block, and the padding is cut off the
outputs. Rows never interact, so each row's result is the one ``jax.vmap(fn)`` gives.

Outputs stay sharded over the mesh (``NamedSharding(mesh, P("batch"))``) when the batch size
B is a multiple of the device count or with ``trim=False``, else are replicated (JAX has no
uneven sharding). Placement and multi-process use (``jax.distributed``): ``docs/sharding.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from simulator.integrate import integrate

__all__ = ["batch_mesh", "batch_sharding", "gather", "integrate_sweep", "pad_batch",
           "shard_batch", "sharded_vmap", "spans_processes"]

#: Name of the mesh axis that the batch is split over.
BATCH_AXIS = "batch"


def batch_mesh(devices: Sequence[jax.Device] | None = None, axis_name: str = BATCH_AXIS) -> Mesh:
    """A 1-D mesh over ``devices`` with one axis, ``axis_name``.

    Args:
        devices: the devices (default ``jax.devices()``: every local device in a single
            process, every device of every process after ``jax.distributed.initialize``).
        axis_name: name of the mesh axis (default ``"batch"``).

    Returns:
        ``Mesh`` of shape ``{axis_name: len(devices)}``.
    """
    devices = jax.devices() if devices is None else list(devices)
    if len(devices) == 0:
        raise ValueError("devices must hold at least one device, got an empty sequence")
    bad = [d for d in devices if not isinstance(d, jax.Device)]
    if bad:
        raise ValueError(f"devices must be jax.Device objects (jax.devices()), got {bad[0]!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices must be distinct, got {devices}")
    return Mesh(np.array(devices), (axis_name,))


def batch_sharding(mesh: Mesh, axis_name: str = BATCH_AXIS) -> NamedSharding:
    """``NamedSharding(mesh, P(axis_name))``: leading axis split over ``axis_name``."""
    _check_mesh(mesh, axis_name)
    return NamedSharding(mesh, P(axis_name))


def _check_mesh(mesh, axis_name: str) -> int:
    """The number of devices along ``axis_name`` of ``mesh``, or ValueError."""
    if not isinstance(mesh, Mesh):
        raise ValueError(f"mesh must be a jax.sharding.Mesh (see batch_mesh()), got {mesh!r}")
    if axis_name not in mesh.axis_names:
        raise ValueError(f"mesh has no axis {axis_name!r} to split the batch over; its axes are"
                         f" {mesh.axis_names} (batch_mesh() names its axis {BATCH_AXIS!r})")
    return int(mesh.shape[axis_name])


def _leading_sizes(tree, what: str) -> list[tuple[str, int]]:
    """``[(description, leading size)]`` of every array leaf of ``tree``; ValueError for 0-d."""
    sizes = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        name = f"{what}{jax.tree_util.keystr(path)}"
        shape = np.shape(leaf)
        if len(shape) == 0:
            raise ValueError(f"{name} is a scalar (shape ()), but batched inputs need a leading"
                             " batch axis; give it shape (B, ...) or mark the argument unbatched"
                             " (in_axes=None)")
        sizes.append((name, int(shape[0])))
    return sizes


def _batch_size(sizes: list[tuple[str, int]], what: str) -> int:
    """The common leading size B >= 1 of ``sizes``, or ValueError naming the mismatch."""
    if not sizes:
        raise ValueError(f"{what} has no array leaves: there is no batch axis to split")
    n = sizes[0][1]
    mismatched = [(name, s) for name, s in sizes if s != n]
    if mismatched:
        listing = ", ".join(f"{name}: {s}" for name, s in sizes)
        raise ValueError(f"batched inputs must share their leading (batch) axis; got {listing}"
                         f" ({mismatched[0][0]} has {mismatched[0][1]} rows, {sizes[0][0]} has"
                         f" {n})")
    if n == 0:
        raise ValueError(f"empty batch: {sizes[0][0]} has 0 rows; give at least one")
    return n


def _pad_leaf(x, n_pad: int):
    if n_pad == 0:
        return x
    x = jnp.asarray(x)
    return jnp.concatenate([x, jnp.broadcast_to(x[-1:], (n_pad, *x.shape[1:]))])


def pad_batch(tree, multiple: int):
    """Pad the leading axis of every leaf to a multiple of ``multiple`` (last row repeated).

    Args:
        tree: pytree whose leaves share a leading axis of size B >= 1.
        multiple: positive int (e.g. the number of devices).

    Returns:
        ``(padded, B)``: leaves of leading size ``ceil(B / multiple) * multiple``, and B.
    """
    if isinstance(multiple, bool) or not isinstance(multiple, int | np.integer) or multiple < 1:
        raise ValueError(f"multiple must be a positive int, got {multiple!r}")
    n = _batch_size(_leading_sizes(tree, "tree"), "tree")
    n_pad = -n % int(multiple)
    return jax.tree_util.tree_map(lambda x: _pad_leaf(x, n_pad), tree), n


def shard_batch(tree, mesh: Mesh | None = None, axis_name: str = BATCH_AXIS):
    """``jax.device_put`` every leaf split along its leading axis over the mesh.

    Args:
        tree: pytree whose leaves share a leading axis of size B, a multiple of the number of
            devices along ``axis_name`` (use :func:`pad_batch` first otherwise). With a mesh
            over several processes (``jax.distributed``) every process passes the same whole
            batch (not checked) and places only its own devices' rows.
        mesh: default ``batch_mesh()``.

    Returns:
        the same pytree of ``jax.Array`` s with sharding ``NamedSharding(mesh, P(axis_name))``:
        device i holds rows ``[i * B / d, (i + 1) * B / d)``.
    """
    mesh = batch_mesh(axis_name=axis_name) if mesh is None else mesh
    n_dev = _check_mesh(mesh, axis_name)
    n = _batch_size(_leading_sizes(tree, "tree"), "tree")
    if n % n_dev:
        raise ValueError(f"the batch of {n} rows cannot be split evenly over {n_dev} devices;"
                         f" pad it to a multiple of {n_dev} with pad_batch(tree, {n_dev}) (or"
                         " let sharded_vmap pad it)")
    sharding = batch_sharding(mesh, axis_name)
    if spans_processes(mesh):
        return jax.tree_util.tree_map(lambda x: _global_leaf(x, sharding), tree)
    return jax.device_put(tree, sharding)


def spans_processes(mesh: Mesh) -> bool:
    """Whether ``mesh`` holds devices of other processes (after ``jax.distributed``)."""
    here = jax.process_index()
    return any(d.process_index != here for d in mesh.devices.flat)


def _global_leaf(x, sharding: NamedSharding):
    """``x``, the same whole value in every process, as a global array laid out as
    ``sharding``: each process places only its own devices' blocks (no communication).
    ``jax.device_put`` refuses a local ``jax.Array`` for a sharding over other processes."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return jax.device_put(x, sharding)  # already global: reshard
    x = jnp.asarray(x)  # dtype as jax.device_put would give (float64 -> float32 without x64)
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        data = _global_leaf(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def _gather_leaf(x) -> np.ndarray:
    if not isinstance(x, jax.Array) or x.is_fully_addressable:
        return np.asarray(x)
    if x.is_fully_replicated:  # every process holds all of it: no communication
        return np.asarray(x.addressable_data(0))
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def gather(tree):
    """Every leaf of ``tree`` as one NumPy array with all of its rows, in every process.

    With one process this is ``np.asarray`` of each leaf. After ``jax.distributed.initialize``
    a result of :func:`sharded_vmap` spans the devices of every process and a process can
    read only its own rows (``x.addressable_shards``); ``gather`` collects the other rows
    from the other processes (an all-gather: every process must call it, in the same order).

    Args:
        tree: pytree of arrays (``jax.Array`` s, global or not, NumPy arrays, scalars).

    Returns:
        the same pytree of ``np.ndarray`` s, each with the leaf's full (global) shape.
    """
    return jax.tree_util.tree_map(_gather_leaf, tree)


def _axes_of(in_axes, n_args: int | None = None):
    """``in_axes`` checked, and with ``n_args`` as one entry per positional argument."""
    if isinstance(in_axes, int) and not isinstance(in_axes, bool) and in_axes == 0:
        return in_axes if n_args is None else (0,) * n_args
    if isinstance(in_axes, tuple | list) and all(
            a is None or (isinstance(a, int) and not isinstance(a, bool) and a == 0)
            for a in in_axes):
        if n_args is not None and len(in_axes) != n_args:
            raise ValueError(f"in_axes has {len(in_axes)} entries but the function was called"
                             f" with {n_args} positional arguments")
        return tuple(in_axes)
    raise ValueError("in_axes must be 0 (every argument batched along its leading axis) or a"
                     f" tuple with one 0 or None per positional argument; got {in_axes!r}")


def sharded_vmap(fn: Callable, mesh: Mesh | None = None, in_axes=0, *,
                 axis_name: str = BATCH_AXIS, trim: bool = True) -> Callable:
    """``jax.jit(jax.vmap(fn, in_axes))`` with the batch split over the devices of ``mesh``.

    Args:
        fn: function of one row: ``fn(*args) -> outputs`` (pytrees of arrays).
        mesh: a mesh with an axis ``axis_name`` (default ``batch_mesh()``: every device).
        in_axes: ``0`` (every positional argument has a leading batch axis B) or a tuple of
            ``0`` / ``None`` per positional argument (``None``: shared by every row,
            replicated on every device). Only the leading axis can be mapped.
        axis_name: the mesh axis the batch is split over.
        trim: cut the padding rows off the outputs (default). With ``trim=False`` outputs keep
            ``ceil(B / d) * d`` rows (the extra rows repeat row B - 1) and stay sharded.

    Returns:
        ``run(*args)``, jitted (compiled once per input shape): every output leaf has leading
        axis B (row i = ``fn`` of row i of the batched arguments), sharded over the mesh
        when B is a multiple of the device count d, else replicated (module docstring).
    """
    mesh = batch_mesh(axis_name=axis_name) if mesh is None else mesh
    n_dev = _check_mesh(mesh, axis_name)
    in_axes = _axes_of(in_axes)
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    split = NamedSharding(mesh, P(axis_name))
    replicated = NamedSharding(mesh, P())

    @functools.partial(jax.jit, static_argnums=0)
    def run(axes, *args):
        n = next(np.shape(leaf)[0] for a, x in zip(axes, args, strict=True) if a == 0
                 for leaf in jax.tree_util.tree_leaves(x))  # checked equal by wrapped()
        n_pad = -n % n_dev
        args = [jax.lax.with_sharding_constraint(
                    jax.tree_util.tree_map(lambda x: _pad_leaf(x, n_pad), x), split)
                if a == 0 else x for a, x in zip(axes, args, strict=True)]
        out = jax.vmap(fn, in_axes=axes)(*args)
        out = jax.lax.with_sharding_constraint(out, split)
        if trim and n_pad:
            out = jax.lax.with_sharding_constraint(
                jax.tree_util.tree_map(lambda x: x[:n], out), replicated)
        return out

    @functools.wraps(fn)
    def wrapped(*args):
        axes = _axes_of(in_axes, len(args))
        sizes = [s for i, (a, x) in enumerate(zip(axes, args, strict=True)) if a == 0
                 for s in _leading_sizes(x, f"args[{i}]")]
        if not any(a == 0 for a in axes):
            raise ValueError("no batched argument: in_axes maps none of the arguments; mark at"
                             " least one with 0")
        _batch_size(sizes, "the batched arguments")
        if spans_processes(mesh):  # local jax.Arrays (e.g. committed to a device) -> global
            args = jax.tree_util.tree_map(
                lambda x: _global_leaf(x, replicated)
                if isinstance(x, jax.Array) and x.is_fully_addressable else x, args)
        return run(axes, *args)

    wrapped.mesh = mesh
    return wrapped


def integrate_sweep(module, mesh: Mesh | None = None, *, trim: bool = True,
                    **integrate_kwargs: Any) -> Callable:
    """A parameter sweep of ``simulator.integrate`` sharded over the devices of ``mesh``.

    Args:
        module: a module with recordings and trainable parameters (``make_trainable``).
        mesh: default ``batch_mesh()``.
        trim: as in :func:`sharded_vmap`.
        **integrate_kwargs: shared by every row (``t_max``, ``delta_t``, ``solver``,
            ``data_stimuli``, ...; not ``params``).

    Returns:
        ``sweep(params)``: ``params`` is ``get_parameters()``-shaped (list of dicts) with a
        leading batch axis B on every leaf (e.g. ``[{"HH_gNa": (B, 1)}]``); returns
        (B, n_recordings, n_steps + 1) recorded values, row i =
        ``integrate(module, params[i], **integrate_kwargs)``. Compiled on the first call, reused
        for every later call with the same shapes.
    """
    if "params" in integrate_kwargs:
        raise ValueError("params is what integrate_sweep sweeps over: pass it to the returned"
                         " sweep(params), not to integrate_sweep")
    run = sharded_vmap(lambda params: integrate(module, params, **integrate_kwargs), mesh,
                       trim=trim)

    def sweep(params):
        if not isinstance(params, list | tuple) or not all(isinstance(p, dict) for p in params):
            raise ValueError("params must be a list of dicts like get_parameters(), each value"
                             f" with a leading batch axis; got {type(params).__name__}")
        return run(list(params))

    sweep.mesh = run.mesh
    return sweep
