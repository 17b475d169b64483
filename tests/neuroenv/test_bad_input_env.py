"""Bad input to every public entry point of neuroenv gives a clear error (issue 13 §4, §5).

Each case asserts the error type (``TypeError`` for a wrong type, ``ValueError`` for a wrong
value) and that the message names the argument. The reproductions of the issue are marked
``# issue``; before neuroenv.params_validation they ran silently or failed with KeyError,
OverflowError or "cannot reshape".
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.evaluation import constant, evaluate
from neuroenv.gym_env import NeuronGymEnv
from neuroenv.sharding import sharded_evaluate
from neuroenv.vector import NeuronVectorEnv
from simulator.physical_range import PhysicalRangeWarning

VT = "neuroenv/VoltageTarget-v0"


@pytest.fixture(scope="module")
def gym_env():
    env = NeuronGymEnv("VoltageTarget-v0")
    env.reset(seed=0)
    return env


@pytest.fixture(scope="module")
def functional():
    env, params = neuroenv.make("VoltageTarget-v0")
    obs, state = env.reset(jax.random.key(0), params)
    return env, params, state


# ------------------------------------------------------------------ reset(options=...)
OPTION_CASES = [
    ({"target": "5"}, TypeError, r"options\['target'\]"),  # issue
    ({"target": True}, TypeError, r"options\['target'\]"),
    ({"target": 1e6}, ValueError, r"options\['target'\].*\[-150, 100\]"),
    ({"target": float("nan")}, ValueError, r"options\['target'\]"),
    ({"params": {"radius": -1}}, ValueError, r"radius must be > 0 to simulate"),
    ({"params": {"HH_gNa": float("nan")}}, ValueError, "HH_gNa"),
    ({"params": {"length": np.full(13, 0.0)}}, ValueError, "length must be > 0"),
    ({"params": {"capacitance": 0}}, ValueError, "capacitance"),  # issue
    ({"params": {"radius": -1}}, ValueError, "radius"),
    ({"params": {"length": np.inf}}, ValueError, "length"),
    ({"params": {"axial_resistivity": 0}}, ValueError, "axial_resistivity"),
    ({"params": {"radius": True}}, TypeError, "radius"),
    ({"params": {"HH_gNa": 0.1 + 1j}}, TypeError, "HH_gNa"),
    ({"params": {"HH_gNa": "abc"}}, TypeError, "HH_gNa"),
    ({"params": {"HH_gNa": np.full(2, 0.12)}}, ValueError, r"HH_gNa.*shape \(13,\)"),
    ({"params": {"area": -1}}, ValueError, "area"),  # issue (a derived value)
    ({"params": {"action_scale": -1}}, ValueError, "action_scale"),  # issue
    ({"params": {"action_scale": float("nan")}}, ValueError, "action_scale"),  # issue
    ({"params": {"action_scale": np.inf}}, ValueError, "action_scale"),
    ({"params": {"obs_noise_std": -1}}, ValueError, "obs_noise_std"),  # issue
    ({"params": {"param_drift": -1}}, ValueError, "param_drift"),  # issue
    ({"params": {"param_spread": -0.5}}, ValueError, "param_spread"),
    ({"params": {"init_v_jitter": -1}}, ValueError, "init_v_jitter"),
    ({"params": {5: 1.0}}, TypeError, r"options\['params'\] keys"),
    ({"params": [1, 2]}, ValueError, r"options\['params'\]"),
    ({"nope": 1}, ValueError, "unknown reset options"),
]


@pytest.mark.parametrize("options,error,match", OPTION_CASES)
def test_reset_options_refuse(gym_env, options, error, match):
    with warnings.catch_warnings(), pytest.raises(error, match=match):
        warnings.simplefilter("ignore", PhysicalRangeWarning)  # singular geometry warns first
        gym_env.reset(seed=0, options=options)


@pytest.mark.parametrize("params", [{"HH_gNa": -1}, {"HH_gK": np.full(13, -0.1)},
                                    {"capacitance": 1e-30}])
def test_reset_options_out_of_physical_range_warn(gym_env, params):
    """Finite values outside the physical range were refused; now accepted with a warning
    naming the parameter, as by set() (issue 17)."""
    with pytest.warns(PhysicalRangeWarning, match=next(iter(params))):
        gym_env.reset(seed=0, options={"params": params})


def test_reset_options_must_be_a_dict(gym_env):
    with pytest.raises(TypeError, match="options must be a dict"):
        gym_env.reset(options="target=5")


def test_valid_options_still_work(gym_env):
    obs, info = gym_env.reset(seed=0, options={"target": -60, "params": {
        "HH_gNa": 0.1, "radius": np.float32(5.0), "action_scale": 0}})
    assert info["target"] == -60.0 and info["action_scale_nA"] == 0.0
    assert np.isfinite(gym_env.step(np.ones(1))[1])


@pytest.mark.parametrize("seed,error", [(True, TypeError), (np.bool_(False), TypeError),
                                        (1.5, TypeError), ("3", TypeError),
                                        (-1, ValueError)])
def test_reset_seed_refuses(gym_env, seed, error):  # issue: seed=True
    with pytest.raises(error, match="seed"):
        gym_env.reset(seed=seed)


# ------------------------------------------------------------------ gym step(action)
ACTION_CASES = [
    (np.array([0.5 + 1j]), TypeError, "complex"),  # issue
    (np.array([True]), TypeError, "bool"),  # issue
    (None, TypeError, "action"),
    ("0.5", TypeError, "action"),
    (np.array(["a"], dtype=object), TypeError, "action"),
    ([[1.0], [2.0, 3.0]], TypeError, "action"),
    (np.zeros(2), ValueError, r"shape \(1,\)"),
    (np.zeros((1, 1)), ValueError, r"shape \(1,\)"),
    (np.array([np.nan]), ValueError, "finite"),
    (np.array([np.inf]), ValueError, "finite"),
]


@pytest.mark.parametrize("action,error,match", ACTION_CASES)
def test_step_refuses(gym_env, action, error, match):
    gym_env.reset(seed=0)
    with pytest.raises(error, match=match):
        gym_env.step(action)


def test_list_and_int_actions_are_real_numbers(gym_env):
    gym_env.reset(seed=0)
    a = gym_env.step([0.5])
    gym_env.reset(seed=0)
    b = gym_env.step(np.array([0.5], np.float64))
    assert a[1] == b[1]
    gym_env.step(np.array([1]))


# ------------------------------------------------------------------ constructors and make
MAKE_CASES = [
    ({"max_steps_in_episode": 2**40}, ValueError, "max_steps_in_episode"),  # issue
    ({"max_steps_in_episode": 0}, ValueError, "max_steps_in_episode"),
    ({"max_steps_in_episode": 1.5}, TypeError, "max_steps_in_episode"),
    ({"max_steps_in_episode": True}, TypeError, "max_steps_in_episode"),
    ({"action_scale": -1.0}, ValueError, "action_scale"),
    ({"action_scale": float("nan")}, ValueError, "action_scale"),
    ({"action_scale": "big"}, TypeError, "action_scale"),
    ({"obs_noise_std": -1.0}, ValueError, "obs_noise_std"),
    ({"param_drift": float("inf")}, ValueError, "param_drift"),
    ({"init_v_jitter": [1.0]}, TypeError, "init_v_jitter"),
    ({"delta_t": "0.1"}, TypeError, "delta_t"),
    ({"delta_t": -0.025}, ValueError, "delta_t"),
    ({"window": 0}, ValueError, "window"),
]


@pytest.mark.parametrize("kwargs,error,match", MAKE_CASES)
def test_gym_make_refuses(kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make(VT, **kwargs)


@pytest.mark.parametrize("kwargs,error,match", [
    *MAKE_CASES,
    # gym.make consumes max_episode_steps (TimeLimit) and only warns about render modes
    ({"max_episode_steps": 2**40}, ValueError, "max_episode_steps"),
    ({"max_episode_steps": True}, ValueError, "max_episode_steps"),
    ({"max_episode_steps": 0}, ValueError, "max_episode_steps"),
    ({"render_mode": "human"}, ValueError, "render_mode"),
    ({"task": None}, TypeError, "task"),
])
def test_gym_env_constructor_refuses(kwargs, error, match):
    with pytest.raises(error, match=match):
        NeuronGymEnv(**kwargs)


@pytest.mark.parametrize("name,error", [(None, TypeError), (5, TypeError),
                                        ("Nope-v0", ValueError)])
def test_make_refuses_names(name, error):  # issue: make(None)
    with pytest.raises(error, match="task"):
        neuroenv.make(name)


# ------------------------------------------------------------------ render
@pytest.mark.parametrize("task", ["SpikeRate-v0", "VoltageTarget-v0"])
def test_render_without_an_episode(task):  # issue: render() after close() -> KeyError 'rate'
    env = NeuronGymEnv(task, render_mode="rgb_array")
    with pytest.raises(ValueError, match="reset"):
        env.render()  # before the first reset
    env.reset(seed=0)
    assert env.render().shape == (240, 320, 3)
    env.close()
    with pytest.raises(ValueError, match="reset"):
        env.render()
    with pytest.raises(gym.error.ResetNeeded):
        env.render()


# ------------------------------------------------------------------ functional env
def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


FUNCTIONAL_PARAM_CASES = [
    (lambda p: p.replace(sim={**p.sim, "HH_gNa": jnp.full(2, 0.12)}), ValueError,
     r"params.sim\['HH_gNa'\] must have shape \(13,\)"),  # issue
    (lambda p: p.replace(task=_without(p.task, "charge_penalty")), ValueError,
     "missing.*charge_penalty"),  # issue
    (lambda p: p.replace(task={**p.task, "bonus": jnp.float32(1)}), ValueError, "unknown.*bonus"),
    (lambda p: p.replace(sim=_without(p.sim, "radius")), ValueError, "missing.*radius"),
    (lambda p: p.replace(sim={**p.sim, "radius": -p.sim["radius"]}), ValueError, "radius"),
    (lambda p: p.replace(sim={**p.sim, "radius": p.sim["radius"] * np.nan}), ValueError,
     "radius"),
    (lambda p: p.replace(sim={**p.sim, "HH_gNa": p.sim["HH_gNa"] > 0}), TypeError, "HH_gNa"),
    (lambda p: p.replace(action_scale=jnp.complex64(1)), TypeError, "action_scale"),
    (lambda p: p.replace(action_scale=jnp.float32(-1)), ValueError, "action_scale"),
    (lambda p: p.replace(max_steps_in_episode=jnp.float32(10.5)), ValueError,
     "max_steps_in_episode"),
    (lambda p: p.replace(max_steps_in_episode=jnp.int32(0)), ValueError,
     "max_steps_in_episode"),
    (lambda p: p.replace(action_scale=jnp.ones(3)), ValueError, r"action_scale.*shape \(\)"),
    (lambda p: p.replace(task={**p.task, "target_low": jnp.float32(-50)}), ValueError,
     "target_low.*target_high"),
    (lambda p: p.replace(task={**p.task, "error_cap": jnp.float32(0)}), ValueError,
     "error_cap"),
    (lambda p: p.replace(task={**p.task, "target_high": jnp.float32(500)}), ValueError,
     "target_high"),
    (lambda p: {"sim": p.sim}, TypeError, "EnvParams"),
]


@pytest.mark.parametrize("change,error,match", FUNCTIONAL_PARAM_CASES)
def test_functional_reset_and_step_refuse_params(functional, change, error, match):
    env, params, state = functional
    bad = change(params)
    key = jax.random.key(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PhysicalRangeWarning)  # singular geometry warns first
        with pytest.raises(error, match=match):
            env.reset(key, bad)
        with pytest.raises(error, match=match):
            env.step(key, state, jnp.zeros(1), bad)


def test_traced_params_are_shape_checked(functional):
    env, params, _ = functional
    bad = params.replace(sim={**params.sim, "HH_gNa": jnp.full(2, 0.12)})
    with pytest.raises(ValueError, match=r"HH_gNa.*shape \(13,\)"):
        jax.jit(lambda p: env.reset(jax.random.key(0), p))(bad)
    with pytest.raises(ValueError, match=r"HH_gNa.*shape \(13,\)"):
        jax.vmap(lambda p: env.reset(jax.random.key(0), p))(
            jax.tree_util.tree_map(lambda x: jnp.stack([x, x]), bad))


FUNCTIONAL_ACTION_CASES = [
    (jnp.zeros(2), ValueError, r"action must have shape \(1,\)"),  # issue: "cannot reshape"
    (jnp.zeros((1, 1)), ValueError, r"action must have shape \(1,\)"),
    (jnp.array([0.5 + 1j]), TypeError, "action"),
    (jnp.array([True]), TypeError, "action"),
    (None, TypeError, "action"),
]


@pytest.mark.parametrize("action,error,match", FUNCTIONAL_ACTION_CASES)
def test_functional_step_refuses_actions(functional, action, error, match):
    env, params, state = functional
    with pytest.raises(error, match=match):
        env.step(jax.random.key(1), state, action, params)
    with pytest.raises(error, match=match):  # the unchecked hook too (trace-time check)
        jax.jit(env.step_env)(jax.random.key(1), state, action, params)


@pytest.mark.parametrize("key,error", [(0, TypeError), (np.zeros(3, np.uint32), TypeError),
                                       (jax.random.split(jax.random.key(0), 4), ValueError)])
def test_functional_keys(functional, key, error):
    env, params, state = functional
    with pytest.raises(error, match="key"):
        env.reset(key, params)
    with pytest.raises(error, match="key"):
        env.step(key, state, jnp.zeros(1), params)


@pytest.mark.parametrize("state", [None, "state", {"time": 0}])
def test_functional_state(functional, state):
    env, params, _ = functional
    with pytest.raises(TypeError, match="state must be the EnvState"):
        env.step(jax.random.key(0), state, jnp.zeros(1), params)


def test_swapped_state_and_action(functional):
    env, params, state = functional
    with pytest.raises(TypeError, match="state"):
        env.step(jax.random.key(0), jnp.zeros(1), state, params)


# ------------------------------------------------------------------ vector env rows
def test_vector_rows_are_validated(functional):
    env, params, _ = functional
    rows = params.replace(action_scale=jnp.array([0.5, -0.5], jnp.float32))
    with pytest.raises(ValueError, match="action_scale"):
        NeuronVectorEnv(env, 2, params=rows)
    gna = jnp.stack([params.sim["HH_gNa"], -params.sim["HH_gNa"]])
    with pytest.warns(PhysicalRangeWarning, match="HH_gNa"):  # finite: accepted (issue 17)
        NeuronVectorEnv(env, 2, params=params.replace(sim={**params.sim, "HH_gNa": gna}))
    radius = jnp.stack([params.sim["radius"], 0.0 * params.sim["radius"]])
    with pytest.raises(ValueError, match="radius must be > 0 to simulate"):  # and no warning
        NeuronVectorEnv(env, 2, params=params.replace(sim={**params.sim, "radius": radius}))
    with pytest.raises(TypeError, match="action_scale"):
        NeuronVectorEnv(env, 2, params=params.replace(action_scale=jnp.array([1j, 1j])))


# ------------------------------------------------------------------ evaluation, sharding
def test_evaluation_checks_its_arguments(functional):
    env, params, _ = functional
    bad = params.replace(sim={**params.sim, "capacitance": jnp.zeros(13)})
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="capacitance"):
        evaluate(env, bad, constant([0.0]), key, 2)
    with pytest.raises(TypeError, match="policy"):
        evaluate(env, params, None, key, 2)
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate(env, params, constant([0.0]), key, 0)
    with pytest.raises(ValueError, match="n_steps"):
        evaluate(env, params, constant([0.0]), key, 2, n_steps=-3)
    with pytest.raises(TypeError, match="key"):
        evaluate(env, params, constant([0.0]), 0, 2)
    with pytest.raises(ValueError, match="capacitance"):
        sharded_evaluate(env, bad, constant([0.0]), jax.random.split(key, 2))
    with pytest.raises(TypeError, match="policy"):
        sharded_evaluate(env, params, "policy", jax.random.split(key, 2))


# ------------------------------------------------------------------ adapters
def test_adapters_check_their_inputs(functional):
    from neuroenv.adapters import GymnaxLegacy, NeuronFuncEnv

    env, params, state = functional
    bad = params.replace(obs_noise_std=jnp.float32(-1))
    with pytest.raises(ValueError, match="obs_noise_std"):
        NeuronFuncEnv(env, bad)
    with pytest.raises(TypeError, match="env"):
        NeuronFuncEnv("VoltageTarget-v0")
    func_env = NeuronFuncEnv(env)
    with pytest.raises(TypeError, match="rng"):
        func_env.initial(0)
    with pytest.raises(ValueError, match="obs_noise_std"):
        func_env.initial(jax.random.key(0), bad)
    with pytest.raises(TypeError, match="state"):
        func_env.transition(None, jnp.zeros(1), jax.random.key(0))
    legacy = GymnaxLegacy(env)
    with pytest.raises(ValueError, match=r"action must have shape \(1,\)"):
        legacy.step(jax.random.key(0), state, jnp.zeros(2), params)
    with pytest.raises(ValueError, match="obs_noise_std"):
        legacy.reset(jax.random.key(0), bad)
