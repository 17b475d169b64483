"""The env's numerical guard: nothing non-finite reaches the agent, impossible states end the
episode (issue 13, section 2)."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.neuron_env import (
    NUMERICAL_ERROR_REWARD,
    V_LIMIT,
    plausible_states,
    state_masks,
)
from neuroenv.numerical_guard import _groups
from neuroenv.tasks.base import Task
from simulator import NumericalStabilityWarning


def _all_finite(*values) -> bool:
    return all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree_util.tree_leaves(values))


def test_desynchronize_fwd_euler_reproduction():
    """The issue's case: before the guard, rewards −1.01, −8.75e5, −6.67e11, −inf with
    terminated False and numerical_error False (|v| ≈ 3.8e21 mV, finite in float32)."""
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        env = gym.make("neuroenv/Desynchronize-v0", solver="fwd_euler")
        obs, _ = env.reset(seed=6)
    ended = False
    for a in (1.0, -1.0, -1.0, 1.0):
        obs, reward, terminated, truncated, info = env.step(np.array([a], np.float32))
        assert _all_finite(obs, reward, info["current_nA"])
        assert obs in env.observation_space
        if terminated:
            assert info["numerical_error"] is True and reward == NUMERICAL_ERROR_REWARD
            ended = True
            break
        assert info["numerical_error"] is False
    assert ended, "the blow-up did not end the episode"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_voltage_beyond_the_limit_ends_the_episode(dtype):
    """A finite but impossible voltage (2 V in one dendrite compartment, not recorded) is a
    numerical error in both precisions."""
    with jax.enable_x64(dtype == "float64"):
        env, params = neuroenv.make("VoltageTarget-v0")
        _, state = env.reset(jax.random.key(0), params)
        assert state.sim["v"].dtype == jnp.dtype(dtype)
        masks = state_masks(env._states0)
        assert bool(plausible_states(state.sim, masks))
        v = state.sim["v"].at[-1].set(2.0 * V_LIMIT)
        bad = state.replace(sim={**state.sim, "v": v})
        assert not bool(plausible_states(bad.sim, masks))
        obs, _, reward, terminated, info = env.step_env(jax.random.key(1), bad,
                                                        jnp.zeros(1), params)
        assert bool(info["numerical_error"]) and bool(terminated)
        assert float(reward) == NUMERICAL_ERROR_REWARD and _all_finite(obs)
        # the same state without the bad compartment steps normally
        obs, _, reward, terminated, info = env.step_env(jax.random.key(1), state,
                                                        jnp.zeros(1), params)
        assert not bool(info["numerical_error"]) and not bool(terminated)


class _OverflowingReward(Task):
    """A task whose reward overflows float32 from finite voltages: −(v − 1000)^16."""

    def step(self, task_state, trace, current, params, period_ms):
        reward = -jnp.mean((trace[:, 0] - 1000.0) ** 16)
        return task_state, reward.astype(jnp.float32), jnp.asarray(False)


def test_reward_overflow_from_finite_voltages_is_guarded():
    """(−1065)^16 ≈ 2.7e48 overflows float32: the guard checks the reward after the task."""
    from neuroenv.cells import soma_env

    env = soma_env(_OverflowingReward())
    params = env.default_params
    _, state = env.reset(jax.random.key(0), params)
    obs, next_state, reward, terminated, info = env.step_env(jax.random.key(1), state,
                                                             jnp.zeros(1), params)
    assert bool(info["numerical_error"]) and bool(terminated)
    assert float(reward) == NUMERICAL_ERROR_REWARD and _all_finite(obs, next_state.task)


def test_non_finite_action_in_the_functional_step():
    """A NaN action (the functional step cannot raise) is a numerical error: the info's
    current is 0, not NaN, and the observation is finite (±inf is clipped to ±1)."""
    env, params = neuroenv.make("VoltageTarget-v0")
    _, state = env.reset(jax.random.key(0), params)
    step = jax.jit(env.step)  # traced actions: the guard, not input validation, sees them
    for action in (jnp.array([jnp.nan]), jnp.array([-jnp.nan])):
        out = step(jax.random.key(1), state, action, params)
        obs, _, reward, terminated, truncated, info = out
        assert bool(info["numerical_error"]) and bool(terminated)
        assert _all_finite(obs, reward, info["current_nA"], info["final_observation"])
        np.testing.assert_array_equal(np.asarray(info["current_nA"]), [0.0])


def test_non_finite_action_scale_in_params():
    """A NaN ``action_scale`` traced inside a user's jit (where params cannot be validated)
    gives the same guarded step."""
    env, params = neuroenv.make("VoltageTarget-v0")
    _, state = env.reset(jax.random.key(0), params)
    bad = params.replace(action_scale=jnp.float32(jnp.nan))
    obs, _, reward, terminated, info = jax.jit(env.step_env)(jax.random.key(1), state,
                                                             jnp.ones(1), bad)
    assert bool(info["numerical_error"]) and _all_finite(obs, reward, info["current_nA"])


def test_guard_in_the_vector_env():
    """The vector env runs the same guarded step: row 0 (seed 6, the reproduction's chain)
    ends at its first step (|v| passes 1 V in the hub during it), all outputs finite."""
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        envs = gym.make_vec("neuroenv/Desynchronize-v0", num_envs=4,
                            vectorization_mode="vector_entry_point", solver="fwd_euler")
        envs.reset(seed=6)
    for t in range(4):
        actions = np.full((4, 1), (-1.0) ** t, np.float32)
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert _all_finite(obs, reward)
        if "numerical_error" in info:
            assert _all_finite(info["current_nA"])
            assert np.all(terminated[info["numerical_error"] & info["_numerical_error"]])
        if t == 0:
            assert info["numerical_error"][0] and terminated[0]
            assert reward[0] == NUMERICAL_ERROR_REWARD


@pytest.mark.parametrize("solver", ["bwd_euler", "exp_euler"])
def test_placeholder_states_are_not_errors(solver):
    """Desynchronize's hub has no HH channel: its HH gate entries are NaN placeholders, which
    the guard must not read as a blow-up; a NaN gate where the channel is is one."""
    env, params = neuroenv.make("Desynchronize-v0", solver=solver)
    _, state = env.reset(jax.random.key(0), params)
    assert np.isnan(np.asarray(state.sim["HH_m"])).any()  # the hub's placeholder
    out = env.step_env(jax.random.key(1), state, jnp.zeros(1), params)
    assert not bool(out[4]["numerical_error"]) and not bool(out[3])
    m = state.sim["HH_m"].at[0].set(jnp.nan)  # cell 0 carries HH
    out = env.step_env(jax.random.key(1), state.replace(sim={**state.sim, "HH_m": m}),
                       jnp.zeros(1), params)
    assert bool(out[4]["numerical_error"]) and _all_finite(out[0], out[2])


@pytest.mark.parametrize("n", [4, 40, 300])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_plausible_states_entry_by_entry(n, batch, precision):
    """Each entry's rule, with states of different lengths (compartments, synapses) read in
    groups (one, or several of at most 512 bytes for a small program):
    |v| ≤ V_LIMIT (NaN is not), another state finite where its mask holds, any value at a
    placeholder; a node-major batch gives one answer per entry."""
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    big = float(jnp.finfo(dtype).max)
    base = {"v": np.full((n, *batch), -65.0), "HH_m": np.full((n, *batch), 0.1),
            "syn_s": np.full((2, *batch), 0.5)}
    masks = {"HH_m": np.arange(n) != 3, "syn_s": np.ones(2, bool)}
    groups = _groups([jnp.zeros(a.shape, dtype) for a in base.values()])
    sizes = [a.size * jnp.dtype(dtype).itemsize for a in base.values()]
    assert [i for g in groups for i in g] == [0, 1, 2]
    if sum(sizes) > 2048:
        assert len(groups) == 1  # a large program: one reduction
    else:  # a small one: every buffer <= 512 bytes (or a single array)
        assert all(len(g) == 1 or sum(sizes[i] for i in g) <= 512 for g in groups)
    if (n, batch, precision) == (40, (), "float64"):
        assert groups == [[0], [1, 2]]

    def ok(name, index, value):
        """The answer for the (batch entry 1 of the) state with one entry replaced."""
        sim = {k: np.array(v) for k, v in base.items()}
        sim[name][(index, 1) if batch else index] = value
        out = np.asarray(plausible_states({k: jnp.asarray(v, dtype) for k, v in sim.items()},
                                          masks))
        assert out.shape == batch
        if not batch:
            return bool(out)
        assert out[0] and out[2]  # the other batch entries are untouched
        return bool(out[1])

    assert ok("v", 0, V_LIMIT) and ok("v", 3, -V_LIMIT)
    assert not ok("v", 1, 1.001 * V_LIMIT) and not ok("v", 2, np.nan)
    assert ok("HH_m", 0, big) and ok("HH_m", 3, np.nan) and ok("HH_m", 3, np.inf)
    assert not ok("HH_m", 0, np.inf) and not ok("HH_m", 2, np.nan)
    assert not ok("syn_s", 1, -np.inf) and ok("syn_s", 1, -big)
