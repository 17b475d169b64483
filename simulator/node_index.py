"""Static node-index reads and writes of mechanisms, without indexing where none is needed.

Mechanisms are evaluated on the nodes they are inserted in (``inds``, a NumPy array known
at trace time): gather ``x[inds]``, compute, scatter ``x.at[inds].set(y)``. A mechanism
inserted in every node (point neurons, single compartments, unbranched cables) needs no
gather or scatter at all; these functions then pass the arrays through, which saves XLA
two loops per state and parameter. A contiguous run of nodes (a cell's compartments before
its branch points, say) is read with a static slice and written back by concatenation:
under ``vmap`` a gather by an index array puts the index axis first and XLA transposes back
every step (VoltageTarget ×1,024, float64: 575 → 464 ns per solver step; CA1 run 20.8 →
16.5 ms), though reverse mode is slower through the slices (CA1 gradient 150–190 → 195–200
ms: a slice's transpose pads to the full array). Other index sets gather and scatter.
Measured alternatives that did not pay: docs/performance.md.

**Lane padding.** XLA's CPU backend vectorises a fusion's innermost axis and evaluates
what does not fill a vector one value at a time; for a transcendental function that costs
about five times a vectorised value. Under ``vmap`` the innermost axis of a mechanism's
arrays is its node count: an HH cable of 13 or 14 compartments, 1,024 batched cells,
float64, ran 4x slower per node than one of 12 or 16 (1,333 against 322 ns per cell step).
:func:`lane_padding` says how many copies of the last node to append (:func:`pad_lanes`)
where that pays; the extra values are computed and dropped (:func:`unpad_lanes`).
Measurements: docs/performance.md ("Lane padding").
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def covers_all(inds, n: int) -> bool:
    """Whether ``inds`` is exactly ``0, 1, ..., n-1``."""
    inds = np.asarray(inds)
    return inds.shape == (n,) and bool(np.all(inds == np.arange(n)))


def contiguous(inds) -> tuple[int, int] | None:
    """``(start, stop)`` if ``inds`` is exactly ``start, start + 1, ..., stop − 1`` (at
    least one index), else ``None``."""
    inds = np.asarray(inds)
    if inds.ndim != 1 or inds.size == 0:
        return None
    start = int(inds[0])
    if np.all(inds == np.arange(start, start + inds.size)):
        return start, start + int(inds.size)
    return None


def take(x, inds):
    """``x[inds]`` along the first axis: ``x`` itself when ``inds`` covers every node, a
    static slice for a contiguous run, a gather otherwise."""
    if covers_all(inds, x.shape[0]):
        return x
    run = contiguous(inds)
    return x[run[0]:run[1]] if run else x[inds]


def put(x, inds, values):
    """``x.at[inds].set(values)`` (``values`` broadcast to ``x`` when ``inds`` covers all;
    a contiguous run joined in by concatenation)."""
    if covers_all(inds, x.shape[0]):
        return jnp.broadcast_to(jnp.asarray(values, x.dtype), x.shape)
    run = contiguous(inds)
    if run:
        values = jnp.broadcast_to(jnp.asarray(values, x.dtype), (run[1] - run[0],) + x.shape[1:])
        return jnp.concatenate([x[:run[0]], values, x[run[1]:]])
    return x.at[inds].set(values)


def add(x, inds, values):
    """``x.at[inds].add(values)`` (repeated indices accumulate, as a scatter-add; a
    contiguous run is added by concatenation)."""
    if covers_all(inds, x.shape[0]):
        return x + values
    run = contiguous(inds)
    if run:
        a, b = run
        return jnp.concatenate([x[:a], (x[a:b] + values).astype(x.dtype), x[b:]])
    return x.at[inds].add(values)


def lane_padding(n: int, dtype) -> int:
    """Copies of the last node to append to ``n`` mechanism nodes of ``dtype`` (see the
    module docstring): float64 counts of 9–15 that are not a multiple of 4 are padded to one
    (unpadded they ran 2.5x slower per cell than padded). float32 is never padded: its
    remainders cost at most 1.3x (31 nodes; 13 nodes none) and padding gained no more.
    """
    if jnp.dtype(dtype).itemsize >= 8 and 8 < n < 16:
        return (-n) % 4
    return 0


def pad_lanes(x, pad: int):
    """``x`` (``(n, ...)``) with its last row repeated ``pad`` times (scalars unchanged)."""
    x = jnp.asarray(x)
    if pad == 0 or x.ndim == 0:
        return x
    return jnp.concatenate([x, jnp.broadcast_to(x[-1:], (pad, *x.shape[1:]))])


def unpad_lanes(x, n: int, pad: int):
    """The first ``n`` rows of a ``pad_lanes``-padded ``x`` (anything else unchanged)."""
    x = jnp.asarray(x)
    if pad and x.ndim and x.shape[0] == n + pad:
        return x[:n]
    return x
