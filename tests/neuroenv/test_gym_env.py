"""The gymnasium env: check_env, seeding, equality with the functional env, actions, options,
numerical blow-ups, rendering, registration (also from a fresh interpreter)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import jax
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import neuroenv
from neuroenv.gym_env import NeuronGymEnv
from neuroenv.render import TARGET, TRACE, render_trace
from simulator import NumericalStabilityWarning

# check_env of every task and variant is in test_task_suite.py; the API tests here use these.
IDS = ["neuroenv/VoltageTarget-v0", "neuroenv/SpikeRate-v0"]
VT = "neuroenv/VoltageTarget-v0"

FRESH_INTERPRETER = """
import sys
import gymnasium as gym
assert "neuroenv" not in sys.modules
env = gym.make("neuroenv:neuroenv/VoltageTarget-v0")
obs, info = env.reset(seed=0)
assert obs.dtype == env.observation_space.dtype and obs in env.observation_space, obs
assert type(env.unwrapped).__name__ == "NeuronGymEnv"
print("OK", sorted(i for i in gym.registry if i.startswith("neuroenv/")))
"""


@pytest.fixture(scope="module")
def fresh_interpreter():
    """Started first, so that it runs alongside the other tests; collected at the end."""
    proc = subprocess.Popen([sys.executable, "-c", FRESH_INTERPRETER], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()  # reap it and close its pipes


@pytest.fixture(scope="module", autouse=True)
def _start_fresh_interpreter(fresh_interpreter):
    return fresh_interpreter


def gym_warnings(record):
    return [str(w.message) for w in record if "WARN" in str(w.message)]


# ------------------------------------------------------------------ registration and check_env
def test_registration():
    for name in neuroenv.TASKS:
        spec = gym.spec(f"neuroenv/{name}")
        assert spec.entry_point == "neuroenv.gym_env:NeuronGymEnv"
        assert spec.vector_entry_point == "neuroenv.vector:make_vector_env"
        assert spec.kwargs == {"task": name}
        assert spec.max_episode_steps is None
        assert gym.spec(spec.id).to_json()  # JSON-serialisable
    assert set(neuroenv.registered_envs) == {i for i in gym.registry if i.startswith("neuroenv/")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Overriding environment" warning
        neuroenv._register()


@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id, render_mode):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        env = gym.make(env_id, render_mode=render_mode)
        check_env(env.unwrapped)
        env.close()
    assert gym_warnings(record) == []


def test_types_and_spaces():
    env = gym.make(VT)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    assert env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    assert type(obs) is np.ndarray and obs.dtype == np.float32 and obs in env.observation_space
    assert set(info) == {"action_scale_nA", "target"}
    scale = float(env.unwrapped.env_params.action_scale)
    assert type(info["target"]) is float and info["action_scale_nA"] == scale
    physical = env.unwrapped.functional_env.to_physical(obs)  # [v, target, error integral]
    np.testing.assert_allclose(physical[-2], info["target"], rtol=1e-6)  # float32 rounding
    obs, reward, terminated, truncated, info = env.step(np.array([0.5], np.float32))
    assert type(obs) is np.ndarray and obs.dtype == np.float32 and obs in env.observation_space
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert type(info["numerical_error"]) is bool and not info["numerical_error"]
    assert info["current_nA"].dtype == np.float32
    np.testing.assert_allclose(info["current_nA"], [0.5 * scale], rtol=1e-6)


# ------------------------------------------------------------------ seeding and equivalence
def rollout(env, seed, actions, options=None):
    obs, _ = env.reset(seed=seed, options=options)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, info["numerical_error"]))
        if terminated or truncated:
            break
    return out


def assert_same(a, b):
    assert len(a) == len(b)
    np.testing.assert_array_equal(a[0], b[0])
    for x, y in zip(a[1:], b[1:], strict=True):
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:] == y[1:]


def test_same_seed_same_trajectory():
    actions = np.random.default_rng(0).uniform(-1, 1, (30, 1)).astype(np.float32)
    env_a, env_b = NeuronGymEnv(), gym.make(VT)
    first = rollout(env_a, 3, actions)
    assert_same(first, rollout(env_b, 3, actions))
    assert_same(first, rollout(env_a, 3, actions))  # re-seeding the same env
    other = rollout(env_a, 4, actions)
    assert not np.array_equal(first[0], other[0])


def test_reset_without_seed_continues_the_key_chain():
    env = NeuronGymEnv()
    obs1, _ = env.reset(seed=11)
    obs2, _ = env.reset()
    env.reset(seed=11)
    obs4, _ = env.reset()
    np.testing.assert_array_equal(obs2, obs4)
    assert not np.array_equal(obs1, obs2)
    unseeded = NeuronGymEnv()
    obs, _ = unseeded.reset()  # the first unseeded reset works (seed drawn from np_random)
    assert obs in unseeded.observation_space


def test_key_for_seed():
    assert np.array_equal(jax.random.key_data(NeuronGymEnv.key_for_seed(5)),
                          jax.random.key_data(jax.random.key(5)))
    big = [NeuronGymEnv.key_for_seed(s) for s in (2**32, 2**32 + 1, 0, 1)]
    data = {tuple(np.asarray(jax.random.key_data(k)).tolist()) for k in big}
    assert len(data) == 4  # seeds >= 2**32 do not wrap onto small ones
    with pytest.raises(ValueError):
        NeuronGymEnv.key_for_seed(-1)


@pytest.mark.parametrize("x64", [False, True])
def test_key_for_seed_is_jax_random_key(x64):
    """key_for_seed wraps the key data itself below 2**32 (no seeding program): the keys
    equal jax.random.key's, at the edges of the 32-bit range, in either precision."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", x64)
    try:
        for seed in (0, 1, 2**31 - 1, 2**31, 2**32 - 1):
            key = NeuronGymEnv.key_for_seed(seed)
            assert jax.random.key_impl(key) == jax.random.key_impl(jax.random.key(seed))
            assert np.array_equal(jax.random.key_data(key),
                                  jax.random.key_data(jax.random.key(seed)))
    finally:
        jax.config.update("jax_enable_x64", before)


