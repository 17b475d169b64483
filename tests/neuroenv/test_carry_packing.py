"""The gymnasium env's packed carry: chunks of at most 512 bytes (so XLA's CPU runtime runs
the step program sequentially), lossless in both precisions, and pickles written as one
flat buffer (the format before chunks) load into the chunked carry."""

from __future__ import annotations

import pickle

import gymnasium as gym
import jax
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
