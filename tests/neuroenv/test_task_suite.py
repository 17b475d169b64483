"""Every registered task: gymnasium ``check_env``, ``render()`` frames, ``RecordVideo``."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import neuroenv
from neuroenv.registry import BASE_TASKS


def _warnings(record):
    return [str(w.message) for w in record if "WARN" in str(w.message)]


@pytest.mark.parametrize("name", sorted(BASE_TASKS))
def test_check_env_and_render(name):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        env = gym.make(f"neuroenv/{name}", render_mode="rgb_array")
        check_env(env.unwrapped)
    assert _warnings(record) == []
    env.reset(seed=0)
    first = env.render()
    for _ in range(5):
        env.step(env.action_space.sample())
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    # the trace moved on: the frame is not the reset frame, and not blank
    assert not np.array_equal(frame, first)
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) >= 3
    env.close()


def test_record_video_records_episodes(tmp_path):
    pytest.importorskip("moviepy")
    env = gym.wrappers.RecordVideo(
        gym.make("neuroenv/VoltageTarget-v0", render_mode="rgb_array", max_episode_steps=10),
        str(tmp_path / "videos"), episode_trigger=lambda i: True, disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    env.close()
    assert list((tmp_path / "videos").glob("*.mp4"))


def test_every_variant_is_registered():
    for base in BASE_TASKS:
        stem = base.removesuffix("-v0")
        for variant in ("Noisy", "Drift", "Randomized"):
            assert f"neuroenv/{stem}{variant}-v0" in neuroenv.registered_envs
