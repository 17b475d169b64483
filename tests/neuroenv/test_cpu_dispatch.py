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
    # Inline or not, the same programs compute the same numbers (bitwise).
    assert opted_out["trace"] == default["trace"]


@pytest.mark.slow  # two more JAX-starting subprocesses (~5-10 s each on 2 busy cores)
def test_users_variable_and_running_backend_are_left_alone(tmp_path):
    default = _child(tmp_path, {})
    by_variable = _child(tmp_path, {}, JAX_CPU_ENABLE_ASYNC_DISPATCH="1")
    assert by_variable["async"] is True  # the user's environment variable wins
    started = _child(tmp_path, {}, "jax-first")
    assert started["async"] is True  # a running backend is never touched
    for other in (by_variable, started):
        assert other["trace"] == default["trace"]


@pytest.mark.parametrize("value", [1, "yes", None])
def test_inline_dispatch_must_be_a_bool(value):
    with pytest.raises(TypeError, match="inline_dispatch must be a bool"):
        NeuronGymEnv("VoltageTarget-v0", inline_dispatch=value)


WORKERS = """
import json, multiprocessing, os, sys

def first_reset(kwargs):
    import gymnasium as gym
    import neuroenv  # noqa: F401
    env = gym.make("neuroenv/VoltageTarget-v0", **kwargs)
    env.reset(seed=0)
    return os.environ.get("PJRT_NPROC")

if __name__ == "__main__":
    kwargs = json.loads(sys.argv[1])
    ctx = multiprocessing.get_context(sys.argv[2])
    with ctx.Pool(1) as pool:
        in_worker = pool.apply(first_reset, (kwargs,))
    print(json.dumps({"worker": in_worker, "main": first_reset(kwargs)}))
"""


def _workers(tmp_path, context: str, kwargs: dict, **env_vars) -> dict:
    """``PJRT_NPROC`` as seen by a ``context`` pool worker and by the main process after
    each built a VoltageTarget gym env with ``kwargs`` and reset it."""
    script = tmp_path / "workers.py"
    script.write_text(textwrap.dedent(WORKERS))
    env = {k: v for k, v in os.environ.items() if k != "PJRT_NPROC"}
    env["NEUROENV_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(env_vars)
    proc = subprocess.run([sys.executable, str(script), json.dumps(kwargs), context],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_one_xla_thread_in_vector_env_workers(tmp_path, context):
    """A multiprocessing child (a vector env's worker) starts XLA's CPU pool at one thread;
    the user's own process is left alone."""
    assert _workers(tmp_path, context, {}) == {"worker": "1", "main": None}


@pytest.mark.slow  # two JAX-starting subprocesses with a pool each (~8-13 s each, 2 cores)
def test_users_pjrt_nproc_and_inline_dispatch_false_are_left_alone(tmp_path):
    """A PJRT_NPROC the user set and inline_dispatch=False are left alone (the start method
    does not enter these branches: fork only)."""
    assert _workers(tmp_path, "fork", {}, PJRT_NPROC="2") == {"worker": "2", "main": "2"}
    assert _workers(tmp_path, "fork", {"inline_dispatch": False}) == {"worker": None,
                                                                      "main": None}
