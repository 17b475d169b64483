"""``neuroenv.evaluation``: batched episodes, termination masking."""

from __future__ import annotations

import jax
import numpy as np

import neuroenv
from neuroenv.evaluation import constant, evaluate


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
