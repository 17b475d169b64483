"""The gymnasium env's reset and step programs compiled side by side at the first reset
(``neuroenv.compile_ahead``): the same results as the plain jitted functions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.compile_ahead import AheadOfTime
from neuroenv.jit_cache import CompiledCore
from neuroenv.seeding import key_for_seed


def test_gym_core_programs_equal_the_jitted_functions():
    core = CompiledCore("VoltageTarget-v0", {}, None)
    key = key_for_seed(5)
    got = core.reset_default(key)  # compiles both programs ahead
    want = core._reset_default(key)
    action = np.full((core.env.num_actions,), 0.3, np.float32)
    carry_got, carry_want = got[0], want[0]
    for _ in range(3):
        carry_got, out_got = core.step_default(carry_got, action)
        carry_want, out_want = core._step_default(carry_want, action)
        np.testing.assert_array_equal(np.asarray(out_got), np.asarray(out_want))
    np.testing.assert_array_equal(np.asarray(carry_got), np.asarray(carry_want))
    # a NumPy carry (an unpickled env's) runs through the same program
    _, out_np = core.step_default(np.asarray(carry_want), action)
    np.testing.assert_array_equal(np.asarray(out_np),
                                  np.asarray(core._step_default(carry_want, action)[1]))


def test_other_argument_types_fall_back_to_the_jitted_function():
    reset = jax.jit(lambda x: x * 2)
    step = jax.jit(lambda c, a: (c + a, c.sum()))
    ahead = AheadOfTime(reset, step, jnp.ones(3),
                        lambda: (jax.ShapeDtypeStruct((3,), jnp.float32),
                                 jax.ShapeDtypeStruct((3,), jnp.float32)))
    np.testing.assert_array_equal(ahead.reset(jnp.ones(3)), [2, 2, 2])
    np.testing.assert_array_equal(ahead.reset(jnp.ones(4)), [2, 2, 2, 2])  # another shape
    carry, total = ahead.step(jnp.ones(5), jnp.ones(5))
    np.testing.assert_array_equal(carry, np.full(5, 2.0))
    assert float(total) == 5.0


def test_a_step_that_fails_to_trace_raises_at_the_reset():
    def bad_arguments():
        raise RuntimeError("no layout")

    with pytest.raises(RuntimeError, match="no layout"):
        AheadOfTime(jax.jit(lambda x: x), jax.jit(lambda c, a: c), jnp.ones(2), bad_arguments)
