"""The device carry of the gymnasium env: a pytree (JAX key and ``EnvState``) packed into
uint8 buffers of at most :data:`CHUNK_BYTES` each (at most :data:`MAX_CHUNKS` of them; a
larger carry is one buffer), so a jitted step takes and returns one or a few arrays instead
of a dozen leaves.

Why chunks: XLA's CPU runtime runs a program's operations one after the other on the
calling thread only while every buffer they use is at most 512 bytes; one larger buffer
(VoltageTarget-v0's carry is 708 bytes in float64) switches the whole program to dataflow
execution on its thread pool, whose scheduling then costs more than the arithmetic: the
float64 step program took 121–158 µs per call with one 708-byte carry and 67 µs with two
chunks (float32, 448 bytes in one chunk: 56–58 µs either way; docs/performance.md).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: Largest chunk of a packed carry (bytes): XLA's CPU runtime executes sequentially while
#: every buffer is at most this size (see the module docstring).
CHUNK_BYTES = 512
#: A carry larger than this many chunks travels as one buffer: its env's program has other
#: buffers above 512 bytes (its cells' states) and runs on the thread pool anyway, and
#: every chunk is one more argument, output and slice to compile and dispatch
#: (BasalGangliaDBS-v0's 142 kB carry in 278 chunks took its first reset and step from
#: 1.4 + 2.4 s to 4.0 + 5.4 s of compilation).
MAX_CHUNKS = 4


def one_buffer(nbytes: int) -> bool:
    """Whether ``nbytes`` of a program's data travel as one buffer rather than in chunks
    of at most :data:`CHUNK_BYTES` (more than :data:`MAX_CHUNKS` of them: the program
    runs on XLA's thread pool anyway)."""
    return nbytes > MAX_CHUNKS * CHUNK_BYTES


def chunked(flat):
    """A flat uint8 array (NumPy or JAX) as a tuple of consecutive chunks of at most
    :data:`CHUNK_BYTES` (one empty chunk for an empty array), or as a tuple of the whole
    array when that would take more than :data:`MAX_CHUNKS` chunks."""
    n = flat.shape[0]
    if one_buffer(n):
        return (flat,)
    return tuple(flat[i:i + CHUNK_BYTES] for i in range(0, max(n, 1), CHUNK_BYTES))


class CarryPacker:
    """Packs a pytree of arrays (typed PRNG keys included) into uint8 chunks and back.

    Pure data movement (bitcasts, reshapes, one concatenate, slices), traceable and
    lossless: the jitted step then takes and returns a few buffers instead of a dozen
    leaves, which roughly halves JAX's per-call dispatch cost. ``pack`` returns a tuple of
    uint8 chunks (:func:`chunked`); ``unpack`` takes that tuple (or one flat buffer).
    """

    def __init__(self, example) -> None:
        leaves, self.treedef = jax.tree_util.tree_flatten(example)
        self.specs = []  # (shape, dtype, key impl or None) per leaf
        for leaf in leaves:
            if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
                data = jax.eval_shape(jax.random.key_data, leaf)
                self.specs.append((data.shape, np.dtype(data.dtype), jax.random.key_impl(leaf)))
            else:
                self.specs.append((tuple(leaf.shape), np.dtype(leaf.dtype), None))

    def pack(self, tree) -> jax.Array:
        parts = []
        for leaf, (_, dtype, impl) in zip(jax.tree_util.tree_leaves(tree), self.specs,
                                          strict=True):
            leaf = jax.random.key_data(leaf) if impl is not None else leaf
            leaf = (leaf.astype(jnp.uint8) if dtype == np.bool_
                    else jax.lax.bitcast_convert_type(leaf, jnp.uint8))
            parts.append(leaf.reshape(-1))
        return chunked(jnp.concatenate(parts))

    def unpack(self, buf):
        if isinstance(buf, tuple | list):
            buf = jnp.concatenate([jnp.asarray(chunk) for chunk in buf])
        leaves, start = [], 0
        for shape, dtype, impl in self.specs:
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            chunk = buf[start:start + size]
            start += size
            if dtype == np.bool_:
                leaf = chunk.reshape(shape).astype(jnp.bool_)
            elif dtype.itemsize > 1:
                leaf = jax.lax.bitcast_convert_type(chunk.reshape(*shape, dtype.itemsize), dtype)
            else:
                leaf = jax.lax.bitcast_convert_type(chunk.reshape(shape), dtype)
            leaves.append(leaf if impl is None else jax.random.wrap_key_data(leaf, impl=impl))
        return jax.tree_util.tree_unflatten(self.treedef, leaves)
