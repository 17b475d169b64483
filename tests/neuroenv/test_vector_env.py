"""The native vector env: rows equal single functional envs, autoreset modes, make_vec.

The wrappers of ``gymnasium.wrappers.vector`` and the comparison with ``SyncVectorEnv`` are in
``test_vector_wrappers.py``."""

from __future__ import annotations

import warnings

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from neuroenv.vector import NeuronVectorEnv, key_for_seed, make_vector_env

N = 4
# The batched (vmapped) program may round differently from the unbatched one in the last
# float32 bits of the stepped voltages (XLA fuses and vectorises them differently); resets
# are compared exactly, steps to this tolerance (mV) and 1e-6 relative.
STEP_ATOL = 1e-4
EPISODE = 3  # control periods per episode in the short-episode env
REGISTERED_ID = "neuroenv/VoltageTarget-v0"
TMP_ID = "neuroenv-test/VoltageTarget-v0"


@pytest.fixture(scope="module")
def vec():
    """Four rows of VoltageTarget-v0 with 3-period episodes (set through the env kwargs), in
    SAME_STEP mode: its rows follow the functional ``Environment.step`` exactly."""
    return make_vector_env(N, max_steps_in_episode=EPISODE, autoreset_mode="SameStep")


@pytest.fixture(scope="module")
def vec_next():
    """As ``vec`` in the default autoreset mode (NEXT_STEP)."""
    return make_vector_env(N, max_steps_in_episode=EPISODE)


def single_rollout(env, params, seed, actions):
    """A single functional env following the vector env's key chain for ``seed``, reset
    (SAME_STEP) from that chain when an episode ends, as a seedless gymnasium ``reset``."""
    key = key_for_seed(seed)
    key, k = jax.random.split(key)
    obs, state = env.reset(k, params)
    out = [(obs, None)]
    for a in actions:
        key, k = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = env.step(k, state, a, params)
        if terminated or truncated:  # replace the functional env's own reset
            key, k = jax.random.split(key)
            obs, state = env.reset(k, params)
        out.append((obs, (reward, terminated, truncated, info)))
    return out


def scale_of(vec):
    """The task's default action scale (nA per unit action)."""
    return float(vec.env.default_params.action_scale)


def targets(vec):
    """Each row's episode target (mV), from the task state on the device."""
    return np.asarray(vec._states.task["target"], np.float64)


def physical(vec, obs):
    """Observations in mV (the env's ``to_physical`` where observations are scaled)."""
    to_physical = getattr(vec.env, "to_physical", None)
    return np.asarray(obs if to_physical is None else to_physical(obs))


def close(actual, desired, msg):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(desired), rtol=1e-6,
                               atol=STEP_ATOL, err_msg=msg)


