"""The gymnasium env runs its programs inline (JAX's CPU async dispatch off) when it starts
JAX's backend, unless told not to (``neuroenv.cpu_dispatch``); the numbers are the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from neuroenv.gym_env import NeuronGymEnv

CHILD = """
import json, sys
import numpy as np
if sys.argv[2] == "jax-first":
    import jax.numpy as jnp
    jnp.ones(3).block_until_ready()  # the user's own JAX work starts the backend first
import gymnasium as gym
import jax
import neuroenv
env = gym.make("neuroenv/VoltageTarget-v0", **json.loads(sys.argv[1]))
obs, _ = env.reset(seed=3)
rng = np.random.default_rng(0)
trace = [obs.tolist()]
for _ in range(5):
    obs, reward, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    trace.append(obs.tolist() + [reward])
print(json.dumps({"async": jax.config.values["jax_cpu_enable_async_dispatch"],
                  "trace": trace}))
"""


def _child(tmp_path, kwargs: dict, order: str = "env-first", **env_vars) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JAX_CPU_ENABLE_ASYNC_DISPATCH"}
    env["NEUROENV_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(env_vars)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), json.dumps(kwargs),
                           order], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_inline_by_default_and_left_alone_when_asked(tmp_path):
    default = _child(tmp_path, {})
    assert default["async"] is False  # the env switched async dispatch off
    opted_out = _child(tmp_path, {"inline_dispatch": False})
    assert opted_out["async"] is True
    by_variable = _child(tmp_path, {}, JAX_CPU_ENABLE_ASYNC_DISPATCH="1")
    assert by_variable["async"] is True  # the user's environment variable wins
    started = _child(tmp_path, {}, "jax-first")
    assert started["async"] is True  # a running backend is never touched
    # Inline or not, the same programs compute the same numbers (bitwise).
    for other in (opted_out, by_variable, started):
        assert other["trace"] == default["trace"]


@pytest.mark.parametrize("value", [1, "yes", None])
def test_inline_dispatch_must_be_a_bool(value):
    with pytest.raises(TypeError, match="inline_dispatch must be a bool"):
        NeuronGymEnv("VoltageTarget-v0", inline_dispatch=value)
