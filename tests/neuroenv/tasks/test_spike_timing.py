"""SpikeTiming-v0: request sampling, spike detection and scoring, rendering, and a pulse rule
that hits the requested times where zero and constant currents cannot."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.render import render_trace
from neuroenv.tasks.spike_timing import PADDED_MS, SpikeTiming, crossing_times

EPISODE = 100  # control periods (ms) of the rollout below


@pytest.fixture(scope="module")
def task_and_params():
    task = SpikeTiming()
    params = {k: jnp.asarray(v, jnp.float32) for k, v in task.default_params().items()}
    return task, params


def spike_trace(spike_substeps, substeps=40):
    """(substeps, 1) trace at −65 mV with one sample at +20 mV at each given substep."""
    v = np.full((substeps, 1), -65.0, np.float32)
    v[list(spike_substeps), 0] = 20.0
    return jnp.asarray(v)


def test_requests_are_separated_and_padded(task_and_params):
    task, params = task_and_params
    states = jax.jit(jax.vmap(task.reset, (0, None)))(jax.random.split(jax.random.key(0), 2048),
                                                      params)
    for name, value in states.items():
        assert value.dtype in (jnp.float32, jnp.int32, jnp.bool_), name
    request = np.asarray(states["request_ms"])
    n = np.asarray(states["n_requests"])
    assert sorted(set(n.tolist())) == [3, 4, 5, 6]
    used = np.arange(6)[None] < n[:, None]
    np.testing.assert_array_equal(np.asarray(states["pending"]), used)
    assert (request[~used] == PADDED_MS).all()
    real = np.where(used, request, np.nan)
    assert np.nanmin(real) >= 10.0 and np.nanmax(real) <= 190.0
    gaps = np.diff(real, axis=1)
    assert np.nanmin(gaps) >= 20.0 - 1e-3
    # Uniform placement: the first request is not always at the start.
    assert np.nanstd(real[:, 0]) > 5.0


def test_crossing_times_interpolate_between_solver_steps():
    trace = jnp.array([-70.0, -10.0, 30.0, 10.0, -5.0, 5.0])
    crossed, times = crossing_times(jnp.float32(-65.0), trace, 100.0, 0.5)
    np.testing.assert_array_equal(np.asarray(crossed), [0, 0, 1, 0, 0, 1])
    # −10 → 30 mV between t = 101.0 and 101.5 ms: 0 mV at 101.125 ms; −5 → 5: at 102.75 ms.
    np.testing.assert_allclose(np.asarray(times)[[2, 5]], [101.125, 102.75], atol=1e-5)
    # A crossing between the previous period's last sample and this period's first.
    crossed, times = crossing_times(jnp.float32(-1.0), jnp.array([1.0, 2.0]), 5.0, 0.5)
    np.testing.assert_array_equal(np.asarray(crossed), [1, 0])
    np.testing.assert_allclose(float(times[0]), 5.25, atol=1e-6)


def test_scoring_hits_extras_and_misses(task_and_params):
    task, params = task_and_params
    state = task.reset(jax.random.key(0), params)
    request = np.array([30.0, 60.0, 90.0, PADDED_MS, PADDED_MS, PADDED_MS], np.float32)
    state = {**state, "request_ms": jnp.asarray(request),
             "pending": jnp.asarray(request < PADDED_MS), "n_requests": jnp.int32(3),
             "t_ms": jnp.float32(29.0), "step": jnp.int32(29)}
    step = jax.jit(lambda s, tr, i: task.step(s, tr, i, params, 1.0))
    zero = jnp.zeros(1)
    obs = task.extra_obs(state, params)
    np.testing.assert_allclose(np.asarray(obs), [1.0, 50.0])  # 1 ms to go, no spike yet
    # A spike at substep 19 (0 mV crossed between 29.475 and 29.5 ms): within ±1 ms of 30.
    state, reward, terminated = step(state, spike_trace([19]), jnp.array([0.5]))
    np.testing.assert_allclose(float(reward), 1.0 - 0.002 * 0.5, rtol=1e-6)
    assert not bool(terminated)
    np.testing.assert_array_equal(np.asarray(state["hit"])[:3], [True, False, False])
    np.testing.assert_array_equal(np.asarray(state["pending"])[:3], [False, True, True])
    np.testing.assert_allclose(float(state["last_spike_ms"]), 29.475 + 0.025 * 65 / 85,
                               atol=1e-4)
    # A second spike in the next period, still within 1 ms of 30 ms: the request is taken.
    state, reward, _ = step(state, spike_trace([5]), zero)
    assert float(reward) == -1.0
    np.testing.assert_allclose(np.asarray(task.extra_obs(state, params)),
                               [60.0 - 31.0, 31.0 - (30.125 + 0.025 * 65 / 85)],
                               atol=1e-4)
    # Two spikes in one period far from any request: −2.
    state, reward, _ = step(state, spike_trace([3, 30]), zero)
    assert float(reward) == -2.0 and int(state["n_spikes"]) == 4
    # Quiet from 61 to 62 ms: the 60 ms request passes unhit and is dropped; next is 90 ms.
    state = {**state, "t_ms": jnp.float32(61.0), "step": jnp.int32(61)}
    state, reward, _ = step(state, spike_trace([]), zero)
    assert float(reward) == 0.0
    np.testing.assert_array_equal(np.asarray(state["pending"])[:3], [False, False, True])
    np.testing.assert_array_equal(np.asarray(state["hit"])[:3], [True, False, False])
    assert float(task.extra_obs(state, params)[0]) == pytest.approx(90.0 - 62.0)


def test_render_marks_requests_in_the_window(task_and_params):
    task, params = task_and_params
    state = jax.device_get(task.reset(jax.random.key(0), params))
    request = np.array([35.0, 60.0, 100.0, PADDED_MS, PADDED_MS, PADDED_MS], np.float32)
    state.update(request_ms=request, t_ms=np.float32(80.0), dt_ms=np.float32(0.025))
    traces = np.full((2000, 1), -65.0, np.float32)  # t in (30, 80] ms
    info = task.render_info(traces, state, params)
    np.testing.assert_allclose(info["markers"], [1999 - 45 / 0.025, 1999 - 20 / 0.025],
                               atol=1e-3)
    frame = render_trace(**info)
    assert frame.shape == (240, 320, 3)
    assert (frame[9:17] == (214, 39, 40)).all(axis=-1).any()  # red ticks at the top


def pulse_rule(obs, p):
    """Constant action ``p[1]`` if ``p[0]`` < 0.5, else a full-strength 1 ms pulse when the
    next request is 0.9–1.9 ms away (the evoked spike comes ≈ 1.4 ms after onset)."""
    until = obs[-2]
    rule = jnp.where((until > 0.9) & (until <= 1.9), 1.0, 0.0)
    return jnp.where(p[0] > 0.5, rule, p[1])[None]


def test_pulse_rule_hits_the_requested_times():
    env, params = neuroenv.make("SpikeTiming-v0", max_steps_in_episode=EPISODE,
                                obs_units="physical")  # the rule reads ms
    params = params.replace(task={**params.task, "t_last": jnp.float32(EPISODE - 10),
                                  "requests_high": jnp.float32(4)})
    assert env.observation_space(params).shape == (7,)

    def episode(p, key):
        obs, state = env.reset(key, params)

        def body(carry, k):
            obs, state = carry
            obs, state, reward, _, _, _ = env.step(k, state, pulse_rule(obs, p), params)
            return (obs, state), reward

        keys = jax.random.split(key, EPISODE - 1)  # stop before the automatic reset
        (_, state), rewards = jax.lax.scan(body, (obs, state), keys)
        task = state.task
        return rewards.sum(), task["hit"].sum(), task["n_requests"], task["n_spikes"]

    policies = [[0, 0.0], [0, 0.5], [1, 0.0]]  # zero, constant 0.25 nA (fires), pulse rule
    seeds = 4
    p = jnp.repeat(jnp.asarray(policies, jnp.float32), seeds, axis=0)
    keys = jnp.tile(jax.random.split(jax.random.key(3), seeds), (len(policies),))
    out = [np.asarray(x).reshape(len(policies), seeds)
           for x in jax.jit(jax.vmap(episode))(p, keys)]
    returns, hits, n_requests, n_spikes = out
    assert (returns[0] == 0.0).all() and (n_spikes[0] == 0).all()
    assert (n_spikes[1] >= 5).all() and (returns[1] < 0).all()  # tonic firing: extras
    # The rule fires exactly one spike per request, each within tolerance.
    np.testing.assert_array_equal(hits[2], n_requests[2])
    np.testing.assert_array_equal(n_spikes[2], n_requests[2])
    np.testing.assert_allclose(returns[2], n_requests[2] * (1 - 0.002 * 0.5), atol=1e-3)


def test_rejects_bad_configuration():
    with pytest.raises(ValueError, match="max_requests"):
        SpikeTiming(max_requests=0)
