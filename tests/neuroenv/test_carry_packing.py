"""The gymnasium env's packed carry: chunks of at most 512 bytes (so XLA's CPU runtime runs
the step program sequentially), lossless in both precisions, and pickles written as one
flat buffer (the format before chunks) load into the chunked carry."""

from __future__ import annotations

import pickle

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

import neuroenv  # noqa: F401  (registers the ids)
from neuroenv.carry_packing import CHUNK_BYTES, MAX_CHUNKS, CarryPacker, chunked


def test_chunks_are_small_and_lossless(x64):
    env = gym.make("neuroenv/VoltageTarget-v0")
    env.reset(seed=1)
    core = env.unwrapped._core
    carry = env.unwrapped._carry
    assert isinstance(carry, tuple)
    assert all(chunk.dtype == np.uint8 and chunk.shape[0] <= CHUNK_BYTES for chunk in carry)
    key, state = core.unpack(carry)
    repacked = core.pack((key, state))
    for a, b in zip(repacked, carry, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # bitwise round trip
    # one flat buffer (an older pickle's carry) unpacks to the same tree
    flat = np.concatenate([np.asarray(chunk) for chunk in carry])
    for a, b in zip(jax.tree.leaves(core.unpack((flat,))[1]), jax.tree.leaves(state),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_chunked_splits_at_the_limit():
    sizes = [c.shape[0] for c in chunked(np.zeros(2 * CHUNK_BYTES + 3, np.uint8))]
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, 3]
    assert [c.shape[0] for c in chunked(np.zeros(0, np.uint8))] == [0]
    limit = MAX_CHUNKS * CHUNK_BYTES
    assert len(chunked(np.zeros(limit, np.uint8))) == MAX_CHUNKS
    # past MAX_CHUNKS chunks (a network env's carry): one buffer, nothing lost
    (whole,) = chunked(np.arange(limit + 1) % 256)
    np.testing.assert_array_equal(whole, np.arange(limit + 1) % 256)
    packer = CarryPacker((np.zeros(3, np.float32),))
    assert len(packer.pack((np.ones(3, np.float32),))) == 1


def test_pickle_of_a_flat_carry_continues_the_episode():
    env = gym.make("neuroenv/VoltageTarget-v0").unwrapped
    env.reset(seed=2)
    action = np.full(env.action_space.shape, 0.3, np.float32)
    env.step(action)
    state = env.__getstate__()
    assert isinstance(state["episode"]["carry"], np.ndarray)  # stored flat
    copy = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(copy.step(action)[0], env.step(action)[0])


def _large_tree():
    """A tree of every leaf kind (typed key, float32, int32, bool), too large
    for chunks (3 kB)."""
    return (jax.random.key(7), np.linspace(-1, 1, 700, dtype=np.float32),
            np.arange(30, dtype=np.int32), np.array([True, False, True]))


def test_a_large_carry_is_grouped_by_dtype_and_pickles_as_the_packed_bytes():
    tree = _large_tree()
    packer = CarryPacker(tree)
    assert packer.grouped and sum(packer.sizes) > MAX_CHUNKS * CHUNK_BYTES
    carry = packer.pack(tree)
    # the key's data (uint32), float32, int32, bool: one array each
    assert [c.dtype for c in carry] == [np.uint32, np.float32, np.int32, np.bool_]
    assert [c.shape for c in carry] == [(2,), (700,), (30,), (3,)]
    back = packer.unpack(carry)
    assert jax.random.key_impl(back[0]) == jax.random.key_impl(tree[0])
    np.testing.assert_array_equal(jax.random.key_data(back[0]), jax.random.key_data(tree[0]))
    for a, b in zip(back[1:], tree[1:], strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)
    # the bytes of a pickle are the packed layout (bytes of each leaf in order): a carry
    # pickled when large carries were packed loads into the raw layout, and back
    packed = jax.jit(lambda t: jnp.concatenate([
        jax.lax.bitcast_convert_type(jax.random.key_data(t[0]), jnp.uint8).reshape(-1),
        jax.lax.bitcast_convert_type(t[1], jnp.uint8).reshape(-1),
        jax.lax.bitcast_convert_type(t[2], jnp.uint8).reshape(-1),
        t[3].astype(jnp.uint8)]))(tree)
    flat = packer.to_bytes(carry)
    np.testing.assert_array_equal(flat, np.asarray(packed))
    for a, b in zip(packer.from_bytes(flat), carry, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))
    # a flat buffer passed to unpack (not the leaves) still unpacks
    np.testing.assert_array_equal(np.asarray(packer.unpack((flat,))[1]), tree[1])


def test_pickle_of_a_network_env_continues_the_episode():
    env = gym.make("neuroenv/Desynchronize-v0").unwrapped
    env.reset(seed=2)
    assert env._core.packer.grouped  # 40 cells: a grouped carry
    action = np.full(env.action_space.shape, 0.3, np.float32)
    env.step(action)
    copy = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(copy.step(action)[0], env.step(action)[0])
