"""The device carry of the gymnasium env: a pytree (JAX key and ``EnvState``) packed into
one uint8 buffer, so a jitted step takes and returns one array instead of a dozen leaves."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


class CarryPacker:
    """Packs a pytree of arrays (typed PRNG keys included) into one uint8 vector and back.

    Pure data movement (bitcasts, reshapes, one concatenate), traceable and lossless: the
    jitted step then takes and returns one buffer instead of a dozen leaves, which roughly
    halves JAX's per-call dispatch cost.
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
        return jnp.concatenate(parts)

    def unpack(self, buf: jax.Array):
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