def test_matches_functional_env():
    """A whole episode (to its truncation) equals the functional env's, key for key."""
    fenv, params = neuroenv.make("VoltageTarget-v0")
    genv = NeuronGymEnv("VoltageTarget-v0")
    n = int(params.max_steps_in_episode)
    actions = np.random.default_rng(1).uniform(-1.5, 1.5, (n, 1)).astype(np.float32)
    obs, _ = genv.reset(seed=7)
    key = NeuronGymEnv.key_for_seed(7)
    key, k_reset = jax.random.split(key)
    f_obs, state = fenv.reset(k_reset, params)
    np.testing.assert_array_equal(obs, np.asarray(f_obs))
    for t, a in enumerate(actions):
        obs, reward, terminated, truncated, info = genv.step(a)
        key, k_step = jax.random.split(key)
        _, state, f_reward, f_term, f_trunc, f_info = fenv.step(k_step, state, a, params)
        np.testing.assert_array_equal(obs, np.asarray(f_info["final_observation"]))
        assert reward == float(f_reward)
        assert (terminated, truncated) == (bool(f_term), bool(f_trunc))
        np.testing.assert_array_equal(info["current_nA"], np.asarray(f_info["current_nA"]))
        assert truncated == (t == n - 1) and not terminated


def test_max_episode_steps_shortens_episodes():
    env = NeuronGymEnv(max_episode_steps=5)
    assert int(env.env_params.max_steps_in_episode) == 5
    default = int(neuroenv.make("VoltageTarget-v0")[1].max_steps_in_episode)
    env = NeuronGymEnv(max_episode_steps=default + 1)
    assert int(env.env_params.max_steps_in_episode) == default
    with pytest.raises(ValueError):
        NeuronGymEnv(max_episode_steps=0)


# ------------------------------------------------------------------ actions
@pytest.mark.parametrize("action", [np.zeros(2, np.float32), np.float32(0.0), [[0.0]],
                                    np.zeros((1, 1))])
def test_wrong_action_shape_raises(action):
    env = NeuronGymEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"\(1,\)"):
        env.step(action)


@pytest.mark.parametrize("action", [[np.nan], [np.inf], [-np.inf], ["a"]])
def test_non_finite_action_raises(action):
    env = NeuronGymEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(np.array(action, dtype=object) if action == ["a"] else np.array(action))


