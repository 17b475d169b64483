"""Seeds to JAX keys, one derivation for the gymnasium env and the vector env.

``reset(seed=s)`` of :class:`~neuroenv.gym_env.NeuronGymEnv` starts its key chain from
:func:`key_for_seed` ``(s)``; row ``i`` of :class:`~neuroenv.vector.NeuronVectorEnv`
reset with ``seed=s`` from ``key_for_seed(s + i)`` (:func:`keys_for_seeds`), so the rows
follow single envs seeded ``s, s + 1, ...``. Seeds are checked by
:func:`neuroenv.validation.seed_or_none` (non-negative ints).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.validation import TypeAndValueError, seed_or_none

_seeds_to_keys = jax.jit(jax.vmap(jax.random.key))


def check_seed(seed) -> int:
    """``seed`` as an int: ``TypeError`` (also a ``ValueError``) unless an int, ``ValueError``
    if negative."""
    if seed is None:
        raise TypeAndValueError("seed must be a non-negative int, got None")
    return seed_or_none("seed", seed)


def key_for_seed(seed: int) -> jax.Array:
    """The JAX key that ``reset(seed=seed)`` starts its key chain from.

    ``jax.random.key(seed)`` for seeds below 2**32; larger seeds fold their higher
    32-bit words in (``jax.random.key`` alone would wrap them).
    """
    seed = check_seed(seed)
    key = _key_low_word(seed & 0xFFFFFFFF)
    rest = seed >> 32
    while rest:
        key = jax.random.fold_in(key, rest & 0xFFFFFFFF)
        rest >>= 32
    return key


def _key_low_word(word: int) -> jax.Array:
    """``jax.random.key(word)`` for ``0 <= word < 2**32``: with the default threefry2x32
    implementation its key data are ``[0, word]``, wrapped here directly, which skips the
    seeding program (a trace plus a compilation or cache load, ~40 ms of CPU, at the first
    ``reset(seed=...)`` of a process); any other implementation calls ``jax.random.key``."""
    if jax.config.jax_default_prng_impl != "threefry2x32":
        return jax.random.key(word)
    return jax.random.wrap_key_data(np.array([0, word], dtype=np.uint32))


def keys_for_seeds(seeds: list[int]) -> jax.Array:
    """``(len(seeds),)`` typed key array, :func:`key_for_seed` of each seed."""
    seeds = [check_seed(s) for s in seeds]
    if max(seeds) < 2**32:
        # One vmapped call of jax.random.key, used when it gives key_for_seed's keys
        # (checked on the first and last seed; true of jax.random.key(seed) below 2**32).
        keys = _seeds_to_keys(np.asarray(seeds, dtype=np.uint32))
        data = jax.random.key_data
        if all(np.array_equal(data(keys[j]), data(key_for_seed(seeds[j]))) for j in (0, -1)):
            return keys
    return jnp.stack([key_for_seed(s) for s in seeds])
