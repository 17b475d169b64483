"""Adapters: five-value gymnax 0.x API (rejax, purejaxrl), gymnax 1.0 view, gymnasium FuncEnv."""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.adapters import FuncState, GymnaxLegacy, NeuronFuncEnv, functional_jax_env

STEPS = 20  # control periods per episode in these tests


@pytest.fixture(scope="module")
def voltage_env():
    return neuroenv.make("VoltageTarget-v0", max_steps_in_episode=STEPS)


def assert_trees_equal(a, b):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def rollout(step, reset, params, key, actions):
    """Step through ``actions`` (T, 1) from ``reset(key)``, one jitted env step at a time
    (so every test hits the env's jit cache); returns the T outputs stacked leaf-wise."""
    obs, state = reset(key, params)
    keys = jax.random.split(jax.random.fold_in(key, 1), len(actions))
    outs = []
    for k, action in zip(keys, actions, strict=True):
        outs.append(step(k, state, action, params))
        state = outs[-1][1]
    return jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *outs)


# ---------------------------------------------------------------------- GymnaxLegacy
def test_legacy_five_values_equal_six_values_with_auto_reset(voltage_env):
    env, params = voltage_env
    legacy = GymnaxLegacy(env)
    actions = jnp.sin(jnp.arange(2 * STEPS + 7, dtype=jnp.float32))[:, None]
    key = jax.random.key(4)
    six = rollout(env.step, env.reset, params, key, actions)
    five = rollout(legacy.step, legacy.reset, params, key, actions)
    obs6, state6, reward6, term6, trunc6, info6 = six
    obs5, state5, reward5, done5, info5 = five
    assert_trees_equal((obs5, state5, reward5), (obs6, state6, reward6))
    np.testing.assert_array_equal(done5, np.logical_or(term6, trunc6))
    assert_trees_equal(info5, info6)
    # the episodes end (and auto-reset) after STEPS periods
    np.testing.assert_array_equal(np.flatnonzero(done5), [STEPS - 1, 2 * STEPS - 1])
    assert int(state5.time[STEPS - 1]) == 0 and int(state5.time[STEPS]) == 1
    assert done5.dtype == jnp.bool_ and reward5.dtype == jnp.float32


def test_legacy_deepcopy_is_safe_and_steps_identically(voltage_env):
    env, params = voltage_env
    legacy = GymnaxLegacy(env)
    config = copy.deepcopy({"env": legacy, "env_params": params})  # what rejax does
    twin = config["env"]
    assert twin is not legacy and twin == legacy and hash(twin) == hash(legacy)
    key = jax.random.key(7)
    action = jnp.array([0.3], jnp.float32)
    obs, state = legacy.reset(key, params)
    assert_trees_equal(twin.reset(key, config["env_params"]), (obs, state))
    assert_trees_equal(twin.step(key, state, action, config["env_params"]),
                       legacy.step(key, state, action, params))
    # a bare instance (as copy/pickle create it) must not recurse through __getattr__
    bare = GymnaxLegacy.__new__(GymnaxLegacy)
    with pytest.raises(AttributeError):
        bare.__setstate__  # noqa: B018
    with pytest.raises(AttributeError):
        bare.anything  # noqa: B018


def test_legacy_attributes_and_spaces(voltage_env):
    env, params = voltage_env
    legacy = GymnaxLegacy(env)
    space = legacy.action_space(params)
    np.testing.assert_array_equal(space.low, [-1.0])  # what rejax clips to
    np.testing.assert_array_equal(space.high, [1.0])
    assert space.shape == (1,)
    assert legacy.observation_space(params).shape == env.observation_space(params).shape
    assert legacy.num_actions == 1 and legacy.name == env.name
    assert_trees_equal(legacy.default_params, params)
    assert legacy.period_ms == env.period_ms  # public attributes are forwarded
    assert legacy.unwrapped_env is env
    with pytest.raises(TypeError, match="lacks"):
        GymnaxLegacy(object())
    with pytest.raises(TypeError, match="five-value"):
        GymnaxLegacy(legacy)


