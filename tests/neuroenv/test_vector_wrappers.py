"""Every vector wrapper of ``gymnasium.wrappers.vector`` on the native vector env.

Each wrapper that applies to a Box-observation, Box-action env runs over
``NeuronVectorEnv`` and over gymnasium's ``SyncVectorEnv`` of ``NeuronGymEnv`` (the reference:
gymnasium's own vectorisation of the single env), in every autoreset mode the wrapper accepts,
with the same seeds and actions over episodes that end; observations, rewards, flags and
infos must agree at every step. ``RecordEpisodeStatistics`` must count VoltageTarget-v0's
200-step episodes as 200 steps.
"""

from __future__ import annotations

import gymnasium as gym
import gymnasium.wrappers.vector as vw
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from neuroenv.gym_env import NeuronGymEnv
from neuroenv.vector import NeuronVectorEnv, make_vector_env

TASK = "VoltageTarget-v0"
N = 3
EPISODE = 4  # control periods per episode in the short-episode envs
N_STEPS = 3 * EPISODE + 3  # three episodes end (NEXT_STEP: plus their reset steps)
SEED = 7
# The vmapped batch step may round differently from the single env's step in the last
# float32 bits of the voltages (XLA fuses the two programs differently). Measured over these
# rollouts (subthreshold actions): max |difference| 1.5e-5 in observations, 5.9e-5 in rewards
# and 6.6e-5 in info values (e.g. episode returns), 1.2e-4 in rewards after the x2 reward
# transforms, 3.7e-5 after NormalizeObservation; 5e-4 leaves a 4x margin.
ATOL, RTOL = 5e-4, 1e-5
MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


def _double(x):
    return 2.0 * x + 1.0


def _half(a):
    return 0.5 * a


def _wrappers(box: gym.spaces.Box, single_act: gym.spaces.Box):
    """name -> constructor of the wrapped vector env."""
    obs_out = gym.spaces.Box(2.0 * box.low + 1.0, 2.0 * box.high + 1.0, box.shape, box.dtype)
    return {
        "RecordEpisodeStatistics": vw.RecordEpisodeStatistics,
        "NormalizeObservation": vw.NormalizeObservation,
        "NormalizeReward": lambda e: vw.NormalizeReward(e, gamma=0.9),
        "TransformObservation": lambda e: vw.TransformObservation(
            e, _double, single_observation_space=obs_out),
        "VectorizeTransformObservation": lambda e: vw.VectorizeTransformObservation(
            e, gym.wrappers.TransformObservation, func=_double, observation_space=obs_out),
        "FlattenObservation": vw.FlattenObservation,
        "ReshapeObservation": lambda e: vw.ReshapeObservation(e, (box.shape[0], 1)),
        "RescaleObservation": lambda e: vw.RescaleObservation(e, -1.0, 1.0),
        "DtypeObservation": lambda e: vw.DtypeObservation(e, np.float64),
        "TransformAction": lambda e: vw.TransformAction(e, _half,
                                                        single_action_space=single_act),
        "VectorizeTransformAction": lambda e: vw.VectorizeTransformAction(
            e, gym.wrappers.TransformAction, func=_half, action_space=single_act),
        "ClipAction": vw.ClipAction,
        "RescaleAction": lambda e: vw.RescaleAction(e, -2.0, 2.0),
        "TransformReward": lambda e: vw.TransformReward(e, _double),
        "VectorizeTransformReward": lambda e: vw.VectorizeTransformReward(
            e, gym.wrappers.TransformReward, func=_double),
        "ClipReward": lambda e: vw.ClipReward(e, min_reward=-0.05, max_reward=0.0),
        "DictInfoToList": vw.DictInfoToList,
    }


