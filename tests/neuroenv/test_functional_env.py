"""The functional env: jit, vmap (domain randomisation), scan, grad, no retracing, resets."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.neuron_env import NeuronEnv
from neuroenv.tasks.voltage_target import VoltageTarget


@pytest.fixture(scope="module")
def voltage_env():
    return neuroenv.make("VoltageTarget-v0", max_steps_in_episode=20)


def rollout(env, params, key, actions):
    obs, state = env.reset(key, params)

    def body(carry, xs):
        obs, state = carry
        k, a = xs
        obs, state, reward, terminated, truncated, info = env.step(k, state, a, params)
        return (obs, state), (obs, reward, terminated, truncated)

    keys = jax.random.split(key, actions.shape[0])
    return jax.lax.scan(body, (obs, state), (keys, actions))[1]


def test_spaces_and_dtypes(voltage_env):
    env, params = voltage_env
    key = jax.random.key(0)
    obs, state = env.reset(key, params)
    assert obs.dtype == jnp.float32 and obs.shape == env.observation_space(params).shape
    assert bool(env.observation_space(params).contains(obs))
    action = env.action_space(params).sample(key)
    assert action.shape == (1,) and action.dtype == jnp.float32
    out = env.step(key, state, action, params)
    assert len(out) == 6
    assert out[2].dtype == jnp.float32
    assert "final_observation" in out[5]


def test_same_key_same_trajectory(voltage_env):
    env, params = voltage_env
    actions = jnp.linspace(-1, 1, 30)[:, None]
    a = rollout(env, params, jax.random.key(3), actions)
    b = rollout(env, params, jax.random.key(3), actions)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_auto_reset_draws_fresh_states(voltage_env):
    env, params = voltage_env  # 20 periods per episode
    actions = jnp.zeros((65, 1))
    obs, reward, terminated, truncated = rollout(env, params, jax.random.key(1), actions)
    ends = np.flatnonzero(np.asarray(truncated))
    assert ends.tolist() == [19, 39, 59]
    targets = np.asarray(obs)[ends, -2]  # new episodes' targets (obs after the reset)
    assert len(set(targets.round(4).tolist())) == 3, "each reset must draw a new target"
    assert not np.asarray(terminated).any()


def test_compiles_once(voltage_env):
    env, params = voltage_env
    calls = []

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(key, state, action):
        calls.append(1)
        return env.step(key, state, action, params)

    key = jax.random.key(0)
    obs, state = env.reset(key, params)
    for i in range(4):
        obs, state, *_ = step(jax.random.fold_in(key, i), state, jnp.array([0.1 * i]))
    assert len(calls) == 1


def test_vmap_over_params_is_domain_randomisation(voltage_env):
    env, params = voltage_env
    scales = jnp.array([0.0, 0.02, 0.05])  # nA: below the firing threshold
    batch = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (3, *jnp.shape(x))), params)
    batch = batch.replace(action_scale=scales)
    actions = jnp.ones((10, 1))
    obs, *_ = jax.jit(jax.vmap(rollout, in_axes=(None, 0, None, None)), static_argnums=0)(
        env, batch, jax.random.key(0), actions)
    final_v = np.asarray(obs)[:, -1, 0]
    assert final_v[0] < final_v[1] < final_v[2]  # more current, more depolarised


def test_vmapped_rollouts_stay_finite(voltage_env):
    env, params = voltage_env
    keys = jax.random.split(jax.random.key(0), 64)
    actions = jax.random.uniform(jax.random.key(1), (64, 100, 1), minval=-1, maxval=1)
    obs, reward, _, _ = jax.jit(jax.vmap(lambda k, a: rollout(env, params, k, a)))(keys, actions)
    assert np.all(np.isfinite(np.asarray(obs))) and np.all(np.isfinite(np.asarray(reward)))


def test_gradients_of_the_return(x64):
    env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=20)
    # 0.1 nA makes the cell spike: with the default 20 mV error cap the reward has kinks
    # where samples cross the cap, and the central difference straddles them (measured
    # relative error 5e-3); uncapped, the return is smooth.
    params = params.replace(task={**params.task, "error_cap": jnp.float32(1e6)})
    key = jax.random.key(2)

    def ret(actions, params):
        return jnp.sum(rollout(env, params, key, actions)[1])

    actions = jnp.full((15, 1), 0.2)
    # allow_int: max_steps_in_episode is an int32 leaf of the params (its gradient is empty).
    g_actions, g_params = jax.grad(ret, argnums=(0, 1), allow_int=True)(actions, params)
    assert np.all(np.isfinite(np.asarray(g_actions))) and np.any(np.asarray(g_actions) != 0)
    g_gna = np.asarray(g_params.sim["HH_gNa"])
    assert np.all(np.isfinite(g_gna)) and np.any(g_gna != 0)
    h = 1e-3
    fd = (ret(actions.at[3, 0].add(h), params) - ret(actions.at[3, 0].add(-h), params)) / (2 * h)
    # float64 simulator (float32 observations and rewards): measured relative error ~1e-4.
    np.testing.assert_allclose(g_actions[3, 0], fd, rtol=2e-3)


def test_numerical_blow_up_ends_the_episode_without_nans(voltage_env):
    env, params = voltage_env
    # Zero capacitance divides by zero: the simulator state becomes non-finite. (Such params
    # are refused by every public entry point (neuroenv.params_validation); the guard is
    # tested on the unchecked hooks reset_env/step_env.)
    sim = dict(params.sim, capacitance=jnp.zeros_like(params.sim["capacitance"]))
    params = params.replace(sim=sim)
    obs, state = env.reset_env(jax.random.key(0), params)
    obs, state, reward, terminated, info = env.step_env(
        jax.random.key(1), state, jnp.array([1.0]), params)
    assert bool(info["numerical_error"]) and bool(terminated)
    assert np.all(np.isfinite(np.asarray(obs))) and np.isfinite(float(reward))


def test_constructor_validates():
    from neuroenv.cells import hh_cell

    cell, soma = hh_cell()
    with pytest.raises(ValueError, match="substeps must be a positive int"):
        NeuronEnv(cell, [soma], VoltageTarget(), substeps=0)
    with pytest.raises(ValueError, match="one compartment"):
        NeuronEnv(cell, [cell.branch(0)], VoltageTarget())
    cell.delete_recordings()
    with pytest.raises(ValueError, match="no recordings"):
        NeuronEnv(cell, [soma], VoltageTarget())
