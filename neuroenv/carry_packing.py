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

A carry too large for :data:`MAX_CHUNKS` chunks (a network's; :func:`one_buffer`) is not
packed into bytes but grouped by dtype: one array per dtype (keys as their key data), the
leaves of that dtype flattened and concatenated, so that unpacking is slices and reshapes.
Reassembling every state from bytes inside the step program is compiled code of its own:
BetaSuppression-v0's step program compiled in 1.63 s with its 24 kB carry unpacked from
bytes and in 1.29 s without. Passing the 20–60 leaves themselves compiled as fast but cost
dispatch: Desynchronize-v0's ``env.step`` 206–231 → 297–305 µs, BasalGangliaDBS-v0's
+1 ms. Pickles hold the carry as one flat byte buffer, the bytes of each leaf in order, in
either layout (:meth:`CarryPacker.to_bytes`, :meth:`CarryPacker.from_bytes`).
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
    """Packs a pytree of arrays (typed PRNG keys included) into a few buffers and back.

    Pure data movement (bitcasts, reshapes, concatenates, slices), traceable and lossless:
    the jitted step then takes and returns a few buffers instead of a dozen leaves, which
    roughly halves JAX's per-call dispatch cost. ``pack`` returns a tuple of uint8 chunks
    (:func:`chunked`); ``unpack`` takes that tuple (or one flat buffer). A tree of more than
    :data:`MAX_CHUNKS` × :data:`CHUNK_BYTES` bytes (``grouped``) packs into one flat array
    per dtype instead (see the module docstring).
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
        #: bytes of each leaf (key data for keys), in leaf order
        self.sizes = [int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                      for shape, dtype, _ in self.specs]
        #: whether the carry is one array per dtype rather than uint8 chunks
        self.grouped = one_buffer(sum(self.sizes))
        #: the dtypes of the grouped layout, in order of first appearance, and the leaf
        #: indices of each
        self.groups = {}
        for i, (_, dtype, _) in enumerate(self.specs):
            self.groups.setdefault(dtype, []).append(i)

    def _plain_leaves(self, tree) -> list:
        """The leaves of ``tree``, typed keys as their key data."""
        return [jax.random.key_data(leaf) if impl is not None else leaf
                for leaf, (_, _, impl) in zip(jax.tree_util.tree_leaves(tree), self.specs,
                                              strict=True)]

    def _tree(self, plain) -> object:
        """The tree of :meth:`_plain_leaves`' output (key data wrapped again)."""
        leaves = [leaf if impl is None else jax.random.wrap_key_data(leaf, impl=impl)
                  for leaf, (_, _, impl) in zip(plain, self.specs, strict=True)]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)

    def _group(self, plain, xp) -> tuple:
        """The grouped layout of plain leaves (``xp``: ``jnp`` traced, ``np`` on the host)."""
        return tuple(xp.concatenate([xp.reshape(plain[i], (-1,)) for i in indices])
                     for indices in self.groups.values())

    def _ungroup(self, carry) -> list:
        """The plain leaves of a grouped carry (slices and reshapes; NumPy or JAX)."""
        plain = [None] * len(self.specs)
        for buf, indices in zip(carry, self.groups.values(), strict=True):
            start = 0
            for i in indices:
                shape = self.specs[i][0]
                size = int(np.prod(shape, dtype=np.int64))
                plain[i] = buf[start:start + size].reshape(shape)
                start += size
        return plain

    def pack(self, tree) -> tuple:
        plain = self._plain_leaves(tree)
        if self.grouped:
            return self._group(plain, jnp)
        parts = []
        for leaf, (_, dtype, _) in zip(plain, self.specs, strict=True):
            leaf = (leaf.astype(jnp.uint8) if dtype == np.bool_
                    else jax.lax.bitcast_convert_type(leaf, jnp.uint8))
            parts.append(leaf.reshape(-1))
        return chunked(jnp.concatenate(parts))

    def _is_grouped(self, buf) -> bool:
        """Whether ``buf`` is a grouped carry rather than bytes (a flat buffer, e.g. from an
        older pickle, or chunks)."""
        return self.grouped and isinstance(buf, tuple | list) and len(buf) == len(
            self.groups) and all(np.dtype(b.dtype) == d for b, d in zip(buf, self.groups,
                                                                          strict=True))

    def unpack(self, buf):
        if self._is_grouped(buf):
            return self._tree(self._ungroup(buf))
        if isinstance(buf, tuple | list):
            buf = jnp.concatenate([jnp.asarray(chunk) for chunk in buf])
        plain, start = [], 0
        for (shape, dtype, _), size in zip(self.specs, self.sizes, strict=True):
            chunk = buf[start:start + size]
            start += size
            if dtype == np.bool_:
                leaf = chunk.reshape(shape).astype(jnp.bool_)
            elif dtype.itemsize > 1:
                leaf = jax.lax.bitcast_convert_type(chunk.reshape(*shape, dtype.itemsize), dtype)
            else:
                leaf = jax.lax.bitcast_convert_type(chunk.reshape(shape), dtype)
            plain.append(leaf)
        return self._tree(plain)

    def to_bytes(self, carry) -> np.ndarray:
        """A carry as one flat uint8 NumPy buffer (the bytes of its leaves in order, as
        the chunks lay them out), for pickles."""
        if not self.grouped:
            return np.concatenate([np.asarray(chunk) for chunk in carry])
        plain = self._ungroup([np.asarray(buf) for buf in carry])
        return np.concatenate([np.ascontiguousarray(leaf).reshape(-1).view(np.uint8)
                               for leaf in plain])

    def from_bytes(self, flat) -> tuple:
        """The carry of :meth:`to_bytes`' buffer (NumPy arrays: moved to the device by the
        next jitted call)."""
        flat = np.asarray(flat, np.uint8)
        if not self.grouped:
            return chunked(flat)
        offsets = np.cumsum([0, *self.sizes])
        plain = [flat[a:b].view(dtype).reshape(shape)
                 for (shape, dtype, _), a, b in zip(self.specs, offsets[:-1], offsets[1:],
                                                    strict=True)]
        return self._group(plain, np)