#: wrappers of gymnasium.wrappers.vector that do not apply to these envs, and why.
NOT_APPLICABLE = {
    "FilterObservation": "needs Dict or Tuple observations",
    "GrayscaleObservation": "needs RGB image observations",
    "ResizeObservation": "needs image observations",
    "RecordVideo": "needs a vector env with render_mode (NeuronVectorEnv renders nothing)",
    "HumanRendering": "needs a vector env with render_mode (NeuronVectorEnv renders nothing)",
    "ArrayConversion": "converts between array frameworks; the env is NumPy in and out",
    "JaxToNumpy": "for envs that return JAX arrays; this one returns NumPy arrays",
    "JaxToTorch": "for envs that return JAX arrays; this one returns NumPy arrays",
    "NumpyToTorch": "needs torch (not a neuroenv dependency)",
}


def _single_env():
    env = NeuronGymEnv(TASK, max_steps_in_episode=EPISODE)
    # SyncVectorEnv writes its autoreset_mode into the first env's metadata, which is the
    # class attribute: give each instance its own dict so that the two modes' references
    # (and other tests) do not overwrite each other's.
    env.metadata = dict(env.metadata)
    return env


@pytest.fixture(scope="module")
def base_envs():
    """mode -> (NeuronVectorEnv, SyncVectorEnv of NeuronGymEnv), EPISODE-step episodes."""
    out = {}
    for mode in MODES:
        ours = make_vector_env(N, max_steps_in_episode=EPISODE, autoreset_mode=mode)
        ref = SyncVectorEnv([_single_env] * N, autoreset_mode=mode)
        out[mode] = (ours, ref)
    return out


def _assert_same(actual, desired, where: str) -> None:
    """Recursive comparison of step outputs (floats within ATOL/RTOL, the rest exactly)."""
    if isinstance(desired, dict):
        assert isinstance(actual, dict), where
        keys = set(desired) - ({"t"} if where.endswith("episode") else set())  # wall time
        assert set(actual) - {"t"} == keys - {"t"}, f"{where}: {sorted(actual)} vs {keys}"
        for k in keys:
            _assert_same(actual[k], desired[k], f"{where}.{k}")
    elif isinstance(desired, list | tuple):
        assert len(actual) == len(desired), where
        for i, (a, d) in enumerate(zip(actual, desired, strict=True)):
            _assert_same(a, d, f"{where}[{i}]")
    elif desired is None:
        assert actual is None, where
    else:
        a, d = np.asarray(actual), np.asarray(desired)
        if d.dtype == object:
            assert a.dtype == object and a.shape == d.shape, where
            for i, (x, y) in enumerate(zip(a, d, strict=True)):
                _assert_same(x, y, f"{where}[{i}]")
        elif np.issubdtype(d.dtype, np.floating):
            assert a.shape == d.shape, f"{where}: {a.shape} vs {d.shape}"
            np.testing.assert_allclose(a, d, rtol=RTOL, atol=ATOL, err_msg=where)
        else:
            assert a.dtype == d.dtype, f"{where}: {a.dtype} vs {d.dtype}"
            np.testing.assert_array_equal(a, d, err_msg=where)


def _rollout(envs, actions):
    out = [envs.reset(seed=SEED)]
    # copies: gymnasium's VectorizeTransformAction writes its output into the given array
    out += [envs.step(a.copy()) for a in actions]
    return out


def _actions(space: gym.spaces.Box) -> np.ndarray:
    """N_STEPS random actions in the middle 30 % of the wrapped action space: the env's
    current stays below spike threshold, where the batched and single programs differ by
    ~1e-5 (during spikes by up to 7e-4)."""
    rng = np.random.default_rng(0)
    low, high = float(space.low.min()), float(space.high.max())
    if not (np.isfinite(low) and np.isfinite(high)):  # ClipAction's unbounded space
        low, high = -1.0, 1.0
    mid, half = (low + high) / 2, (high - low) / 2
    return (mid + rng.uniform(-0.3, 0.3, (N_STEPS, *space.shape)) * half).astype(np.float32)


