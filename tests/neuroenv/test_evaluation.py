"""``neuroenv.evaluation``: batched episodes, termination masking."""

from __future__ import annotations

import gc
import weakref

import jax
import jax.numpy as jnp
import numpy as np

import neuroenv
from neuroenv.evaluation import _episodes, _family, constant, evaluate, evaluate_family
from neuroenv.weak_static import WeakStatic


def test_rewards_after_termination_are_not_counted():
    env, params = neuroenv.make("EnergyEfficientSpike-v0")
    n_steps = int(params.max_steps_in_episode)
    # 0.55 nA for every period: the first period evokes the spike, which ends the episode
    strong = evaluate(env, params, constant(np.full(1, 0.55 / 4.0)), jax.random.key(0), 4)
    lengths = np.asarray(strong.lengths)
    assert np.all(lengths < n_steps)
    rewards = np.asarray(strong.rewards)
    for row, length in zip(rewards, lengths, strict=True):
        assert np.all(row[length:] == 0.0) and row[length - 1] > 0.5  # the spike bonus
    np.testing.assert_allclose(np.asarray(strong.returns), rewards.sum(axis=1), rtol=1e-6)
    assert strong.traces is None and strong.task_states is None
    # doing nothing never spikes: the full episode, wait penalty every period
    idle = evaluate(env, params, constant(np.zeros(1)), jax.random.key(0), 4)
    assert np.all(np.asarray(idle.lengths) == n_steps)
    np.testing.assert_allclose(np.asarray(idle.returns), -0.02 * n_steps, rtol=1e-5)


def _short_target():
    env, params = neuroenv.make("VoltageTarget-v0")
    return env, params.replace(max_steps_in_episode=2)


def test_repeated_evaluations_reuse_one_program_and_hold_the_policy_weakly():
    """Before: every call jitted a new closure, so an evolution strategy compiled its whole
    rollout once per generation (2 s each for VoltageTarget-v0 on 2 cores)."""
    env, params = _short_target()
    other_env, _ = neuroenv.make("VoltageTarget-v0")  # equal structure: the same program

    def make_policy(theta):
        return lambda obs, key: jnp.tanh(theta)

    keys = jax.random.split(jax.random.key(1), 2)
    first = evaluate_family(env, params, make_policy, jnp.zeros((3, 1)), keys)
    size = _family._cache_size()
    second = evaluate_family(other_env, params, make_policy, jnp.ones((3, 1)), keys)
    assert _family._cache_size() == size
    assert not np.array_equal(first, second)  # the new thetas were used, not baked in
    # the compiled program does not keep the user's function alive
    ref, handle = weakref.ref(make_policy), WeakStatic(make_policy)
    del make_policy
    gc.collect()
    assert ref() is None and handle.get() is None

    def other(theta):  # possibly at the freed address: equals no handle of the old one
        return lambda obs, key: theta

    assert handle != WeakStatic(other) and WeakStatic(other) == WeakStatic(other)
    # a constant policy is data, not part of the program
    zero = evaluate(env, params, constant(np.zeros(1)), jax.random.key(0), 2)
    size = _episodes._cache_size()
    half = evaluate(env, params, constant(np.full(1, 0.5)), jax.random.key(0), 2)
    assert _episodes._cache_size() == size
    assert not np.array_equal(zero.returns, half.returns)
    # a closure is traced again when what it captured changed (no stale weights)
    gain = jnp.zeros(1)

    def policy(obs, key):
        return gain

    np.testing.assert_allclose(evaluate(env, params, policy, jax.random.key(0), 2).returns,
                               zero.returns, rtol=1e-6)  # measured: equal
    gain = jnp.full(1, 0.5)  # the captured variable rebound, as a training loop does
    np.testing.assert_allclose(evaluate(env, params, policy, jax.random.key(0), 2).returns,
                               half.returns, rtol=1e-6)


def test_weak_static_of_bound_methods_and_unreferenceable_objects():
    class Agent:
        def act(self, obs, key):
            return obs

    agent = Agent()
    assert WeakStatic(agent.act) == WeakStatic(agent.act)  # a new bound method per access
    assert hash(WeakStatic(agent.act)) == hash(WeakStatic(agent.act))
    assert WeakStatic(agent.act) != WeakStatic(Agent().act)
    assert WeakStatic(len) == WeakStatic(len) and WeakStatic(len).get() is len
    before = WeakStatic(agent.act)
    agent.weights = np.ones(3)  # an agent whose attributes changed: another program
    assert WeakStatic(agent.act) != before
