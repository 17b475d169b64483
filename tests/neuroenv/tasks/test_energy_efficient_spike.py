"""EnergyEfficientSpike-v0: reward accounting, termination at the first spike, the
strength–duration relation of single pulses, and the biphasic (charge-balanced) variant."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.tasks.energy_efficient_spike import EnergyEfficientSpike

PERIOD = 0.5  # ms
BATCH = 64  # pulses per jitted rollout call


def make_runner(env):
    """Jitted rollouts of single rectangular pulses (amplitude nA, k periods, then zero) over
    a whole episode (step_env, rewards counted until the first termination)."""
    steps = 30

    def episode(key, params, amp, k):
        obs, state = env.reset_env(key, params)
        scale = params.action_scale

        def body(carry, xs):
            state, done = carry
            key, t = xs
            action = jnp.where(t < k, amp / scale, 0.0)[None]
            obs, state, reward, terminated, info = env.step_env(key, state, action, params)
            live = ~done
            out = {"reward": jnp.where(live, reward, 0.0), "terminated": live & terminated,
                   "current": jnp.where(live, info["current_nA"][0], 0.0),
                   "charge": state.task["charge"], "obs": obs, "trace": state.last_trace[:, 0]}
            return (state, done | terminated), out

        xs = (jax.random.split(key, steps), jnp.arange(steps))
        return jax.lax.scan(body, (state, jnp.asarray(False)), xs)[1]

    run = jax.jit(jax.vmap(episode, (None, None, 0, 0)))

    def go(amps, ks, params=None, seed=0):
        # Padded to one batch size: a single compilation serves every call.
        params = env.default_params if params is None else params
        n = len(amps)
        if n > BATCH:
            raise ValueError(f"at most {BATCH} pulses per call, got {n}")
        amp_pad = np.zeros(BATCH, np.float32)
        amp_pad[:n] = amps
        k_pad = np.zeros(BATCH, np.int32)
        k_pad[:n] = ks
        out = jax.device_get(run(jax.random.key(seed), params, jnp.asarray(amp_pad),
                                 jnp.asarray(k_pad)))
        return {k: np.asarray(v)[:n] for k, v in out.items()}

    return go


@pytest.fixture(scope="module")
def mono():
    env, params = neuroenv.make("EnergyEfficientSpike-v0")
    return env, params, make_runner(env)


def test_defaults_and_state_dtypes(mono):
    env, params, _ = mono
    assert env.pulse == "constant" and env.period_ms == PERIOD
    assert env.observation_space(params).shape == (env.window,)
    task = EnergyEfficientSpike()
    task_params = {k: jnp.float32(v) for k, v in task.default_params().items()}
    state = task.reset(jax.random.key(0), task_params)
    assert all(v.dtype == jnp.float32 and v.shape == () for v in state.values())


def test_zero_current_never_spikes_and_pays_the_wait(mono):
    env, params, run = mono
    out = run([0.0], [0])
    assert not out["terminated"].any()
    wait = float(params.task["wait_penalty"])
    np.testing.assert_allclose(out["reward"], -wait, rtol=1e-6)
    np.testing.assert_allclose(out["reward"].sum(), -wait * 30, rtol=1e-5)


def test_single_pulse_reward_and_termination(mono):
    env, params, run = mono
    out = run([0.55, 0.8], [1, 1])
    bonus, penalty, wait = (float(params.task[k]) for k in
                            ("spike_bonus", "charge_penalty", "wait_penalty"))
    for i, amp in enumerate((0.55, 0.8)):
        term = out["terminated"][i]
        assert term.sum() == 1  # terminates exactly once, at the first spike
        n = int(np.argmax(term)) + 1  # periods until the spike
        trace = out["trace"][i, n - 1]
        assert trace.max() >= 0.0  # the spike is in the terminating period's trace
        assert out["trace"][i, : n - 1].max() < 0.0  # and not before
        q = amp * PERIOD  # pC
        np.testing.assert_allclose(out["charge"][i, n - 1], q, rtol=1e-5)
        expected = np.full(n, -wait)
        expected[0] -= penalty * q
        expected[-1] += bonus + wait
        np.testing.assert_allclose(out["reward"][i, :n], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(out["reward"][i, n:], 0.0)
    # The stronger pulse spikes sooner; a single good pulse returns far more than waiting.
    assert np.argmax(out["terminated"][1]) < np.argmax(out["terminated"][0])
    assert out["reward"][0].sum() > 0.7


def test_strength_duration(mono):
    """Thresholds of 1, 2 and 4-period pulses: longer pulses need less current but more
    charge; the 0.5 ms threshold is about 0.39 nA (0.2 pC) at rest."""
    env, params, run = mono
    params = params.replace(init_v_jitter=jnp.float32(0.0))
    amps = np.arange(0.05, 0.6, 0.01)
    thresholds = {}
    for k in (1, 2, 4):
        spiked = run(amps, np.full(amps.shape, k), params)["terminated"].any(axis=1)
        assert spiked[-1] and not spiked[0]
        first = int(np.argmax(spiked))
        assert spiked[first:].all()  # above threshold every amplitude fires
        thresholds[k] = amps[first]
    assert thresholds[1] > thresholds[2] > thresholds[4]
    charge = {k: thresholds[k] * k * PERIOD for k in thresholds}
    assert charge[1] < charge[2] < charge[4]
    assert 0.36 <= thresholds[1] <= 0.42, thresholds


def test_biphasic_pulses_are_charge_balanced_and_costlier():
    env, params = neuroenv.make("EnergyEfficientSpike-v0", pulse="biphasic")
    assert env.pulse == "biphasic"
    wave = np.asarray(env.waveform(jnp.array([2.0])))
    assert wave.shape == (env.substeps, 1)
    np.testing.assert_allclose(wave.sum(axis=0), 0.0)  # zero net charge per period
    np.testing.assert_allclose(np.abs(wave).mean(axis=0), 2.0)
    run = make_runner(env)
    out = run([0.55, 3.5], [1, 1])
    # The monophasic 0.55 nA pulse fires; as a biphasic pulse it does not (−0.6 return).
    assert not out["terminated"][0].any()
    wait, penalty = float(params.task["wait_penalty"]), float(params.task["charge_penalty"])
    np.testing.assert_allclose(out["reward"][0].sum(),
                               -wait * 30 - penalty * 0.55 * PERIOD, rtol=1e-5)
    # 3.5 nA fires; its charge counts both phases: |I| × period.
    term = out["terminated"][1]
    assert term.sum() == 1
    n = int(np.argmax(term)) + 1
    np.testing.assert_allclose(out["charge"][1, n - 1], 3.5 * PERIOD, rtol=1e-5)
    np.testing.assert_allclose(out["reward"][1].sum(),
                               1.0 - penalty * 3.5 * PERIOD - wait * (n - 1), rtol=1e-5)


def test_render_marks_the_spike(mono):
    env, params, run = mono
    out = run([0.8], [1])
    n = int(np.argmax(out["terminated"][0])) + 1
    traces = out["trace"][0, :n].reshape(-1, 1)
    info = env.task.render_info(traces, {}, {})
    markers = np.asarray(info["markers"])
    assert len(markers) == 1 and traces[markers[0], 0] >= 0.0 > traces[markers[0] - 1, 0]
