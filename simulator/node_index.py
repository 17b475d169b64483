"""Static node-index reads and writes of mechanisms, without indexing where none is needed.

Mechanisms are evaluated on the nodes they are inserted in (``inds``, a NumPy array known
at trace time): gather ``x[inds]``, compute, scatter ``x.at[inds].set(y)``. A mechanism
inserted in every node (point neurons, single compartments, unbranched cables) needs no
gather or scatter at all; these functions then pass the arrays through, which saves XLA
two loops per state and parameter. A few contiguous runs of nodes (a cell's compartments
before its branch points, say, or all branches but one) are read with static slices and
written back by concatenation:
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


#: Most contiguous runs an index set is split into for slicing (see the module docstring);
#: more runs are gathered and scattered.
MAX_RUNS = 8


def runs(inds) -> list[tuple[int, int]] | None:
    """``[(start, stop), ...]``: ``inds`` as at most ``MAX_RUNS`` runs of consecutive nodes,
    if it is strictly increasing; else ``None``."""
    inds = np.asarray(inds)
    if inds.ndim != 1 or inds.size == 0 or np.any(np.diff(inds) <= 0):
        return None
    breaks = np.flatnonzero(np.diff(inds) != 1) + 1
    if breaks.size >= MAX_RUNS:
        return None
    bounds = np.concatenate([[0], breaks, [inds.size]])
    return [(int(inds[a]), int(inds[b - 1]) + 1)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def take(x, inds, pad: int = 0):
    """``x[inds]`` along the first axis: ``x`` itself when ``inds`` covers every node, static
    slices (joined) for a few runs, a gather otherwise; with ``pad`` copies of the last row
    appended (:func:`pad_lanes`)."""
    if covers_all(inds, x.shape[0]):
        return pad_lanes(x, pad)
    pieces = runs(inds)
    if pieces is None:
        return pad_lanes(x[inds], pad)
    return pad_lanes(_join([x[a:b] for a, b in pieces]), pad)


def _join(parts):
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


def _merged(x, pieces, values, combine):
    """``x`` with each run ``x[a:b]`` replaced by ``combine(x[a:b], the run's values)``."""
    parts, end, offset = [], 0, 0
    for a, b in pieces:
        parts += [x[end:a], combine(x[a:b], values[offset:offset + b - a]).astype(x.dtype)]
        end, offset = b, offset + b - a
    return jnp.concatenate([*parts, x[end:]])


def put(x, inds, values):
    """``x.at[inds].set(values)`` (``values`` broadcast to ``x`` when ``inds`` covers all;
    runs joined in by concatenation)."""
    if covers_all(inds, x.shape[0]):
        return jnp.broadcast_to(jnp.asarray(values, x.dtype), x.shape)
    pieces = runs(inds)
    if pieces is None:
        return x.at[inds].set(values)
    values = jnp.broadcast_to(jnp.asarray(values, x.dtype), (len(inds),) + x.shape[1:])
    return _merged(x, pieces, values, lambda _, new: new)


def add(x, inds, values):
    """``x.at[inds].add(values)`` (repeated indices accumulate, as a scatter-add; runs are
    added by concatenation)."""
    if covers_all(inds, x.shape[0]):
        return x + values
    pieces = runs(inds)
    if pieces is None:
        return x.at[inds].add(values)
    values = jnp.broadcast_to(jnp.asarray(values), (len(inds),) + x.shape[1:])
    return _merged(x, pieces, values, lambda old, new: old + new)


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


def along_nodes(a: np.ndarray, like):
    """The static per-node (or per-edge) array ``a`` (n,) shaped to broadcast against
    ``like`` ((n, ...): the node axis first, then any trailing batch axes)."""
    return a.reshape(a.shape + (1,) * (jnp.ndim(like) - 1))


def with_zero_row(a):
    """``a`` (n, ...) with a row of zeros appended (index n: a padding slot that index
    arrays point at where an entry is absent, e.g. a root's parent edge)."""
    return jnp.concatenate([a, jnp.zeros((1, *a.shape[1:]), a.dtype)])