def actions_for(n_steps, n_envs=N, seed=0):
    """Random subthreshold actions (|I| <= 0.1 nA at the 0.5 nA scale): during a spike the
    last-bit differences of batched and unbatched float32 programs grow to ~1e-3 mV, below
    threshold they stay ~1e-5 mV."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.2, 0.2, (n_steps, n_envs, 1)).astype(np.float32)


def test_spaces_and_metadata(vec):
    assert vec.num_envs == N
    assert vec.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    box = vec.env.observation_space(vec.env.default_params)
    dim = box.shape[0]
    assert vec.single_observation_space == gym.spaces.Box(
        np.asarray(box.low, np.float32), np.asarray(box.high, np.float32), (dim,), np.float32)
    assert vec.single_action_space == gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    assert vec.observation_space.shape == (N, dim) and vec.observation_space.dtype == np.float32
    assert vec.action_space.shape == (N, 1) and vec.action_space.dtype == np.float32
    obs, info = vec.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (N, dim)
    assert vec.observation_space.contains(obs)
    # the single env's reset info, batched as SyncVectorEnv batches it
    assert sorted(info) == ["_action_scale_nA", "_target", "action_scale_nA", "target"]
    assert info["_target"].all() and info["_action_scale_nA"].all()
    assert info["target"].dtype == np.float64
    np.testing.assert_allclose(info["target"], targets(vec), rtol=1e-6)
    np.testing.assert_allclose(info["action_scale_nA"], scale_of(vec), rtol=1e-6)


def test_rows_equal_single_functional_envs(vec):
    """Row i after reset(seed=s) is the functional env seeded with key_for_seed(s + i), across
    two auto-resets (7 steps of 3-step episodes)."""
    seed, n_steps = 11, 7
    actions = actions_for(n_steps)
    obs, _ = vec.reset(seed=seed)
    rows = [obs]
    steps = []
    for a in actions:
        obs, reward, terminated, truncated, info = vec.step(a)
        rows.append(obs)
        steps.append((reward, terminated, truncated, info))
    for i in range(N):
        ref = single_rollout(vec.env, jax.tree_util.tree_map(lambda x, i=i: x[i], vec.params),
                             seed + i, actions[:, i])
        for t, (ref_obs, ref_step) in enumerate(ref):
            if ref_step is None:
                np.testing.assert_array_equal(rows[t][i], np.asarray(ref_obs), err_msg=f"row {i}")
                continue
            close(rows[t][i], ref_obs, f"row {i} t {t}")
            reward, terminated, truncated, info = steps[t - 1]
            ref_reward, ref_term, ref_trunc, ref_info = ref_step
            close(reward[i], ref_reward, f"reward row {i} t {t}")
            assert terminated[i] == bool(ref_term) and truncated[i] == bool(ref_trunc)
            assert info.get("_final_obs", np.zeros(N, bool))[i] == (truncated[i] or terminated[i])
            if truncated[i] or terminated[i]:
                close(info["final_obs"][i], ref_info["final_observation"], f"final row {i}")
                # the new episode's target entries are drawn exactly as the single env's
                np.testing.assert_array_equal(rows[t][i][1:], np.asarray(ref_obs)[1:])


def test_seed_list_and_unseeded_resets(vec):
    obs_a, _ = vec.reset(seed=[5, 6, 7, 8])
    obs_b, _ = vec.reset(seed=5)
    np.testing.assert_array_equal(obs_a, obs_b)
    again, _ = vec.reset()  # continues each row's key chain: new episodes
    assert not np.array_equal(again, obs_b)
    vec.reset(seed=5)
    np.testing.assert_array_equal(vec.reset()[0], again)  # ... deterministically
    # seeds crossing 2**32 take the single env's key_for_seed for every row
    big = 2**32 - 2
    obs_big, info_big = vec.reset(seed=big)
    for i in range(N):
        _, k = jax.random.split(key_for_seed(big + i))
        params_i = jax.tree_util.tree_map(lambda x: x[0], vec.params)
        np.testing.assert_array_equal(obs_big[i], np.asarray(vec.env.reset(k, params_i)[0]))
    assert len({float(x) for x in info_big["target"]}) == N
    with pytest.raises(ValueError, match="one seed per env"):
        vec.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        vec.reset(seed=-1)
    with pytest.raises(ValueError, match="unsupported reset options"):
        vec.reset(options={"target": -60.0})


def test_reset_mask_resets_only_those_rows(vec):
    vec.reset(seed=3)
    old = targets(vec)
    obs1, *_ = vec.step(np.full((N, 1), 0.5, np.float32))
    mask = np.array([True, False, True, False])
    obs2, info = vec.reset(options={"reset_mask": mask})
    np.testing.assert_array_equal(info["_target"], mask)
    np.testing.assert_allclose(info["target"][mask], targets(vec)[mask], rtol=1e-6)
    np.testing.assert_array_equal(obs2[~mask], obs1[~mask])
    assert np.all(targets(vec)[mask] != old[mask])  # fresh targets drawn
    np.testing.assert_array_equal(targets(vec)[~mask], old[~mask])
    assert np.asarray(vec._states.time).tolist() == [0, 1, 0, 1]


def test_same_step_autoreset(vec):
    obs0, _ = vec.reset(seed=21)
    actions = np.full((N, 1), 0.4, np.float32)
    for _ in range(EPISODE - 1):
        obs, reward, terminated, truncated, info = vec.step(actions)
        assert not (terminated.any() or truncated.any())
        assert "final_obs" not in info and info["_numerical_error"].all()
    last_obs, old = obs, targets(vec)
    obs, reward, terminated, truncated, info = vec.step(actions)
    assert truncated.all() and not terminated.any()
    assert np.all(np.isfinite(reward)) and reward.dtype == np.float32
    # final observations: gymnasium's SAME_STEP layout (object array + mask)
    assert info["_final_obs"].all() and info["final_obs"].dtype == object
    final = np.stack(info["final_obs"])
    assert final.dtype == np.float32 and final.shape == last_obs.shape
    assert not np.allclose(final[:, 0], last_obs[:, 0])  # one more period simulated
    assert info["_final_info"].all() and info["final_info"]["_current_nA"].all()
    np.testing.assert_allclose(info["final_info"]["current_nA"], 0.4 * scale_of(vec),
                               rtol=1e-6)
    # top-level step info belongs to running rows only (absent: all rows ended)
    assert "current_nA" not in info and "_current_nA" not in info
    assert info["_target"].all()  # ... finished rows carry their reset's info
    np.testing.assert_allclose(info["target"], targets(vec), rtol=1e-6)
    # the returned observation starts a new episode (fresh target, near rest)
    assert np.all(targets(vec) != old)
    assert np.all(np.abs(physical(vec, obs)[:, 0] + 65.0) < 6.0)
    assert np.asarray(vec._states.time).tolist() == [0] * N
    # ... which runs for a full episode again
    for _ in range(EPISODE - 1):
        assert not vec.step(actions)[3].any()
    assert vec.step(actions)[3].all()
    del obs0


def test_record_episode_statistics_wrapper(vec_next):
    """Regression: the default (then SAME_STEP) env gave lengths 3, 3, ..., 2, 2, ... here."""
    envs = gym.wrappers.vector.RecordEpisodeStatistics(vec_next)
    envs.reset(seed=0)
    for _ in range(2 * EPISODE + 1):  # two episodes and the reset step between them
        *_, info = envs.step(np.zeros((N, 1), np.float32))
    assert list(envs.length_queue) == [EPISODE] * (2 * N)


def test_autoreset_mode_default_and_per_instance(vec, vec_next):
    assert vec_next.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert vec_next.autoreset_mode is AutoresetMode.NEXT_STEP
    assert NeuronVectorEnv.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert vec.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP  # per instance
    assert vec.metadata["render_modes"] == []
    for value, mode in [("NextStep", AutoresetMode.NEXT_STEP),
                        ("same_step", AutoresetMode.SAME_STEP),
                        ("DISABLED", AutoresetMode.DISABLED),
                        (AutoresetMode.SAME_STEP, AutoresetMode.SAME_STEP)]:
        assert NeuronVectorEnv(vec.env, 2, autoreset_mode=value).metadata[
            "autoreset_mode"] is mode
    with pytest.raises(ValueError, match="autoreset_mode must be .*got 'sometimes'"):
        NeuronVectorEnv(vec.env, 2, autoreset_mode="sometimes")
    with pytest.raises(ValueError, match="autoreset_mode"):
        make_vector_env(2, autoreset_mode=1)


def test_next_step_autoreset(vec, vec_next):
    """NEXT_STEP: the step that ends returns the last observation (SAME_STEP's final_obs);
    the next step resets those rows whatever the action, with reward 0 and flags False."""
    actions = actions_for(EPISODE + 2, seed=3)
    obs_s, _ = vec.reset(seed=8)
    obs_n, _ = vec_next.reset(seed=8)
    old = targets(vec_next)
    np.testing.assert_array_equal(obs_n, obs_s)
    for t in range(EPISODE):
        obs_s, r_s, term_s, trunc_s, info_s = vec.step(actions[t])
        obs_n, r_n, term_n, trunc_n, info_n = vec_next.step(actions[t])
        # both modes run the same compiled step program on the same keys
        np.testing.assert_array_equal(r_n, r_s)
        np.testing.assert_array_equal(term_n, term_s)
        np.testing.assert_array_equal(trunc_n, trunc_s)
    assert trunc_n.all() and "final_obs" not in info_n
    np.testing.assert_array_equal(obs_n, np.stack(info_s["final_obs"]))
    np.testing.assert_array_equal(info_n["current_nA"], info_s["final_info"]["current_nA"])
    # the reset step: the action is ignored
    keys, states = vec_next._keys, vec_next._states  # immutable device arrays
    outs = []
    for a in (actions[EPISODE], np.ones((N, 1), np.float32)):
        vec_next._keys, vec_next._states, vec_next._ended = keys, states, np.ones(N, bool)
        outs.append(vec_next.step(a))
    for out in outs:
        obs, reward, terminated, truncated, info = out
        assert not (terminated.any() or truncated.any())
        np.testing.assert_array_equal(reward, np.zeros(N, np.float32))
        assert sorted(info) == ["_action_scale_nA", "_target", "action_scale_nA", "target"]
        np.testing.assert_allclose(info["target"], targets(vec_next), rtol=1e-6)
        assert np.all(targets(vec_next) != old)  # fresh targets
        np.testing.assert_array_equal(obs, outs[0][0])
    assert np.asarray(vec_next._states.time).tolist() == [0] * N
    # ... a seedless reset of each row's key chain
    for i in range(N):
        _, k_reset = jax.random.split(keys[i])
        params_i = jax.tree_util.tree_map(lambda x: x[0], vec_next.params)
        np.testing.assert_array_equal(outs[0][0][i], np.asarray(vec_next.env.reset(k_reset,
                                                                                   params_i)[0]))
    # then a full episode again
    for _ in range(EPISODE - 1):
        assert not vec_next.step(actions[0])[3].any()
    assert vec_next.step(actions[0])[3].all()


def test_next_step_reset_mask_cancels_the_pending_reset(vec_next):
    vec_next.reset(seed=2)
    for _ in range(EPISODE):
        done = vec_next.step(np.zeros((N, 1), np.float32))[3]
    assert done.all()
    mask = np.array([True, True, False, False])
    vec_next.reset(options={"reset_mask": mask})
    obs, reward, _, _, info = vec_next.step(np.zeros((N, 1), np.float32))
    np.testing.assert_array_equal(info["_current_nA"], mask)  # rows 0, 1 stepped
    np.testing.assert_array_equal(info["_target"], ~mask)  # rows 2, 3 reset
    assert np.asarray(vec_next._states.time).tolist() == [1, 1, 0, 0]


def test_disabled_autoreset(vec):
    envs = NeuronVectorEnv(vec.env, N, autoreset_mode=AutoresetMode.DISABLED)
    envs.reset(seed=0)
    for _ in range(EPISODE):
        obs, reward, terminated, truncated, info = envs.step(np.zeros((N, 1), np.float32))
    assert truncated.all() and "final_obs" not in info and "target" not in info
    with pytest.raises(ValueError, match=r"rows \[0, 1, 2, 3\] ended .*DISABLED"):
        envs.step(np.zeros((N, 1), np.float32))
    mask = np.array([True, False, True, True])
    envs.reset(options={"reset_mask": mask})
    with pytest.raises(ValueError, match=r"rows \[1\] ended"):
        envs.step(np.zeros((N, 1), np.float32))
    envs.reset(options={"reset_mask": ~mask})
    assert not envs.step(np.zeros((N, 1), np.float32))[3].any()


@pytest.mark.parametrize(
    "actions, match",
    [(np.zeros(N, np.float32), "shape"), (np.zeros((N - 1, 1)), "shape"),
     (np.zeros((N, 2)), "shape"), (np.zeros((1, N, 1)), "shape"),
     (np.full((N, 1), np.nan), "finite"), (np.full((N, 1), np.inf), "finite"),
     (np.full((N, 1), "a"), "real numbers")],
)
def test_invalid_actions_raise(vec, actions, match):
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        vec.step(actions)


def test_out_of_range_actions_are_clipped(vec):
    vec.reset(seed=1)
    info = vec.step(np.full((N, 1), 7.0))[4]
    np.testing.assert_allclose(info["current_nA"], scale_of(vec), rtol=1e-6)


def test_constructor_validates(vec):
    with pytest.raises(ValueError, match="num_envs must be a positive int"):
        NeuronVectorEnv(vec.env, 0)
    with pytest.raises(ValueError, match="max_episode_steps must be a positive int"):
        NeuronVectorEnv(vec.env, 2, max_episode_steps=0)
    with pytest.raises(ValueError, match="must have shape"):
        NeuronVectorEnv(vec.env, 2, params=vec.env.default_params.replace(
            action_scale=jnp.ones(3)))
    with pytest.raises(ValueError, match="structure"):
        NeuronVectorEnv(vec.env, 2, params={"action_scale": 1.0})
    with pytest.raises(ValueError, match="call reset"):
        NeuronVectorEnv(vec.env, 2).step(np.zeros((2, 1)))


def test_per_env_params_domain_randomisation(vec):
    params = vec.env.default_params
    scales = jnp.array([0.0, 0.1, 0.2, 0.3], jnp.float32)
    dr = NeuronVectorEnv(vec.env, N, params=params.replace(action_scale=scales))
    assert dr.params.action_scale.shape == (N,) and dr.params.sim["HH_gNa"].shape[0] == N
    dr.reset(seed=0)
    info = dr.step(np.ones((N, 1), np.float32))[4]
    np.testing.assert_allclose(info["current_nA"][:, 0], scales, rtol=1e-6)


def test_max_episode_steps_caps_the_episode(vec):
    capped = NeuronVectorEnv(vec.env, N, max_episode_steps=2)  # env's own limit is 3
    assert np.asarray(capped.params.max_steps_in_episode).tolist() == [2] * N
    capped.reset(seed=0)
    assert not capped.step(np.zeros((N, 1)))[3].any()
    assert capped.step(np.zeros((N, 1)))[3].all()
    longer = NeuronVectorEnv(vec.env, N, max_episode_steps=50)  # the env's limit stays
    assert np.asarray(longer.params.max_steps_in_episode).tolist() == [EPISODE] * N


def test_make_vec_entry_point_plumbing():
    """gymnasium.make_vec calls the entry point with num_envs, the spec's kwargs and
    max_episode_steps (under a temporary id with a time limit; nothing is compiled)."""
    if TMP_ID not in gym.registry:
        gym.register(TMP_ID, entry_point=None, max_episode_steps=200,
                     vector_entry_point="neuroenv.vector:make_vector_env",
                     kwargs={"task": "VoltageTarget-v0"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. make_vec's "missing AutoresetMode metadata"
        envs = gym.make_vec(TMP_ID, num_envs=3, vectorization_mode="vector_entry_point",
                            max_steps_in_episode=300)
    assert isinstance(envs, NeuronVectorEnv) and envs.num_envs == 3
    assert envs.spec.id == TMP_ID and envs.max_episode_steps == 200
    assert np.asarray(envs.params.max_steps_in_episode).tolist() == [200] * 3
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    # autoreset_mode is a make_vec keyword (it does not reach the task factory)
    envs = gym.make_vec(TMP_ID, num_envs=2, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP)
    assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP


def test_registered_id_make_vec_1024_envs():
    """gym.make_vec of the registered id: 1,024 rows x 50 random steps stay finite, and rows
    equal the gymnasium single env reset with seed + i and stepped with the same actions."""
    if REGISTERED_ID not in gym.registry:
        pytest.skip(f"{REGISTERED_ID} is not registered yet (the registration in"
                    " neuroenv/__init__.py lands with neuroenv.gym_env)")
    assert gym.spec(REGISTERED_ID).vector_entry_point == "neuroenv.vector:make_vector_env"
    n = 1024
    envs = gym.make_vec(REGISTERED_ID, num_envs=n, vectorization_mode="vector_entry_point")
    assert isinstance(envs, NeuronVectorEnv) and envs.num_envs == n
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    envs.reset(seed=0)
    envs.action_space.seed(0)
    for _ in range(50):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert np.all(np.isfinite(obs)) and np.all(np.isfinite(reward))
        assert not terminated.any() and not info["numerical_error"].any()
    assert obs.shape == envs.observation_space.shape and envs.observation_space.contains(obs)
    assert np.asarray(envs._states.time).tolist() == [50] * n

    seed, rows = 4, 4
    obs, _ = envs.reset(seed=seed)
    actions = actions_for(3, n_envs=n)
    steps = [envs.step(a) for a in actions]
    single = gym.make(REGISTERED_ID)
    for i in range(rows):
        o, _ = single.reset(seed=seed + i)
        np.testing.assert_array_equal(np.asarray(o), obs[i], err_msg=f"reset row {i}")
        for t, a in enumerate(actions[:, i]):
            o, r, term, trunc, _ = single.step(a)
            close(o, steps[t][0][i], f"row {i} t {t}")
            close(r, steps[t][1][i], f"reward row {i} t {t}")
            assert (term, trunc) == (steps[t][2][i], steps[t][3][i])
    single.close()
    envs.close()
