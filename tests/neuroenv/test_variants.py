"""The Noisy, Drift and Randomized variants and the NeuronEnv options behind them."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.cells import hh_cell
from neuroenv.neuron_env import NeuronEnv
from neuroenv.tasks.voltage_target import VoltageTarget

KEY = jax.random.key(3)


def _rollout(env, params, key, steps, action=0.0):
    """Observations ((steps + 1, obs_dim)) and states (stacked leaves) of one episode."""

    def body(state, k):
        obs, state, *_ = env.step_env(k, state, jnp.full((env.n_sites,), action), params)
        return state, (obs, state)

    @jax.jit
    def run(key):
        obs, state = env.reset_env(key, params)
        _, (observations, states) = jax.lax.scan(body, state, jax.random.split(key, steps))
        stack = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), (obs, state),
                             (observations, states))
        return stack

    observations, states = run(key)
    return np.asarray(observations), states


def test_noisy_variant_adds_measurement_noise_only():
    clean, p_clean = neuroenv.make("VoltageTarget-v0")
    noisy, p_noisy = neuroenv.make("VoltageTargetNoisy-v0")
    assert float(p_noisy.obs_noise_std) == 2.0
    o_clean, s_clean = _rollout(clean, p_clean, KEY, 20)
    o_noisy, s_noisy = _rollout(noisy, p_noisy, KEY, 20)
    # the neuron is the same (same keys) ...
    np.testing.assert_array_equal(np.asarray(s_clean.sim["v"][-1]),
                                  np.asarray(s_noisy.sim["v"][-1]))
    # ... but the electrode reads it with 2 mV noise (std over 21 samples: 2 +- 0.7 mV;
    # the default observation shows mV / 20)
    residual = (o_noisy[:, 0] - o_clean[:, 0]) * 20.0
    assert 1.0 < residual.std() < 3.5
    np.testing.assert_array_equal(o_noisy[:, 1], o_clean[:, 1])  # the target is exact


def test_randomized_variant_draws_conductances_per_episode():
    env, params = neuroenv.make("VoltageTargetRandomized-v0")
    assert env.randomized == ("HH_gNa", "HH_gK", "HH_gLeak")
    keys = jax.random.split(KEY, 256)
    _, states = jax.vmap(env.reset, (0, None))(keys, params)
    log_scale = np.asarray(states.param_log_scale)
    assert log_scale.shape == (256, 3)
    np.testing.assert_allclose(log_scale.std(axis=0), 0.15, rtol=0.2)  # 256 draws
    # the scale reaches the simulator: rest potentials differ between episodes
    _, s0 = env.reset(keys[0], params)
    _, s1 = env.reset(keys[1], params)
    sim0 = env.episode_sim_params(s0.param_log_scale, params)
    np.testing.assert_allclose(np.asarray(sim0["HH_gNa"]),
                               np.asarray(params.sim["HH_gNa"]) * np.exp(log_scale[0, 0]),
                               rtol=1e-6)
    quiet = params.replace(init_v_jitter=jnp.float32(0.0))
    v = [np.asarray(_rollout(env, quiet, k, 30)[1].sim["v"][-1]) for k in keys[:2]]
    assert np.abs(v[0] - v[1]).max() > 0.05
    # a deterministic env scales nothing (its params stay shared by a batch: float64
    # rollouts 30 % faster) and refuses a spread or drift it could not apply
    base, p_base = neuroenv.make("VoltageTarget-v0")
    assert base.randomized == () and base.reset(keys[0], p_base)[1].param_log_scale.shape == (0,)
    for field in ("param_spread", "param_drift"):
        with pytest.raises(ValueError, match=f"params.{field} is .* randomises no parameters"):
            base.reset(keys[0], p_base.replace(**{field: jnp.float32(0.1)}))
    named, p_named = neuroenv.make("VoltageTarget-v0", randomize=("HH_gNa",))
    assert named.randomized == ("HH_gNa",)
    named.reset(keys[0], p_named.replace(param_spread=jnp.float32(0.1)))  # accepted


def test_drift_variant_random_walk():
    env, params = neuroenv.make("VoltageTargetDrift-v0")
    _, states = _rollout(env, params, KEY, 100)
    path = np.asarray(states.param_log_scale)
    assert np.all(path[0] == 0.0)
    steps = np.diff(path, axis=0)
    np.testing.assert_allclose(steps.std(), 0.01, rtol=0.2)  # 300 increments, 1 ms periods
    assert np.all(path[-1] != 0.0)


def test_biphasic_pulse_is_charge_balanced():
    cell, soma = hh_cell()
    env = NeuronEnv(cell, [soma], VoltageTarget(), pulse="biphasic", action_scale=0.5)
    wave = np.asarray(env.waveform(jnp.asarray([0.4])))
    assert wave.shape == (40, 1)
    np.testing.assert_allclose(wave[:20], 0.4)
    np.testing.assert_allclose(wave[20:], -0.4)
    assert abs(wave.sum()) < 1e-6
    with pytest.raises(ValueError, match="even number of substeps"):
        NeuronEnv(cell, [soma], VoltageTarget(), pulse="biphasic", substeps=5)
    with pytest.raises(ValueError, match="pulse must be one of"):
        NeuronEnv(cell, [soma], VoltageTarget(), pulse="square")


def test_mean_field_observation_and_bad_options():
    cell, soma = hh_cell()
    cell.branch(1).comp(3).record(verbose=False)
    env = NeuronEnv(cell, [soma], VoltageTarget(), observe="mean", window=4)
    assert env.observation_space().shape == (4 + 2,)  # 4 mean voltages, target, integral
    obs, state = env.reset(KEY, env.default_params)
    # scaled voltages (v + 65 mV) / 20 mV; float32 rounding, measured error < 1e-7
    np.testing.assert_allclose(obs[:4], (np.asarray(state.history).mean(axis=1) + 65) / 20,
                               atol=1e-6)
    with pytest.raises(ValueError, match="observe must be one of"):
        NeuronEnv(cell, [soma], VoltageTarget(), observe="max")
    with pytest.raises(ValueError, match="randomize names .*'gNa'"):
        NeuronEnv(cell, [soma], VoltageTarget(), randomize=("gNa",))
    with pytest.raises(ValueError, match="param_spread must be a finite number >= 0"):
        NeuronEnv(cell, [soma], VoltageTarget(), param_spread=-0.1)
    with pytest.raises(ValueError, match="each drive site must be one compartment"):
        NeuronEnv(cell, [soma], VoltageTarget(), drive_sites=[cell.branch(1)])
