"""VoltageTrack-v0: the target waveform, the per-substep reward, rendering, and a P +
feedforward controller that clearly beats zero and constant currents."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.render import render_trace
from neuroenv.tasks.voltage_track import VoltageTrack, target_at, target_at_numpy

EPISODE = 100  # control periods (ms) of the rollouts below


@pytest.fixture(scope="module")
def task_and_params():
    task = VoltageTrack()
    params = {k: jnp.asarray(v, jnp.float32) for k, v in task.default_params().items()}
    return task, params


def test_targets_stay_in_range_and_are_followable(task_and_params):
    task, params = task_and_params
    states = jax.jit(jax.vmap(task.reset, (0, None)))(jax.random.split(jax.random.key(0), 256),
                                                      params)
    for name, value in states.items():
        want = jnp.int32 if name == "step" else jnp.float32
        assert value.dtype == want, name
    t = jnp.arange(0.0, 400.0, 0.05)
    v = np.asarray(jax.jit(jax.vmap(target_at, (0, None)))(states, t))  # (256, T)
    assert v.min() >= params["v_low"] - 1e-3 and v.max() <= params["v_high"] + 1e-3
    slope = np.abs(np.diff(v, axis=1)).max() / 0.05  # mV/ms
    bound = 2 * np.pi * float(params["freq_high"]) / 1000 * float(params["amp_high"])
    assert slope <= bound * 1.01
    # The waveforms really differ between episodes and really move within one.
    assert v[:, 0].std() > 3.0
    excursion = v.max(axis=1) - v.min(axis=1)
    assert np.median(excursion) > 2.0
    np.testing.assert_allclose(target_at_numpy(jax.tree.map(lambda x: x[3], states),
                                               np.asarray(t)), v[3], atol=1e-3)


def test_reward_evaluates_the_target_at_every_substep(task_and_params):
    task, params = task_and_params
    step = jax.jit(lambda s, trace, i: task.step(s, trace, i, params, 1.0))
    state = task.reset(jax.random.key(1), params)
    state, r0, _ = step(state, jnp.zeros((40, 1)), jnp.zeros(1))  # now t = 1 ms
    # 0 mV is ≥ 55 mV above every target: the per-sample error is capped at 20 mV
    assert float(r0) == pytest.approx(-2.0)
    assert float(state["err_int"]) == pytest.approx(-20.0)  # mV·ms: −20 mV for 1 ms
    times = 1.0 + 0.025 * jnp.arange(1, 41)
    exact = target_at(state, times)[:, None]
    current = jnp.array([0.2])  # nA: 0.2 pC over 1 ms
    new, reward, terminated = step(state, exact + 3.0, current)
    np.testing.assert_allclose(float(reward), -(0.3 + 0.01 * 0.2), rtol=1e-5)
    assert not bool(terminated)
    # the integral of target − v adds −3 mV × 1 ms (float32 sums, measured error < 1e-6)
    assert float(new["err_int"]) == pytest.approx(-23.0, abs=1e-4)
    # Holding the period-start target is worse than following it within the period.
    _, held, _ = step(state, jnp.broadcast_to(exact[:1], (40, 1)), jnp.zeros(1))
    assert float(held) < 0.0
    assert float(new["t_ms"]) == 2.0 and int(new["step"]) == 2
    np.testing.assert_allclose(float(new["target"]), float(target_at(state, 2.0)), atol=1e-5)
    # The observation previews the target at t + (0, 1, 2, 5, 10) ms.
    preview = task.extra_obs(new, params)[:5]
    np.testing.assert_allclose(preview, target_at(state, 2.0 + jnp.array([0, 1, 2, 5, 10.0])),
                               atol=1e-5)


def test_render_info_aligns_the_target_with_the_trace(task_and_params):
    task, params = task_and_params
    state = jax.device_get(task.reset(jax.random.key(2), params))
    state.update(t_ms=np.float32(80.0), dt_ms=np.float32(0.025), step=np.int32(80))
    traces = np.full((2000, 1), -60.0, np.float32)  # the last 50 periods: t in (30, 80] ms
    info = task.render_info(traces, state, params)
    times = 80.0 - 0.025 * np.arange(1999, -1, -1)
    np.testing.assert_allclose(info["target"], target_at_numpy(state, times), atol=1e-9)
    assert render_trace(**info).shape == (240, 320, 3)
    # Right after reset: one sample at t = 0.
    fresh = jax.device_get(task.reset(jax.random.key(2), params))
    info = task.render_info(traces[:1], fresh, params)
    np.testing.assert_allclose(info["target"], [float(fresh["target"])], atol=1e-4)


def test_rejects_bad_configuration():
    with pytest.raises(ValueError, match="n_sines"):
        VoltageTrack(n_sines=0)
    with pytest.raises(ValueError, match="preview_ms"):
        VoltageTrack(preview_ms=(-1.0,))


def controller(obs, p):
    """Constant action ``p[1]`` if ``p[0]`` < 0.5, else P + feedforward on the preview:
    ``kp (target(t + 1 ms) − v) + kff (target(t + 1 ms) + 65 mV)`` with (kp, kff) = p[2:4]."""
    v, ahead = obs[0], obs[2]
    feedback = p[2] * (ahead - v) + p[3] * (ahead + 65.0)
    return jnp.clip(jnp.where(p[0] > 0.5, feedback, p[1]), -1.0, 1.0)[None]


def test_p_feedforward_controller_tracks_the_target():
    env, params = neuroenv.make("VoltageTrack-v0", max_steps_in_episode=EPISODE,
                                obs_units="physical")  # the controller reads mV
    assert env.observation_space(params).shape == (7,)

    def episode(p, key):
        obs, state = env.reset(key, params)

        def body(carry, k):
            obs, state = carry
            obs, state, reward, _, _, info = env.step(k, state, controller(obs, p), params)
            return (obs, state), (reward, state.last_trace[:, 0], info["current_nA"])

        keys = jax.random.split(key, EPISODE - 1)  # stop before the automatic reset
        _, out = jax.lax.scan(body, (obs, state), keys)
        return out

    policies = {"zero": [0, 0, 0, 0], "constant -0.05": [0, -0.05, 0, 0],
                "P+FF": [1, 0, 0.1, 0.04]}
    seeds = 4
    p = jnp.repeat(jnp.asarray(list(policies.values()), jnp.float32), seeds, axis=0)
    keys = jnp.tile(jax.random.split(jax.random.key(7), seeds), (len(policies),))
    rewards, v, current = jax.jit(jax.vmap(episode))(p, keys)
    returns = np.asarray(rewards).sum(axis=1).reshape(len(policies), seeds)
    assert np.isfinite(returns).all()
    zero, const, pff = returns.mean(axis=1)
    assert pff > max(zero, const) / 2.5, returns  # e.g. −7 against −32
    # The controller follows the moving target within about a millivolt on average ...
    pff_error = -returns[2] / (EPISODE - 1) * 10.0
    assert pff_error.mean() < 1.5, pff_error
    # ... and the zero-current cell just sits at rest.
    np.testing.assert_allclose(np.asarray(v)[:seeds, -1, -1], -65.0, atol=1.5)
    applied = np.asarray(current)[2 * seeds:]  # nA, P+FF episodes
    assert np.abs(applied).max() <= 0.5 + 1e-6 and applied.std() > 0.01