def test_step_before_reset_raises():
    with pytest.raises(gym.error.ResetNeeded):
        NeuronGymEnv().step(np.zeros(1, np.float32))


def test_out_of_range_actions_are_clipped():
    env = NeuronGymEnv()
    big = [np.array([5.0]), np.array([-3.0]), np.array([1.0 + 1e-3], np.float64)]
    clipped = [np.clip(a, -1, 1).astype(np.float32) for a in big]
    assert_same(rollout(env, 2, big), rollout(env, 2, clipped))
    env.reset(seed=2)
    info = env.step(np.array([7.0]))[-1]
    np.testing.assert_allclose(info["current_nA"], env.env_params.action_scale, rtol=1e-6)


# ------------------------------------------------------------------ reset options
def test_target_option():
    env = NeuronGymEnv()
    to_physical = env.functional_env.to_physical  # obs: [v, target, error integral]
    obs, info = env.reset(seed=0, options={"target": -55.0})
    # float32 (x + 65) / 20 and back: measured error 0 for these targets, bound 1 ulp-ish
    np.testing.assert_allclose(to_physical(obs)[-2], -55.0, rtol=1e-6)
    assert info["target"] == -55.0
    assert float(env.env_state.task["target"]) == -55.0
    # Outside the sampling range but inside the observation bounds: allowed.
    obs, _ = env.reset(seed=0, options={"target": -30.0})
    np.testing.assert_allclose(to_physical(obs)[-2], -30.0, rtol=1e-6)
    # The reward follows the set target: holding rest near -65 mV is better for -65.
    near = rollout(env, 0, [np.zeros(1, np.float32)] * 3, {"target": -65.0})
    far = rollout(env, 0, [np.zeros(1, np.float32)] * 3, {"target": -50.0})
    assert near[-1][1] > far[-1][1]
    # The voltages are unchanged by the target (same seed).
    np.testing.assert_array_equal(near[-1][0][:-2], far[-1][0][:-2])
    for bad in (1e4, np.nan, np.inf, [1.0, 2.0], "x"):
        with pytest.raises(ValueError):
            env.reset(seed=0, options={"target": bad})
    obs, info = env.reset(seed=0)  # the next reset draws the target again
    assert info["target"] != -30.0 and float(env.env_state.task["target"]) != -30.0


def test_params_option():
    env = NeuronGymEnv()
    zeros = [np.zeros(1, np.float32)] * 5
    default = rollout(env, 0, zeros)
    no_na = rollout(env, 0, zeros, {"params": {"HH_gNa": 0.0}})
    assert not np.array_equal(default[-1][0], no_na[-1][0])
    assert float(env.env_params.sim["HH_gNa"][0]) == 0.0
    # A full-shape array is accepted too.
    shape = env.env_params.sim["HH_gNa"].shape
    same = rollout(env, 0, zeros, {"params": {"HH_gNa": np.zeros(shape)}})
    assert_same(no_na, same)
    # Back to the defaults on the next reset without params.
    assert_same(default, rollout(env, 0, zeros))
    # Env scalars: action_scale.
    scale = 0.37 * float(env.env_params.action_scale)
    env.reset(seed=0, options={"params": {"action_scale": scale}})
    np.testing.assert_allclose(env.step(np.ones(1))[-1]["current_nA"], [scale], rtol=1e-6)
    bad = [{"nope": 1.0}, {"HH_gNa": np.zeros(3)}, {"HH_gNa": np.nan},
           {"capacitance": [np.inf] * shape[0]}, {"axial_conductances": 1.0}, {"HH_gNa": "x"},
           ["HH_gNa"]]
    for params in bad:
        with pytest.raises(ValueError):
            env.reset(seed=0, options={"params": params})
    with pytest.raises(ValueError):
        env.reset(seed=0, options={"unknown": 1})
    env.reset(options={})  # check_env's reset(options={})


