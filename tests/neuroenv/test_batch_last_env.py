"""Vmapped envs run their periods node-major (``simulator.batch_last``): the same rollouts,
rewards and gradients as the plain ``vmap`` of the same env, to rounding."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv

#: max |Δ observation| node-major vs plain vmap over 4 periods of random actions, in the
#: env's scaled units (mV / 20 for voltages), float64 simulation: measured 0 for the first
#: four tasks (observations and rewards are float32; the float64 voltages differ by
#: ≤ 1e-10 mV, tests/simulator/test_batch_last.py), so any difference above rounding fails.
#: BetaSuppression runs node-major with its electrodes' matrices shared.
ATOL = 1e-6
#: The default run covers one cell (VoltageTarget) and one network (Desynchronize); the
#: branched cell (DendriteControl, 13 s on 2 cores), a second single-cell task and
#: BetaSuppression (20 s) run with ``-m slow`` (branched cells and node-major periods with
#: electrodes are also covered by tests/simulator/test_batch_last.py).
TASKS = ["VoltageTarget-v0", "Desynchronize-v0",
         *(pytest.param(name, marks=pytest.mark.slow)
           for name in ("DendriteControl-v0", "SpikeRate-v0", "BetaSuppression-v0"))]


def _plain(env):
    """The same env with node-major periods switched off (plain vmap)."""
    env._period_steps = env._period_steps._replace(node_major=False)
    env.__dict__.pop("_structure_cache", None)
    return env


def _rollout(env, params, n_envs, n_steps=4):
    keys = jax.random.split(jax.random.key(3), n_envs)

    @jax.jit
    def run(keys):
        obs, state = jax.vmap(env.reset, (0, None))(keys, params)

        def body(state, k):
            ks = jax.random.split(k, n_envs)
            actions = jax.vmap(lambda kk: jax.random.uniform(
                kk, (env.num_actions,), minval=-1, maxval=1))(ks)
            obs, state, reward, *_ = jax.vmap(env.step, (0, 0, 0, None))(ks, state, actions,
                                                                           params)
            return state, (obs, reward)

        return jax.lax.scan(body, state, jax.random.split(keys[0], n_steps))[1]

    return run(keys)


@pytest.mark.parametrize("name", TASKS)
def test_node_major_rollouts_equal_plain_vmap(name, x64):
    fast, params = neuroenv.make(name)
    plain, _ = neuroenv.make(name)
    assert fast._period_steps.node_major
    n_envs = fast._compiled.numbering.n_nodes  # a batch as long as the node axis
    got, want = _rollout(fast, params, n_envs), _rollout(_plain(plain), params, n_envs)
    np.testing.assert_allclose(got[0], want[0], atol=ATOL, rtol=0)
    np.testing.assert_allclose(got[1], want[1], atol=ATOL, rtol=1e-9)


@pytest.mark.parametrize("precision", [
    "float32", pytest.param("float64", marks=pytest.mark.slow)])  # the bug was float32's
def test_gradient_through_vmapped_steps_equals_plain(precision):
    """grad of vmap of the jitted env.step (before: float32 raised an IndexError when a
    node-major period returned an empty electrode trace)."""
    with jax.enable_x64(precision == "float64"):
        _gradient_equals_plain(precision)


def _gradient_equals_plain(precision):
    fast, params = neuroenv.make("VoltageTarget-v0")
    plain = _plain(neuroenv.make("VoltageTarget-v0")[0])
    keys = jax.random.split(jax.random.key(0), 4)

    def grad(env):
        _, state = jax.vmap(env.reset, (0, None))(keys, params)

        def total(actions):
            out = jax.vmap(env.step, (0, 0, 0, None))(keys, state, actions, params)
            return jnp.sum(out[2])
        return jax.grad(total)(jnp.full((4, 1), 0.5))

    g = grad(fast)
    assert np.all(np.isfinite(g)) and np.any(g != 0)
    # Measured: equal (0 relative difference) in both precisions: derivatives run the plain
    # function either way.
    np.testing.assert_allclose(g, grad(plain), rtol=1e-9 if precision == "float64" else 1e-5)
