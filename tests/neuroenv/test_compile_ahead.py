"""The first step program compiles on a thread during the first reset
(neuroenv.compile_ahead): the step then finds it compiled (one program, not two), the
outputs are those of a plain call, and a failing worker changes nothing."""

from __future__ import annotations

import threading

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv  # noqa: F401  (registers the ids)
from neuroenv.compile_ahead import AheadOfTime
from neuroenv.vector import NeuronVectorEnv

BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"  # JAX's monitoring event


@pytest.fixture
def compilations():
    """A list that records ``(thread name, program name)`` of each XLA compilation while
    the test runs (any thread: a worker that an earlier test left compiling may add its
    own, so tests look for their programs by name)."""
    seen = []

    def listener(event, duration, **kwargs):
        if event == BACKEND_COMPILE:
            seen.append((threading.current_thread().name, kwargs.get("fun_name", "?")))

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield seen
    jax.monitoring.unregister_event_duration_listener(listener)


@pytest.mark.parametrize("x64", [False, True])
def test_worker_fills_the_call_cache(x64, compilations):
    @jax.jit
    def f(x, a):
        return jnp.sin(x) * a[0]

    with jax.enable_x64(x64):
        dtype = jnp.float64 if x64 else jnp.float32
        ahead = AheadOfTime(f, (jax.ShapeDtypeStruct((5,), dtype),
                                jax.ShapeDtypeStruct((1,), jnp.float32)))
        ahead.wait()
        worker = ("neuroenv-compile-ahead", "jit(f)")
        assert compilations.count(worker) == 1
        out = f(jnp.arange(5, dtype=dtype), np.ones(1, np.float32))
        assert [c for c in compilations if c[1] == "jit(f)"] == [worker]
        assert out.dtype == dtype  # the call found the worker's program


def test_a_failing_worker_is_silent_and_the_call_reports():
    @jax.jit
    def f(x):
        return x.reshape(3)  # impossible for 5 elements

    ahead = AheadOfTime(f, (jax.ShapeDtypeStruct((5,), jnp.float32),))
    ahead.wait()
    with pytest.raises(TypeError):
        f(jnp.zeros(5))


@pytest.mark.parametrize("options", [None, {"params": {"action_scale": 0.05}}])
def test_first_step_uses_the_program_compiled_ahead(options, compilations):
    # A configuration of its own: a fresh CompiledCore (cores are shared per configuration,
    # and the suite drops JAX's compiled programs after each module).
    kwargs = {"obs_noise_std": 0.0, "window": 3}
    env = gym.make("neuroenv/VoltageTarget-v0", **kwargs).unwrapped
    obs, _ = env.reset(seed=3, options=options)
    core = env._core
    variant = "default" if options is None else "with"
    assert variant in core._ahead
    action = np.full(env.action_space.shape, 0.4, np.float32)
    core._ahead[variant].wait()
    before = len(compilations)
    out = env.step(action)
    # the step program (jit_cache's step_default lambda or step_with's `step`) was compiled
    # ahead, not in the call
    name = "jit(<lambda>)" if options is None else "jit(step)"
    assert ("MainThread", name) not in compilations[before:]
    assert ("neuroenv-compile-ahead", name) in compilations[:before]
    # a second env of the configuration (sharing the programs) continues identically
    replay = gym.make("neuroenv/VoltageTarget-v0", **kwargs).unwrapped
    replay.reset(seed=3, options=options)
    np.testing.assert_array_equal(replay.step(action)[0], out[0])
    assert replay.step(action)[1] == env.step(action)[1]


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_vector_env_first_step_compiled_ahead(mode, compilations):
    env, _ = neuroenv.make("VoltageTarget-v0", window=2)
    vec = NeuronVectorEnv(env, num_envs=3, autoreset_mode=mode)
    vec.reset(seed=0)
    vec._ahead.wait()
    assert ("neuroenv-compile-ahead", "jit(batch_step)") in compilations
    before = len(compilations)
    obs, *_ = vec.step(np.zeros(vec.action_space.shape, np.float32))
    assert not any("batch_step" in name for _, name in compilations[before:])  # compiled
    assert np.all(np.isfinite(obs))