def test_every_gymnasium_vector_wrapper_is_covered(base_envs):
    ours = base_envs[AutoresetMode.NEXT_STEP][0]
    tested = set(_wrappers(ours.single_observation_space, ours.single_action_space))
    assert tested.isdisjoint(NOT_APPLICABLE)
    assert set(vw.__all__) == tested | set(NOT_APPLICABLE)


# gymnasium's RescaleAction/RescaleObservation/DtypeObservation build float64 bounds for
# our float32 spaces and warn about their own casts (box.py); nothing of neuroenv's.
@pytest.mark.filterwarnings("ignore:.*precision lowered by casting to float32:UserWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("name", sorted(_wrappers(
    gym.spaces.Box(-1.0, 1.0, (2,), np.float32), gym.spaces.Box(-1.0, 1.0, (1,), np.float32))))
def test_wrapper_matches_sync_vector_env(base_envs, name, mode):
    """The wrapper over NeuronVectorEnv equals it over SyncVectorEnv(NeuronGymEnv) step for
    step, in each autoreset mode gymnasium supports for it (else both refuse the env)."""
    ours, ref = base_envs[mode]
    make = _wrappers(ours.single_observation_space, ours.single_action_space)[name]
    try:
        w_ref = make(ref)
    except (AssertionError, ValueError) as err:
        # gymnasium refuses this mode for this wrapper (every observation wrapper in SAME_STEP:
        # 1.3 asserts, 1.4 raises ValueError); it supports NEXT_STEP for all of them
        assert mode is not AutoresetMode.NEXT_STEP
        with pytest.raises(type(err)):
            make(ours)
        return
    w_ours = make(ours)
    assert w_ours.metadata["autoreset_mode"] is mode
    assert w_ours.single_observation_space == w_ref.single_observation_space
    assert w_ours.single_action_space == w_ref.single_action_space
    actions = _actions(w_ours.action_space)
    got, want = _rollout(w_ours, actions), _rollout(w_ref, actions)
    ends = 0
    for t, (g, w) in enumerate(zip(got, want, strict=True)):
        _assert_same(g, w, f"{name} {mode.name} t={t}")
        if len(w) == 5:
            ends += int(np.sum(w[2] | w[3]))
    assert ends == 3 * N  # episodes ended, so the autoreset paths ran
    if name == "RecordEpisodeStatistics" and mode is AutoresetMode.NEXT_STEP:
        assert list(w_ours.length_queue) == [EPISODE] * (3 * N)


def test_record_episode_statistics_counts_200_steps():
    """Regression: VoltageTarget-v0's episodes are 200 steps; with the former SAME_STEP
    default the wrapper counted 200, then 199 for every later episode."""
    envs = vw.RecordEpisodeStatistics(gym.make_vec(f"neuroenv/{TASK}", num_envs=2))
    assert isinstance(envs.unwrapped, NeuronVectorEnv)
    envs.reset(seed=0)
    zeros = np.zeros((2, 1), np.float32)
    for _ in range(3 * 200 + 2):  # three episodes and the two reset steps between them
        *_, info = envs.step(zeros)
    assert list(envs.length_queue) == [200] * 6
    np.testing.assert_array_equal(info["episode"]["l"], [200, 200])
    envs.close()


def test_normalize_and_transform_observation_on_make_vec():
    """Regression: these raised a bare AssertionError on ``gym.make_vec(id, n)``."""
    envs = gym.make_vec(f"neuroenv/{TASK}", num_envs=2, max_steps_in_episode=EPISODE)
    envs = vw.TransformObservation(vw.NormalizeObservation(envs), lambda o: 3.0 * o)
    obs, _ = envs.reset(seed=1)
    for _ in range(2 * EPISODE + 1):
        obs, *_ = envs.step(np.zeros((2, 1), np.float32))
    assert obs.shape == (2, envs.single_observation_space.shape[0])
    assert np.all(np.isfinite(obs))
    envs.close()
