"""Silence-v0: the OU drive's statistics, spike counting, reward accounting, the observation,
and the ranking no current < best constant current < a rectified P controller."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.tasks.silence import Silence, count_spikes, ou_currents, spike_samples

EPISODE = 200  # control periods (100 ms) per rollout episode
N_EPISODES = 8
#: (constant action, gain per mV, threshold mV): action = c − gain·max(v − threshold, 0).
POLICIES = {"zero": (0.0, 0.0, 0.0), "constant": (-0.4, 0.0, 0.0), "p": (0.0, 0.3, -61.0)}


@pytest.fixture(scope="module")
def env_params():
    return neuroenv.make("Silence-v0")


@pytest.fixture(scope="module")
def rollout(env_params):
    """Jitted rollouts of every policy in POLICIES over N_EPISODES episodes (step_env, no
    auto-reset), for given task parameters; returns NumPy arrays (policy, episode, step, ...)."""
    env, params = env_params

    def episode(key, task_params, policy):
        p = params.replace(task=task_params)
        obs, state = env.reset_env(key, p)

        def body(carry, k):
            obs, state = carry
            v = env.to_physical(obs)[env.window - 1]  # mV
            action = jnp.clip(policy[0] - policy[1] * jnp.maximum(v - policy[2], 0.0), -1, 1)
            obs, state, reward, terminated, info = env.step_env(k, state, action[None], p)
            out = {"obs": obs, "reward": reward, "terminated": terminated,
                   "spikes": state.task["spikes"], "current": info["current_nA"][0],
                   "trace": state.last_trace[:, 0]}
            return (obs, state), out

        return jax.lax.scan(body, (obs, state), jax.random.split(key, EPISODE))[1]

    run = jax.jit(jax.vmap(jax.vmap(episode, (0, None, None)), (None, None, 0)))
    keys = jax.random.split(jax.random.key(42), N_EPISODES)
    policies = jnp.asarray(list(POLICIES.values()), jnp.float32)

    def go(**task_overrides):
        task_params = {**params.task,
                       **{k: jnp.float32(v) for k, v in task_overrides.items()}}
        out = jax.device_get(run(keys, task_params, policies))
        return {name: {k: np.asarray(v[i]) for k, v in out.items()}
                for i, name in enumerate(POLICIES)}

    return go


@pytest.fixture(scope="module")
def default_rollout(rollout):
    return rollout()


def test_ou_drive_has_the_requested_statistics():
    mean, std, tau, dt = 0.1, 0.15, 5.0, 0.025
    x0 = mean + std * jax.random.normal(jax.random.key(0), (64,), jnp.float32)
    run = jax.jit(lambda x, k: ou_currents(x, k, mean, std, tau, 40_000, dt))
    x_end, x = run(x0, jax.random.key(1))  # 64 processes × 1,000 ms
    x = np.asarray(x)
    assert x.shape == (40_000, 64) and x.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(x_end), x[-1])
    assert abs(x.mean() - mean) < 0.01
    assert abs(x.std() - std) < 0.05 * std
    lag = int(round(tau / dt))  # correlation e^−1 after one time constant
    d = x - x.mean()
    corr = (d[:-lag] * d[lag:]).mean() / d.var()
    assert abs(corr - np.exp(-1.0)) < 0.05


def test_spike_counting():
    trace = jnp.array([-70.0, -10.0, 10.0, 20.0, -5.0, 5.0, -60.0])
    assert int(count_spikes(jnp.float32(-65.0), trace)) == 2
    assert count_spikes(jnp.float32(-65.0), trace).dtype == jnp.int32
    # A crossing between the previous period's last sample and this period's first.
    assert int(count_spikes(jnp.float32(-1.0), jnp.array([1.0, -3.0]))) == 1
    np.testing.assert_array_equal(spike_samples(np.asarray(trace)), [2, 5])


def test_task_validates_and_keeps_fixed_dtypes():
    with pytest.raises(ValueError, match="n_drive"):
        Silence(n_drive=0)
    task = Silence(n_drive=2)
    params = {k: jnp.float32(v) for k, v in task.default_params().items()}
    state = task.reset(jax.random.key(0), params)
    assert state["ou"].shape == (2,) and state["ou"].dtype == jnp.float32
    assert state["spikes"].dtype == jnp.int32
    state, drive = task.drive(state, jax.random.key(1), params, 20, 0.025)
    assert drive.shape == (20, 2) and state["ou"].dtype == jnp.float32


def test_uncontrolled_cell_fires_irregularly(default_rollout):
    zero = default_rollout["zero"]
    spikes = zero["spikes"].sum()
    rate = spikes / (N_EPISODES * EPISODE * 0.5e-3)  # Hz
    assert 25.0 < rate < 75.0, rate
    isis = []
    for trace in zero["trace"].reshape(N_EPISODES, -1):
        isis += list(np.diff(spike_samples(trace)) * 0.025)  # ms
    isis = np.asarray(isis)
    assert isis.std() / isis.mean() > 0.15  # irregular, not a tonic train


def test_without_drive_the_cell_is_silent(rollout):
    quiet = rollout(drive_mean=0.0, drive_std=0.0)["zero"]
    assert quiet["spikes"].sum() == 0
    assert np.abs(quiet["trace"] + 65.0).max() < 3.0


def test_reward_observation_and_termination(default_rollout, env_params):
    env, params = env_params
    penalty = float(params.task["charge_penalty"])
    for name, out in default_rollout.items():
        charge = np.abs(out["current"]) * 0.5  # pC per 0.5 ms period
        np.testing.assert_allclose(out["reward"], -(out["spikes"] + penalty * charge),
                                   rtol=1e-5, atol=1e-6, err_msg=name)
        assert not out["terminated"].any()
        obs = out["obs"]
        assert obs.shape[-1] == env.window + 1 and obs.dtype == np.float32
        np.testing.assert_array_equal(obs[..., -1], out["spikes"])
        # scaled voltages (v + 65 mV) / 20 mV: the same float32 operations, measured error 0
        np.testing.assert_allclose(obs[..., env.window - 1],
                                   (out["trace"][..., -1] + 65.0) / 20.0, atol=1e-6)
    np.testing.assert_allclose(default_rollout["constant"]["current"], -0.4, rtol=1e-6)


def test_feedback_beats_constant_beats_zero(default_rollout):
    returns = {name: out["reward"].sum(axis=-1).mean() for name, out in default_rollout.items()}
    spikes = {name: out["spikes"].sum() for name, out in default_rollout.items()}
    assert returns["zero"] < returns["constant"] - 1.0, returns
    assert returns["constant"] < returns["p"] - 1.0, returns
    # The P controller silences the cell (< 10 % of the spikes) with far less current.
    assert spikes["p"] < 0.1 * spikes["zero"], spikes
    mean_current = {n: np.abs(o["current"]).mean() for n, o in default_rollout.items()}
    assert mean_current["p"] < 0.5 * mean_current["constant"], mean_current


def test_render_marks_spikes(default_rollout):
    task = Silence(n_drive=1)
    trace = default_rollout["zero"]["trace"][0].reshape(-1, 1)
    info = task.render_info(trace, {}, {})
    np.testing.assert_array_equal(info["markers"], spike_samples(trace[:, 0]))
    assert len(info["markers"]) > 0
