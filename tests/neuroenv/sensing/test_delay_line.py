"""The sensing delay line delays by exactly n samples, over any block sizes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.sensing import DelayLine


@pytest.mark.parametrize("n", [0, 1, 5, 40])
@pytest.mark.parametrize("sizes", [(1,) * 30, (7, 3, 20), (50,)])
def test_delays_by_exactly_n_samples(n, sizes):
    line = DelayLine(n)
    x = np.arange(1.0, 3 * sum(sizes) + 1).reshape(3, -1)  # 3 channels
    state = line.init((), 3, jnp.float32)
    out, start = [], 0
    for size in sizes:
        state, y = jax.jit(line.block)(state, jnp.asarray(x[:, start : start + size]))
        out.append(np.asarray(y))
        start += size
    expected = np.concatenate([np.zeros((3, n)), x], axis=1)[:, : x.shape[1]]
    np.testing.assert_array_equal(np.concatenate(out, axis=1), expected)


def test_step_and_batch():
    line = DelayLine(2)
    state = line.init((4,), 1, jnp.float32)
    outs = []
    for i in range(5):
        state, y = line.step(state, jnp.full((4, 1), i + 1.0))
        outs.append(float(y[0, 0]))
    assert outs == [0.0, 0.0, 1.0, 2.0, 3.0]
    assert state.shape == (4, 1, 2)


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_bad_delay(n):
    with pytest.raises(ValueError, match="n \\(delay in samples\\)"):
        DelayLine(n)
