"""``simulator.node_index``: reads and writes of a mechanism's nodes equal gather/scatter,
whichever form (pass-through, slices of up to MAX_RUNS runs, index array) they take."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from simulator import node_index as ix

INDEX_SETS = [np.arange(6), np.arange(2, 5), np.array([0]), np.array([1, 3, 4]),
              np.array([0, 2, 4, 5]), np.array([4, 2]), np.array([1, 1, 3])]


def test_runs():
    assert ix.runs(np.arange(2, 5)) == [(2, 5)]
    assert ix.runs(np.array([3])) == [(3, 4)]
    assert ix.runs(np.array([0, 1, 5, 6, 7, 9])) == [(0, 2), (5, 8), (9, 10)]
    many = np.arange(0, 2 * ix.MAX_RUNS, 2)  # MAX_RUNS runs of one node
    assert len(ix.runs(many)) == ix.MAX_RUNS
    assert ix.runs(np.arange(0, 2 * ix.MAX_RUNS + 2, 2)) is None  # one run too many
    for inds in (np.array([4, 3]), np.array([1, 1]), np.zeros(0, int), np.zeros((2, 1), int)):
        assert ix.runs(inds) is None


@pytest.mark.parametrize("inds", INDEX_SETS, ids=str)
def test_equal_to_gather_and_scatter_batched_and_differentiated(inds, x64):
    x = jnp.arange(6.0) * 1.5 - 2.0
    y = jnp.full(len(inds), 7.0)
    np.testing.assert_array_equal(ix.take(x, inds), x[inds])
    np.testing.assert_array_equal(ix.put(x, inds, y), x.at[inds].set(y))
    np.testing.assert_array_equal(ix.add(x, inds, y), x.at[inds].add(y))
    batch = jnp.stack([x, 2.0 * x])
    np.testing.assert_array_equal(jax.vmap(lambda r: ix.put(r, inds, ix.take(r, inds) ** 2))(
        batch), jax.vmap(lambda r: r.at[inds].set(r[inds] ** 2))(batch))

    def loss(f, r):
        return jnp.sum(f(r) ** 2)

    got = jax.grad(lambda r: loss(lambda q: ix.add(q, inds, ix.take(q, inds) * 3.0), r))(x)
    want = jax.grad(lambda r: loss(lambda q: q.at[inds].add(q[inds] * 3.0), r))(x)
    np.testing.assert_array_equal(got, want)


def test_writes_keep_the_array_dtype(x64):
    x = jnp.zeros(5, jnp.float32)
    assert ix.add(x, np.arange(1, 3), jnp.ones(2, jnp.float64)).dtype == jnp.float32
    assert ix.put(x, np.arange(1, 3), jnp.ones(2, jnp.float64)).dtype == jnp.float32
    assert ix.add(x, np.array([0, 2, 3]), jnp.ones(3, jnp.float64)).dtype == jnp.float32
    assert ix.put(x, np.array([0, 2, 3]), jnp.ones(3, jnp.float64)).dtype == jnp.float32
