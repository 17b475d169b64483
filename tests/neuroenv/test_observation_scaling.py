"""Observations and rewards are O(1) by default; ``obs_units="physical"`` keeps mV.

Issue 12 D: the observations used to be raw millivolts (Box −150…100) and some rewards
reached −10 per period, so standard PPO with default hyperparameters did not learn.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.neuron_env import V_BOUNDS, V_OFFSET, V_SCALE
from neuroenv.registry import BASE_TASKS

#: Reset observations (key 0) of every base task before observation scaling (mV, and Hz / ms
#: for the task entries), printed by the code of commit e9fee1f: the ``"physical"``
#: observation must start with exactly these numbers.
OLD_RESET_OBS = {
    "VoltageTarget-v0": [-63.995987, -74.854126],
    "SpikeRate-v0": [-63.995987, 0.0, 20.583506],
    "VoltageTrack-v0": [-63.995987, -64.61493, -64.57925, -64.514206, -64.17491, -63.453873],
    "SpikeTiming-v0": [-63.995987] * 5 + [20.90031, 50.0],
    "Silence-v0": [-63.995987] * 5 + [0.0],
    "EnergyEfficientSpike-v0": [-63.995987] * 4,
    "Desynchronize-v0": [-65.26388] * 40,
    "DendriteControl-v0": [-64.11151, -63.995987, -65.906334, -64.866394, -65.31607] * 2
    + [-59.890594],
    # observe="none": the band power (µV²) alone; the sensor starts cold.
    "BetaSuppression-v0": [0.0],
    "BasalGangliaDBS-v0": [0.0],
}
#: Largest |entry| of a default observation. Measured over the rollouts below: 5.0 (the
#: SpikeTiming times clip at 50 ms / 10 ms = 5; spike peaks at about +34 mV give 4.94).
OBS_BOUND = 5.5
#: Largest |reward| per period under random actions. Measured: 2.0 (VoltageTarget and
#: VoltageTrack at the 20 mV error cap), 2.83 (DendriteControl, with spikes), ≤ 1.02 for the
#: spike-counting tasks. Desynchronize's squared mean-field deviation reached 6.7 in a
#: synchronous volley (about −1.2 per period on average): bounded separately.
REWARD_BOUND = 3.5
DESYNC_REWARD_BOUND = 8.0
N_STEPS = 20


def random_rollout(env, params, n_steps=N_STEPS):
    """Reset with key 0, then ``n_steps`` uniform random actions (keys from key 1):
    ((n_steps + 1, n_obs) observations, (n_steps,) rewards)."""
    obs, state = env.reset(jax.random.key(0), params)
    step = env.step  # jitted (neuroenv.core): a jax.jit around it compiles a second program
    key, observations, rewards = jax.random.key(1), [obs], []
    for _ in range(n_steps):
        key, k_action, k_step = jax.random.split(key, 3)
        action = jax.random.uniform(k_action, (env.n_sites,), minval=-1, maxval=1)
        obs, state, reward, *_ = step(k_step, state, action, params)
        observations.append(obs)
        rewards.append(reward)
    return np.asarray(observations), np.asarray(rewards)


#: Tasks whose physical-units env (a second compilation of reset and step, 4-7 s each on
#: 2 cores) is compared with the scaled one only with ``-m slow``; their scaled observations
#: and rewards are checked by default.
SLOW_PHYSICAL = {"BasalGangliaDBS-v0", "BetaSuppression-v0", "DendriteControl-v0"}
PHYSICAL_TASKS = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_PHYSICAL else n
                  for n in sorted(BASE_TASKS)]


@pytest.fixture(scope="module")
def rollout_of():
    """``rollout_of(name, units) -> (env, params, observations, rewards)`` of
    :func:`random_rollout`, made once per module for each task and unit."""
    cache = {}

    def get(name, units):
        if (name, units) not in cache:
            env, params = neuroenv.make(name, obs_units=units)
            cache[name, units] = (env, params, *random_rollout(env, params))
        return cache[name, units]

    yield get
    cache.clear()


@pytest.mark.parametrize("name", sorted(BASE_TASKS))
def test_default_observations_and_rewards_are_order_one(name, rollout_of):
    env, params, obs, rewards = rollout_of(name, "scaled")
    assert env.obs_units == "scaled"
    assert obs.dtype == np.float32 and np.all(np.isfinite(obs))
    assert np.abs(obs).max() <= OBS_BOUND, (name, np.abs(obs).max())
    space = env.observation_space(params)
    assert all(bool(space.contains(o)) for o in obs)
    bound = DESYNC_REWARD_BOUND if name == "Desynchronize-v0" else REWARD_BOUND
    assert np.all(np.isfinite(rewards)) and np.abs(rewards).max() <= bound, (name, rewards)


@pytest.mark.parametrize("name", PHYSICAL_TASKS)
def test_physical_units_reproduce_the_old_observation(name, rollout_of):
    env, params, obs, _ = rollout_of(name, "physical")
    old = np.asarray(OLD_RESET_OBS[name], np.float32)
    np.testing.assert_array_equal(obs[0, :old.size], old)
    # new entries (the error integral) come after the old ones and start at 0
    np.testing.assert_array_equal(obs[0, old.size:], 0.0)
    # after steps too, the old layout: the clipped recordings (mV), then the task entries
    state = env.reset(jax.random.key(0), params)[1]
    action = jnp.full((env.n_sites,), 0.3, jnp.float32)  # not weakly typed: no recompile
    for i in range(3):
        ob, state, *_ = env.step(jax.random.key(i), state, action, params)
        recorded = state.history
        if env.observe_mode == "mean":
            recorded = jnp.mean(recorded, axis=1)
        elif env.observe_mode == "none":  # the task's entries alone
            recorded = jnp.zeros((0,))
        want = np.concatenate([np.clip(np.asarray(recorded).reshape(-1), *V_BOUNDS),
                               np.asarray(env.task.extra_obs(state.task, params.task))])
        np.testing.assert_array_equal(np.asarray(ob), want.astype(np.float32))


@pytest.mark.parametrize("name", PHYSICAL_TASKS)
def test_scaled_is_the_documented_affine_map_of_physical(name, rollout_of):
    env, params, scaled, rewards = rollout_of(name, "scaled")
    penv, pparams, physical, prewards = rollout_of(name, "physical")
    offset, scale = env.obs_affine()
    n_v = env.window * env.n_obs_rec
    np.testing.assert_array_equal(offset[:n_v], V_OFFSET)
    np.testing.assert_array_equal(scale[:n_v], V_SCALE)
    # the same simulation (rewards bit-identical); the env multiplies by the float32
    # reciprocal of the scale: measured difference ≤ 1.2e-7 (one float32 ulp)
    np.testing.assert_array_equal(rewards, prewards)
    np.testing.assert_allclose(scaled, (physical - offset) / scale, rtol=0, atol=1e-6)
    # to_physical inverts it (float32 round trip, measured relative error ≤ 1.2e-7)
    np.testing.assert_allclose(np.asarray(env.to_physical(scaled)), physical, rtol=1e-6,
                               atol=1e-5)
    # the Box bounds are mapped the same way
    space, pspace = env.observation_space(params), penv.observation_space(pparams)
    np.testing.assert_allclose(space.low, (pspace.low - offset) / scale, rtol=1e-6)
    np.testing.assert_allclose(space.high, (pspace.high - offset) / scale, rtol=1e-6)
    np.testing.assert_array_equal(pspace.low[:n_v], V_BOUNDS[0])
    np.testing.assert_array_equal(pspace.high[:n_v], V_BOUNDS[1])
    poffset, pscale = penv.obs_affine()
    np.testing.assert_array_equal(poffset, 0.0)
    np.testing.assert_array_equal(pscale, 1.0)


def test_task_obs_gives_the_task_entries_in_env_units():
    for units in ("scaled", "physical"):
        env, params = neuroenv.make("VoltageTarget-v0", obs_units=units)
        obs, state = env.reset(jax.random.key(3), params)
        np.testing.assert_array_equal(np.asarray(env.task_obs(state.task, params)),
                                      np.asarray(obs)[-2:])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scaling_under_x64(dtype):
    """The scaled observation is float32 and the same affine map with or without x64."""
    with jax.enable_x64(dtype == "float64"):
        env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=5)
        penv, pparams = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=5,
                                      obs_units="physical")
        scaled, _ = random_rollout(env, params, 3)
        physical, _ = random_rollout(penv, pparams, 3)
    assert scaled.dtype == np.float32 and physical.dtype == np.float32
    offset, scale = env.obs_affine()
    # one float32 ulp apart at most (see above; measured ≤ 1.2e-7)
    np.testing.assert_allclose(scaled, (physical - offset) / scale, rtol=0, atol=1e-6)


def test_obs_units_is_validated():
    with pytest.raises(ValueError, match="obs_units must be one of .* got 'mV'"):
        neuroenv.make("VoltageTarget-v0", obs_units="mV")


def test_error_integral_accumulates_the_tracking_error():
    """Constant zero current below a target above rest: the integral of target − v grows by
    about (target − v) mV per 1 ms period, then clips at 100 mV·ms (2 in scaled units)."""
    env, params = neuroenv.make("VoltageTarget-v0", obs_units="physical")
    params = params.replace(task={**params.task, "target_low": jnp.float32(-55.0),
                                  "target_high": jnp.float32(-55.0)})
    obs, state = env.reset(jax.random.key(0), params)
    step = env.step
    integrals = []
    for i in range(12):
        obs, state, *_ = step(jax.random.key(i), state, jnp.zeros(1), params)
        integrals.append(float(obs[-1]))
    assert abs(float(obs[0]) + 65.0) < 2.0  # the cell stays near rest (1 mV jitter)
    assert integrals[0] == pytest.approx(-55.0 - (-65.0), abs=2.0)  # ≈ 10 mV × 1 ms
    assert integrals[-1] == 100.0  # ≥ 9 mV·ms per period for 12 periods: clipped
    scaled_env, _ = neuroenv.make("VoltageTarget-v0")
    assert scaled_env.observation_space().high[-1] == pytest.approx(2.0)


def test_hand_controllers_read_both_units():
    """The task modules' baseline controllers give the same action from either unit."""
    from neuroenv.tasks.dendrite_control import p_controller
    from neuroenv.tasks.desynchronize import delayed_feedback

    mv = jnp.asarray([-60.0, -64.0, -66.0, -70.0, -65.0] * 2 + [-50.0, 30.0], jnp.float32)
    scaled = (mv - V_OFFSET) / V_SCALE
    # float32 round trip of the affine map, measured difference ≤ 1e-7
    np.testing.assert_allclose(p_controller(scaled), p_controller(mv, obs_units="physical"),
                               atol=1e-6)
    field = jnp.linspace(-70.0, -20.0, 40)
    np.testing.assert_allclose(delayed_feedback((field - V_OFFSET) / V_SCALE, 0.05),
                               delayed_feedback(field, 0.05, obs_units="physical"), atol=1e-6)
    with pytest.raises(ValueError, match="obs_units"):
        p_controller(mv, obs_units="mV")