def test_legacy_vmap_over_keys_and_static_jit_arg(voltage_env):
    env, params = voltage_env
    legacy = GymnaxLegacy(env)
    keys = jax.random.split(jax.random.key(0), 5)
    obs, state = jax.vmap(legacy.reset, (0, None))(keys, params)
    actions = jnp.linspace(-1, 1, 5)[:, None]
    out = jax.vmap(legacy.step, (0, 0, 0, None))(keys, state, actions, params)
    assert out[0].shape == (5, *legacy.observation_space(params).shape)
    assert out[2].shape == (5,) and out[3].shape == (5,)
    row = legacy.step(keys[2], jax.tree_util.tree_map(lambda x: x[2], state), actions[2], params)
    np.testing.assert_allclose(out[0][2], row[0], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(out[2][2], row[2], rtol=1e-6, atol=1e-6)

    obs, state, reward, done, info = legacy.step(keys[0], row[1], actions[0], params)
    info["written"] = reward  # purejaxrl's LogWrapper writes into info
    assert type(info) is dict

    traces = []

    def scaled(adapter, x):
        traces.append(None)
        return x * adapter.num_actions

    jitted = jax.jit(scaled, static_argnums=0)
    jitted(legacy, 1.0)
    jitted(GymnaxLegacy(env), 2.0)  # an equal adapter of the same env: no retrace
    jitted(copy.deepcopy(legacy), 3.0)
    assert len(traces) == 1


# ---------------------------------------------------------------------- GymnaxEnv
@pytest.fixture(scope="module")
def gymnax_env(voltage_env):
    pytest.importorskip("gymnax")
    from neuroenv.adapters import GymnaxEnv

    env, params = voltage_env
    return GymnaxEnv(env), params


def test_gymnax_env_is_a_gymnax_environment(gymnax_env, voltage_env):
    from gymnax.environments import environment, spaces

    genv, params = gymnax_env
    env = voltage_env[0]
    assert isinstance(genv, environment.Environment)
    space = genv.action_space(params)
    assert isinstance(space, spaces.Box) and space.shape == (1,)
    assert float(space.low) == -1.0 and float(space.high) == 1.0
    obs_space = genv.observation_space(params)
    assert isinstance(obs_space, spaces.Box)
    assert obs_space.shape == env.observation_space(params).shape
    assert genv.num_actions == 1
    actions = jnp.cos(jnp.arange(STEPS + 3, dtype=jnp.float32))[:, None]
    key = jax.random.key(2)
    assert_trees_equal(rollout(genv.step, genv.reset, params, key, actions),
                       rollout(env.step, env.reset, params, key, actions))
    obs, state = genv.reset(key, params)  # no measurement noise by default
    np.testing.assert_array_equal(genv.observe(key, state, None, params), obs)


def test_gymnax_log_wrapper_under_jit_and_vmap(gymnax_env):
    from gymnax.wrappers import FlattenObservationWrapper, LogWrapper

    genv, params = gymnax_env
    logged = LogWrapper(FlattenObservationWrapper(genv))
    n_envs, n_steps = 3, STEPS + 2
    actions = jnp.full((n_steps, n_envs, 1), 0.2, jnp.float32)

    @jax.jit
    def run(key):
        keys = jax.random.split(key, n_envs)
        obs, state = jax.vmap(logged.reset, (0, None))(keys, params)

        def body(state, xs):
            k, a = xs
            obs, state, reward, terminated, truncated, info = jax.vmap(
                logged.step, (0, 0, 0, None))(jax.random.split(k, n_envs), state, a, params)
            return state, (reward, info)

        return jax.lax.scan(body, state, (jax.random.split(key, n_steps), actions))[1]

    reward, info = run(jax.random.key(0))
    assert reward.shape == (n_steps, n_envs)
    done = np.asarray(info["returned_episode"])
    assert done[STEPS - 1].all() and done.sum() == n_envs
    np.testing.assert_allclose(info["returned_episode_returns"][STEPS - 1],
                               reward[:STEPS].sum(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(info["returned_episode_lengths"][STEPS - 1], STEPS)
    # a gymnax wrapper handed to rejax must survive its deepcopy
    legacy = GymnaxLegacy(logged)
    assert copy.deepcopy(legacy) == legacy


def test_gymnax_to_gym_wrapper(gymnax_env):
    from gymnax.wrappers import GymnaxToGymWrapper

    genv, params = gymnax_env
    gym_env = GymnaxToGymWrapper(genv, params)
    obs, info = gym_env.reset(seed=1)
    assert gym_env.observation_space.shape == obs.shape
    obs, reward, terminated, truncated, info = gym_env.step(gym_env.action_space.sample())
    assert np.shape(reward) == () and not bool(terminated)


def test_gymnax_env_without_gymnax_gives_a_clear_error():
    code = (
        "import sys; sys.modules['gymnax'] = None\n"
        "import neuroenv.adapters as a\n"
        "assert a.GymnaxLegacy\n"
        "try:\n"
        "    from neuroenv.adapters import GymnaxEnv\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    assert "pip install gymnax" in out.stdout


# ---------------------------------------------------------------------- gymnasium FuncEnv
def test_func_env_matches_step_env(voltage_env):
    env, params = voltage_env
    func = NeuronFuncEnv(env)
    key = jax.random.PRNGKey(3)  # raw keys, as FunctionalJaxEnv passes (one jit cache)
    state = func.initial(key)
    assert isinstance(state, FuncState)
    obs, env_state = env.reset(key, params)
    np.testing.assert_array_equal(func.observation(state, key), obs)
    assert not bool(func.terminal(state, key))
    for t in range(3):  # env.step(k) runs step_env(split(k)[0]) and no reset before the end
        k = jax.random.fold_in(key, t)
        action = jnp.array([0.5 - 0.4 * t], jnp.float32)
        nxt = func.transition(state, action, jax.random.split(k)[0])
        o, env_state, r, term, trunc, info = env.step(k, env_state, action, params)
        np.testing.assert_allclose(func.observation(nxt, k), o, rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(func.reward(state, action, nxt, k), r, rtol=1e-5, atol=1e-6)
        assert bool(func.terminal(nxt, k)) == bool(term)
        step_info = func.transition_info(state, action, nxt)
        assert step_info.keys() <= info.keys()
        for name, value in step_info.items():
            np.testing.assert_allclose(value, info[name], rtol=1e-6, atol=1e-6)
        state = nxt
    # the initial state's info has the structure of a transition's (scan-compatible)
    assert jax.tree_util.tree_structure(func.initial(key)) == jax.tree_util.tree_structure(state)


def test_func_env_uses_given_params(voltage_env):
    env, params = voltage_env
    fixed = params.replace(task={**params.task, "target_low": jnp.float32(-55.0),
                                 "target_high": jnp.float32(-55.0)})
    func = NeuronFuncEnv(env, fixed)
    state = func.initial(jax.random.PRNGKey(0))
    obs = func.observation(state, None)  # [v, target, error integral], scaled
    assert float(env.to_physical(obs)[-2]) == pytest.approx(-55.0, abs=1e-5)  # float32


def test_functional_jax_env_passes_check_env(voltage_env):
    pytest.importorskip("array_api_compat")  # JaxToNumpy (used by check_env) needs it
    from gymnasium.envs.functional_jax_env import FunctionalJaxEnv
    from gymnasium.utils.env_checker import check_env

    env, _ = voltage_env
    for render_mode in (None, "rgb_array"):
        gym_env = FunctionalJaxEnv(NeuronFuncEnv(env), metadata=NeuronFuncEnv.metadata,
                                   render_mode=render_mode)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(gym_env)
        # the only warning: alternative render modes need a spec (an env from gym.make)
        assert [str(w.message) for w in caught if "spec" not in str(w.message)] == []


def test_functional_jax_env_truncates_by_time_limit_and_renders(voltage_env):
    env, _ = voltage_env
    gym_env = functional_jax_env(env, render_mode="rgb_array")
    obs, info = gym_env.reset(seed=0)
    assert obs.shape == gym_env.observation_space.shape
    for t in range(STEPS):
        obs, reward, terminated, truncated, info = gym_env.step(np.array([0.1], np.float32))
        assert isinstance(reward, float) and not terminated
        assert truncated == (t == STEPS - 1)
    frame = gym_env.render()
    assert frame.shape == (*NeuronFuncEnv.render_size, 3) and frame.dtype == np.uint8
    gym_env.close()


# ---------------------------------------------------------------------- rejax
PPO_SMOKE = dict(total_timesteps=4096, eval_freq=4096, skip_initial_evaluation=True,
                 num_envs=8, num_steps=64, num_epochs=2, num_minibatches=4,
                 learning_rate=3e-4, gamma=0.95, normalize_observations=True,
                 agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "tanh"})


def test_rejax_ppo_trains_on_legacy_adapter():
    rejax = pytest.importorskip("rejax")
    env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=50)
    algo = rejax.PPO.create(env=GymnaxLegacy(env), env_params=params, **PPO_SMOKE)
    ts, (lengths, returns) = jax.jit(algo.train)(jax.random.key(0))
    assert int(ts.global_step) >= PPO_SMOKE["total_timesteps"]
    assert returns.shape == (1, 128)
    assert np.all(np.isfinite(returns)) and np.all(returns < 0)
    np.testing.assert_array_equal(lengths, 50)


#: PPO settings that beat zero current on VoltageTarget-v0 within 150k steps (seed 0: mean
#: return of the mean-action policy -88 vs -115 without current over 256 episodes; seed 1
#: only -109; longer runs are unstable: rejax's eval peaks near -58 at 360k steps, then
#: falls back to -128 at 450k).
PPO_VOLTAGE_TARGET = dict(total_timesteps=150_000, eval_freq=30_000, num_envs=64,
                          num_steps=64, num_epochs=8, num_minibatches=8, learning_rate=1e-3,
                          gamma=0.9, gae_lambda=0.9, ent_coef=0.0, max_grad_norm=0.5,
                          normalize_observations=True, normalize_rewards=True,
                          agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "tanh"})


@pytest.mark.slow
def test_rejax_ppo_beats_zero_current_on_voltage_target():
    rejax = pytest.importorskip("rejax")
    env, params = neuroenv.make("VoltageTarget-v0")  # 200 periods per episode
    algo = rejax.PPO.create(env=GymnaxLegacy(env), env_params=params, **PPO_VOLTAGE_TARGET)
    ts, (lengths, returns) = jax.jit(algo.train)(jax.random.key(0))
    assert np.all(np.isfinite(returns))
    assert returns[-1].mean() > returns[0].mean() + 100  # the stochastic policy improves

    def mean_action(obs):
        obs = algo.normalize_obs(ts.obs_rms_state, obs)
        mean = algo.actor.apply(ts.actor_ts.params, obs[None],
                                method=lambda actor, x: actor._action_dist(x).mean())
        return jnp.clip(mean[0], -1.0, 1.0)

    def episode_return(policy, key):
        obs, state = env.reset(key, params)

        def body(carry, k):
            obs, state = carry
            obs, state, reward, *_ = env.step(k, state, policy(obs), params)
            return (obs, state), reward

        keys = jax.random.split(jax.random.fold_in(key, 1), 200)
        return jax.lax.scan(body, (obs, state), keys)[1].sum()

    @jax.jit
    def paired_returns(keys):  # the same episodes (targets, noise) for both policies
        trained = jax.vmap(lambda k: episode_return(mean_action, k))(keys)
        zero = jax.vmap(lambda k: episode_return(lambda obs: jnp.zeros(1), k))(keys)
        return trained, zero

    trained, zero = paired_returns(jax.random.split(jax.random.key(123), 128))
    assert trained.mean() > zero.mean(), (trained.mean(), zero.mean())
    assert (trained > zero).mean() > 0.6
