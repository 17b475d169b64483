"""Desynchronize-v0: the uncontrolled network synchronises, delayed feedback through the hub
desynchronises it (S > 2), the measures are right on synthetic data, and it all vmaps."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.tasks.desynchronize import (
    Desynchronize,
    GapJunction,
    delayed_feedback,
    kuramoto_order,
    make_env,
    rollout_mean_field,
    suppression_ratio,
)

N_STEPS = 300  # control periods (150 ms)
DISCARD = 100  # periods of onset transient left out of the measures (50 ms)
SEEDS = 3
GAIN = 0.1  # nA/mV: the delayed-feedback baseline of the report (delay 0)


@pytest.fixture(scope="module")
def env():
    return make_env()


@pytest.fixture(scope="module")
def runs(env):
    """One jitted, doubly vmapped rollout: (configuration, seed) with configurations
    0: coupled, no control; 1: coupled, feedback gain GAIN; 2: uncoupled (gap junctions at 0
    through EnvParams), no control. Returns NumPy (mean field, rewards, order, current)."""
    params = env.default_params
    scale = float(params.action_scale)

    def one(key, gain, coupling_scale):
        sim = {**params.sim, "GapJunction_gS": params.sim["GapJunction_gS"] * coupling_scale}
        p = params.replace(sim=sim)
        return rollout_mean_field(env, p, key, N_STEPS,
                                  lambda obs: delayed_feedback(obs, gain, 0, scale))

    run = jax.jit(jax.vmap(jax.vmap(one, in_axes=(0, None, None)), in_axes=(None, 0, 0)))
    keys = jax.random.split(jax.random.key(7), SEEDS)
    out = run(keys, jnp.array([0.0, GAIN, 0.0]), jnp.array([1.0, 1.0, 0.0]))
    x, rewards, order, current = (np.asarray(a) for a in out)
    return x[:, :, DISCARD * env.substeps:], rewards, order[:, :, DISCARD:], current


def test_suppression_ratio_on_synthetic_data():
    t = np.linspace(0.0, 1.0, 4001)
    off = -60.0 + 20.0 * np.sin(2 * np.pi * 70.0 * t)
    on = -60.0 + 4.0 * np.sin(2 * np.pi * 70.0 * t + 1.0)
    assert suppression_ratio(off, on) == pytest.approx(5.0, rel=1e-3)
    assert suppression_ratio(on, off) == pytest.approx(0.2, rel=1e-3)
    # The offset does not matter, the time axis is chosen, other axes are kept.
    batch = np.stack([off, off + 30.0])
    np.testing.assert_allclose(suppression_ratio(batch, np.stack([on, 2 * on])), [5.0, 2.5],
                               rtol=1e-3)
    np.testing.assert_allclose(suppression_ratio(batch.T, np.stack([on, on]).T, axis=0),
                               [5.0, 5.0], rtol=1e-3)


def test_kuramoto_order_on_synthetic_phases():
    assert float(kuramoto_order(jnp.full((20,), 1.3))) == pytest.approx(1.0, abs=1e-6)
    spread = jnp.linspace(0.0, 2 * jnp.pi, 20, endpoint=False)
    assert float(kuramoto_order(spread)) == pytest.approx(0.0, abs=1e-6)


def test_gap_junction_current():
    gap = GapJunction()
    i = gap.compute_current({}, jnp.array([-60.0]), jnp.array([-70.0]),
                            {"GapJunction_gS": jnp.array([0.002])})
    np.testing.assert_allclose(i, [-0.02], rtol=1e-6)  # nA flowing into the lower cell


def test_task_order_parameter_and_dtypes():
    """Spikes of all cells in the same period give R = 1, evenly staggered ones R ≈ 0."""
    task = Desynchronize(n_cells=8)
    params = {k: jnp.float32(v) for k, v in task.default_params().items()}
    state = task.reset(jax.random.key(0), params)
    assert all(v.dtype in (jnp.float32, jnp.int32) for v in state.values())
    substeps = 20
    step = jax.jit(lambda s, trace: task.step(s, trace, jnp.zeros(1), params, 0.5))
    spike = np.full((substeps, 8), -65.0, np.float32)
    spike[10:] = 20.0
    rest = np.full((substeps, 8), -65.0, np.float32)
    # Synchronous: every cell fires each 14 ms.
    s = state
    for k in range(120):
        trace = spike if k % 28 == 0 else rest
        s, reward, terminated = step(s, jnp.asarray(trace))
    assert float(s["order"]) > 0.99
    assert reward.dtype == jnp.float32 and not bool(terminated)
    assert all(s[k].dtype == state[k].dtype and s[k].shape == state[k].shape for k in state)
    # Staggered: cell j fires 14 ms · j / 8 later than cell 0.
    s = state
    for k in range(120):
        trace = rest.copy()
        for j in range(8):
            if (k - 28 * j // 8) % 28 == 0:
                trace[:, j] = spike[:, j]
        s, _, _ = step(s, jnp.asarray(trace))
    assert float(s["order"]) < 0.1


def test_uncontrolled_network_is_synchronous(runs):
    x, _, order, _ = runs
    std = x.std(axis=-1)  # (config, seed) mV
    # Measured (the three seeds of key 7): std 21.4-21.5 mV coupled, 4.9-5.6 mV uncoupled;
    # order parameter R 0.96-0.97 coupled, 0.19-0.28 uncoupled.
    assert np.all(std[0] > 15.0)
    assert np.all(std[2] < 9.0)
    assert order[0].mean() > 0.85 and order[2].mean() < 0.4


def test_delayed_feedback_desynchronises(runs):
    x, rewards, order, current = runs
    s = suppression_ratio(x[0], x[1])  # (seeds,)
    # Measured: S 3.0-3.4 (std 6.3-7.1 mV under control, near the uncoupled 4.9-5.6 mV
    # floor), R 0.24-0.28, returns −84 to −93 against −358 to −366 without control.
    assert np.all(s > 2.0)
    assert order[1].mean() < 0.5
    returns = rewards.sum(axis=-1)
    assert np.all(returns[1] > returns[0] + 0.5 * np.abs(returns[0]))
    assert np.all(np.isfinite(rewards)) and rewards.dtype == np.float32
    assert np.all(np.abs(current[0]) == 0.0) and np.abs(current[1]).max() > 0.1


@pytest.mark.slow
def test_vmapped_step_with_autoreset(env):
    """1,024 envs in one jitted vmapped step (the rollouts above vmap ``step_env``)."""
    n = 1024
    params = env.default_params.replace(max_steps_in_episode=jnp.asarray(3, jnp.int32))
    keys = jax.random.split(jax.random.key(1), n)
    obs, state = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    actions = jnp.linspace(-1.0, 1.0, n, dtype=jnp.float32)[:, None]
    for _ in range(3):
        obs, state, reward, terminated, truncated, info = step(keys, state, actions, params)
    assert obs.shape == (n, env.window) and obs.dtype == jnp.float32
    assert reward.shape == (n,) and reward.dtype == jnp.float32
    assert bool(jnp.all(truncated)) and not bool(jnp.any(terminated))
    assert int(state.time.max()) == 0  # reset after the third period
    assert state.task["bias"].shape == (n, env.n_drive)
    assert bool(jnp.all(jnp.isfinite(obs)))