def test_numerical_blow_up_terminates_with_finite_obs():
    # forward Euler far past its stability bound (valid params, which is all reset accepts):
    # |v| reaches ~1e15 mV within the first period
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        env = NeuronGymEnv(solver="fwd_euler", delta_t=0.1, substeps=10)
        env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(np.ones(1, np.float32))
    assert terminated is True and truncated is False and info["numerical_error"] is True
    assert np.all(np.isfinite(obs)) and obs in env.observation_space
    assert np.isfinite(reward)
    v = np.asarray(env.env_state.sim["v"])
    assert not np.all(np.abs(v) < 1e3)  # the state itself blew up
    obs, _ = env.reset(seed=0)  # a reset starts again from rest
    assert np.all(np.isfinite(obs)) and obs in env.observation_space


def test_time_step_check_runs_at_the_first_reset():
    """The gym env checks forward Euler's bound at its first reset (built deferred, while
    the step program compiles), not at construction; once per configuration; its
    functional env equals one built directly (the pending check is not part of the key)."""
    kwargs = {"solver": "fwd_euler", "delta_t": 0.09, "substeps": 10}  # a config of its own
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        env = NeuronGymEnv(**kwargs)
        functional = env.functional_env  # built, check pending
    with pytest.warns(NumericalStabilityWarning, match="delta_t=0.09 ms is past its"):
        env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        env.reset(seed=1)
        NeuronGymEnv(**kwargs).reset(seed=0)  # the same (shared) configuration: checked
    with pytest.warns(NumericalStabilityWarning, match="delta_t=0.09 ms is past its"):
        direct, _ = neuroenv.make("VoltageTarget-v0", **kwargs)  # the functional API: at once
    assert direct == functional


# ------------------------------------------------------------------ render, close, pickle
def test_render_rgb_array():
    env = gym.make(VT, render_mode="rgb_array")
    env.reset(seed=0, options={"target": -55.0})
    for _ in range(10):
        env.step(np.array([0.8], np.float32))
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert (frame == TRACE).all(-1).sum() > 50  # the trace
    assert (frame == TARGET).all(-1).sum() > 200  # the target line
    assert len(env.unwrapped._traces) == 11  # reset + 10 periods
    spike = gym.make("neuroenv/SpikeRate-v0", render_mode="rgb_array")
    spike.reset(seed=0)
    spike.step(np.ones(1, np.float32))
    frame = spike.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert (frame == TARGET).all(-1).any()  # the target-rate tick


def test_render_without_mode_returns_none():
    env = NeuronGymEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
    with pytest.raises(ValueError):
        NeuronGymEnv(render_mode="human")


def test_render_trace_rasteriser():
    frame = render_trace(np.linspace(-90, 40, 500), target=-60.0, height=64, width=96)
    assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8
    assert (frame == TRACE).all(-1).any() and (frame == TARGET).all(-1).any()
    blank = render_trace([], height=64, width=96)
    assert not (blank == TRACE).all(-1).any()
    nan = render_trace([np.nan, np.inf, -np.inf, 0.0], height=64, width=96)
    assert nan.dtype == np.uint8


def test_close_idempotent_and_pickle():
    env = NeuronGymEnv()
    env.reset(seed=0)
    env.close()
    env.close()
    env = NeuronGymEnv(action_scale=0.25)
    clone = pickle.loads(pickle.dumps(env))  # EzPickle: rebuilt from the constructor args
    assert clone.env_params.action_scale == np.float32(0.25)
    assert clone.observation_space == env.observation_space


# ------------------------------------------------------------------ fresh interpreter
def test_make_from_fresh_interpreter(fresh_interpreter):
    out, err = fresh_interpreter.communicate(timeout=120)
    assert fresh_interpreter.returncode == 0, err
    assert out.startswith("OK") and VT in out


def test_sync_vector_env_does_not_change_other_envs_metadata():
    # gymnasium's SyncVectorEnv writes its autoreset mode into its first env's metadata; with
    # a class-level dict that changed every NeuronGymEnv (and every later SyncVectorEnv).
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    def make():
        return NeuronGymEnv("VoltageTarget-v0")

    same = SyncVectorEnv([make, make], autoreset_mode=AutoresetMode.SAME_STEP)
    other = make()
    assert "autoreset_mode" not in other.metadata
    assert "autoreset_mode" not in NeuronGymEnv.metadata
    assert same.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    same.close()
