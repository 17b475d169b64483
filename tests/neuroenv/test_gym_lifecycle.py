"""Process and object lifecycle of the gymnasium env: building it does not start JAX (so
``AsyncVectorEnv``'s default fork context works), a fork after JAX started gives a clear
error instead of a hang, copies and pickles carry the episode, and the compilation cache."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap

import gymnasium as gym
import jax
import numpy as np
import pytest

import neuroenv
from neuroenv import compilation_cache, space_probe
from neuroenv.gym_env import NeuronGymEnv
from neuroenv.registry import BASE_TASKS

VT = "neuroenv/VoltageTarget-v0"
#: Wall-clock limit of a child process; a hang (the bug) fails the test instead of CI.
CHILD_TIMEOUT_S = 600


def run_child(code: str, tmp_path, **env_vars) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with neuroenv's caches under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAX_COMPILATION_CACHE_DIR", "NEUROENV_COMPILATION_CACHE",
                        "XDG_CACHE_HOME")}
    env["NEUROENV_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(env_vars)
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                              capture_output=True, text=True, env=env,
                              timeout=CHILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"child process hung (killed after {CHILD_TIMEOUT_S} s): {err.stderr!r}")


# ------------------------------------------------------------------ E.1: no JAX at build time
MAKE_WITHOUT_JAX = """
import json, sys
import gymnasium as gym
import neuroenv
from neuroenv.fork_guard import backend_started
started = {"import": backend_started()}
for name in sys.argv[1:] or %r:
    env = gym.make("neuroenv/" + name)
    started[name] = backend_started()
    env.close()
print(json.dumps(started))
"""


def test_import_and_make_do_not_start_jax(tmp_path):
    code = MAKE_WITHOUT_JAX % (list(BASE_TASKS),)
    for attempt in ("probe", "disk cache"):  # the second process reads the stored spaces
        proc = run_child(code, tmp_path)
        assert proc.returncode == 0, proc.stderr
        started = json.loads(proc.stdout.strip().splitlines()[-1])
        assert not any(started.values()), (attempt, started)
    # One entry per task (more if another job edited the package between the two runs: the
    # fingerprint then changes and the second run probes again).
    assert len(list((tmp_path / "cache" / "spaces").glob("*.json"))) >= len(BASE_TASKS)


def test_spaces_on_disk_round_trip_and_go_stale(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROENV_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NEUROENV_COMPILATION_CACHE", raising=False)
    monkeypatch.setattr(space_probe, "_cache", {})
    env, _ = neuroenv.make("SpikeTiming-v0")
    bounds = space_probe.bounds_of(env)
    assert space_probe.cached("SpikeTiming-v0", {}) is None
    space_probe.remember("SpikeTiming-v0", {}, bounds)
    space_probe._cache.clear()
    for got, want in zip(space_probe.cached("SpikeTiming-v0", {}), bounds, strict=True):
        assert got[2] == want[2]
        np.testing.assert_array_equal(got[0], want[0])  # exact through JSON
        np.testing.assert_array_equal(got[1], want[1])
        assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
    space_probe._cache.clear()
    assert space_probe.cached("SpikeTiming-v0", {"window": 2}) is None  # other kwargs
    monkeypatch.setattr(space_probe.disk_cache, "fingerprint", lambda: "an edited package")
    assert space_probe.cached("SpikeTiming-v0", {}) is None  # stale: never read
    monkeypatch.setenv("NEUROENV_COMPILATION_CACHE", "0")
    space_probe.remember("SpikeTiming-v0", {"window": 3}, bounds)
    space_probe._cache.clear()
    assert space_probe.cached("SpikeTiming-v0", {"window": 3}) is None  # switched off


PROBE = """
import json
from neuroenv import space_probe
from neuroenv.fork_guard import backend_started
out = []
for name, kwargs in %r:
    bounds = space_probe.probe(name, kwargs)  # built in a forked child
    out.append([[low.tolist(), high.tolist(), dtype.str] for low, high, dtype in bounds])
try:
    space_probe.probe("VoltageTarget-v0", {"window": 0})
except ValueError as err:
    out.append(str(err))
print(json.dumps({"bounds": out, "started": backend_started()}))
"""
PROBED = [("VoltageTarget-v0", {}), ("VoltageTarget-v0", {"window": 3}),
          ("Desynchronize-v0", {}), ("SpikeTiming-v0", {"obs_units": "physical"})]


def test_probed_spaces_equal_the_built_env(tmp_path):
    proc = run_child(PROBE % (PROBED,), tmp_path)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not res["started"]
    *probed, error = res["bounds"]
    assert "window" in error  # the child's ValueError, raised again in the parent
    for (name, kwargs), bounds in zip(PROBED, probed, strict=True):
        env, _ = neuroenv.make(name, **kwargs)
        for (low, high, dtype), box in zip(bounds, (env.observation_space(),
                                                    env.action_space()), strict=True):
            assert np.dtype(dtype) == box.dtype
            np.testing.assert_array_equal(np.asarray(low, dtype), box.low)
            np.testing.assert_array_equal(np.asarray(high, dtype), box.high)


MEANWHILE = """
import json, sys
from neuroenv import space_probe
from neuroenv.fork_guard import backend_started
from neuroenv.registry import first_reset_imports
before = "scipy.signal" in sys.modules
space_probe.probe("VoltageTarget-v0", {}, ("scipy.signal", "no_such_module_here"))
print(json.dumps({"before": before, "after": "scipy.signal" in sys.modules,
                  "started": backend_started(),
                  "declared": {t: first_reset_imports(t) for t in sys.argv[1:]}}))
"""

FIRST_RESET = """
import sys
import jax
import neuroenv
env, params = neuroenv.make(sys.argv[1])
before = "scipy.signal" in sys.modules
env.reset(jax.random.key(0), params)
print(before, "scipy.signal" in sys.modules)
"""


def test_probe_imports_what_the_first_reset_needs(tmp_path):
    """While its child builds the env, the probe imports the modules the task's first reset
    needs (a missing one is skipped) and starts no JAX; the declaration is truthful: a cold
    first reset of a declaring task imports ``scipy.signal`` itself."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(MEANWHILE),
                           "BetaSuppression-v0", "BasalGangliaDBSNoisy-v0",
                           "VoltageTarget-v0"], capture_output=True, text=True,
                          env={**os.environ, "NEUROENV_CACHE_DIR": str(tmp_path / "c1")},
                          timeout=CHILD_TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res == {"before": False, "after": True, "started": False,
                   "declared": {"BetaSuppression-v0": ["scipy.signal"],
                                "BasalGangliaDBSNoisy-v0": ["scipy.signal"],
                                "VoltageTarget-v0": []}}
    # The declaration is truthful: a cold first reset (no stored filter design) imports it.
    for task in ("BetaSuppression-v0", "BasalGangliaDBS-v0"):
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(FIRST_RESET), task],
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                              env={**os.environ, "NEUROENV_CACHE_DIR": str(tmp_path / task)},
                              check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == "False True"


def test_probe_refuses_once_jax_started():
    jax.numpy.ones(1).block_until_ready()  # this test process has JAX running
    with pytest.raises(space_probe.ProbeFailed, match="already started"):
        space_probe.probe("VoltageTarget-v0", {})


def test_constructor_validates_arguments():
    with pytest.raises(ValueError, match="max_episode_steps"):
        NeuronGymEnv(max_episode_steps=0)
    with pytest.raises(TypeError, match="task"):
        NeuronGymEnv(task=3)


ASYNC_DEFAULT_CONTEXT = """
import json
import numpy as np
import gymnasium as gym
import neuroenv
from neuroenv.fork_guard import backend_started
vec = gym.make_vec("neuroenv/VoltageTarget-v0", num_envs=2, vectorization_mode="async")
assert not backend_started()
obs, _ = vec.reset(seed=0)
out = vec.step(np.full((2, 1), 0.5, np.float32))
vec.close()
# The same episodes in this process (the workers got seeds 0 and 1).
ref = []
for seed in (0, 1):
    env = gym.make("neuroenv/VoltageTarget-v0")
    o0, _ = env.reset(seed=seed)
    ref.append((o0, env.step(np.full(1, 0.5, np.float32))))
np.testing.assert_array_equal(obs, np.stack([r[0] for r in ref]))
np.testing.assert_array_equal(out[0], np.stack([r[1][0] for r in ref]))
np.testing.assert_array_equal(out[1], np.array([r[1][1] for r in ref], np.float32))
print("OK")
"""


def test_async_make_vec_with_the_default_context(tmp_path):
    """Used to hang forever in reset (the parent started JAX, then forked)."""
    proc = run_child(ASYNC_DEFAULT_CONTEXT, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK")


FORK_AFTER_JAX = """
import jax.numpy as jnp
import numpy as np
import gymnasium as gym
import neuroenv
jnp.ones(3).block_until_ready()  # the parent starts JAX before forking its workers
vec = gym.make_vec("neuroenv/VoltageTarget-v0", num_envs=2, vectorization_mode="async")
try:
    vec.reset(seed=0)
except RuntimeError as err:
    print("RAISED", "spawn" in str(err) and "forked" in str(err))
else:
    print("NO ERROR")
vec.close(terminate=True)
"""


def test_fork_after_jax_started_raises_instead_of_hanging(tmp_path):
    proc = run_child(FORK_AFTER_JAX, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "RAISED True" in proc.stdout, (proc.stdout, proc.stderr[-2000:])


SPAWN_AFTER_JAX = """
import jax.numpy as jnp
import numpy as np
import gymnasium as gym
import neuroenv
jnp.ones(3).block_until_ready()
vec = gym.make_vec("neuroenv/VoltageTarget-v0", num_envs=2, vectorization_mode="async",
                   vector_kwargs={"context": "spawn"})
obs, _ = vec.reset(seed=0)
vec.step(np.zeros((2, 1), np.float32))
vec.close()
print("OK", obs.shape)
"""


@pytest.mark.slow  # two spawned workers re-import JAX and neuroenv (18 s measured, busy cores)
def test_spawn_context_after_jax_started(tmp_path):
    proc = run_child(SPAWN_AFTER_JAX, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "OK (2, 3)" in proc.stdout


# ------------------------------------------------------------------ E.4: copies carry the episode
def _roll(env, actions):
    return [env.step(np.array([a], np.float32)) for a in actions]


def _assert_same(a, b):
    for (oa, ra, ta, ua, ia), (ob, rb, tb, ub, ib) in zip(a, b, strict=True):
        np.testing.assert_array_equal(oa, ob)  # same program, same inputs: bitwise equal
        assert (ra, ta, ua) == (rb, tb, ub)
        np.testing.assert_array_equal(ia["current_nA"], ib["current_nA"])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_mid_episode_continues_the_episode(how):
    """Used to return a fresh, un-reset env (step raised ResetNeeded)."""
    env = gym.make(VT, render_mode="rgb_array")
    env.reset(seed=3)
    _roll(env, [0.3, -0.2, 0.7])
    clone = copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))
    actions = [0.5, -1.0, 0.1, 0.0]
    _assert_same(_roll(clone, actions), _roll(env, actions))
    np.testing.assert_array_equal(clone.render(), env.render())  # render traces carried
    # The key chain continues identically in both after an unseeded reset.
    np.testing.assert_array_equal(clone.reset()[0], env.reset()[0])
    _assert_same(_roll(clone, actions), _roll(env, actions))


def test_copy_carries_replaced_params_target_and_done_flags():
    env = NeuronGymEnv(max_episode_steps=3)
    env.reset(seed=1, options={"params": {"HH_gNa": 0.2}, "target": -60.0})
    _roll(env, [0.1, 0.2])
    clone = pickle.loads(pickle.dumps(env))
    assert clone._custom_params
    np.testing.assert_array_equal(clone.env_params.sim["HH_gNa"], env.env_params.sim["HH_gNa"])
    assert clone.env_params.sim["HH_gNa"][0] == np.float32(0.2)
    assert clone.env_state.task["target"] == env.env_state.task["target"] == np.float32(-60.0)
    _assert_same(_roll(clone, [0.4]), _roll(env, [0.4]))  # the last step: truncated
    assert env._done and clone._done
    branch = copy.deepcopy(env)
    with pytest.warns(UserWarning, match="after the episode ended"):
        branch.step(np.zeros(1, np.float32))


def test_pickle_continues_in_another_process(tmp_path):
    """The unpickled env's first call is a step (its programs were never traced there)."""
    env = NeuronGymEnv()
    env.reset(seed=2)
    _roll(env, [0.2, -0.4])
    (tmp_path / "env.pkl").write_bytes(pickle.dumps(env))
    expected = env.step(np.ones(1, np.float32))[0]
    proc = run_child(f"""
        import pickle, numpy as np
        env = pickle.loads(open({str(tmp_path / "env.pkl")!r}, "rb").read())
        print(env.step(np.ones(1, np.float32))[0].tolist())
        """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(json.loads(proc.stdout.strip().splitlines()[-1]), expected)


def test_copy_before_reset_and_after_close_keeps_the_key_chain():
    env = NeuronGymEnv()
    fresh = copy.deepcopy(env)
    assert fresh.env_state is None
    env.reset(seed=5)
    env.close()
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.reset()[0], env.reset()[0])


def test_branching_planner_explores_from_one_state():
    """A planner's use: copies of one state, different actions, different futures."""
    env = NeuronGymEnv()
    env.reset(seed=0)
    _roll(env, [0.0, 0.0])
    returns = {}
    for a in (-1.0, 0.0, 1.0):
        branch = copy.deepcopy(env)
        returns[a] = sum(r for _, r, *_ in _roll(branch, [a] * 3))
    assert len(set(returns.values())) == 3
    again = copy.deepcopy(env)
    assert sum(r for _, r, *_ in _roll(again, [1.0] * 3)) == returns[1.0]


# ------------------------------------------------------------------ E.6: compilation cache
CACHE_STATE = """
import json, jax, neuroenv
print(json.dumps({"dir": jax.config.jax_compilation_cache_dir,
                  "min_time": jax.config.jax_persistent_cache_min_compile_time_secs,
                  "min_size": jax.config.jax_persistent_cache_min_entry_size_bytes}))
"""


def test_compilation_cache_on_by_default_in_the_user_folder(tmp_path):
    state = json.loads(run_child(CACHE_STATE, tmp_path).stdout.strip().splitlines()[-1])
    assert state == {"dir": str(tmp_path / "cache" / "jax"), "min_time": 0.0,
                     "min_size": -1}
    xdg = run_child(CACHE_STATE, tmp_path, NEUROENV_CACHE_DIR="",
                    XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert json.loads(xdg.stdout.strip().splitlines()[-1])["dir"] == str(
        tmp_path / "xdg" / "neuroenv" / "jax")


def test_compilation_cache_switch_and_user_setting_respected(tmp_path):
    off = run_child(CACHE_STATE, tmp_path, NEUROENV_COMPILATION_CACHE="0")
    assert json.loads(off.stdout.strip().splitlines()[-1])["dir"] is None
    mine = run_child(CACHE_STATE, tmp_path, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "mine"))
    state = json.loads(mine.stdout.strip().splitlines()[-1])
    assert state["dir"] == str(tmp_path / "mine") and state["min_time"] == 1.0


FIRST_STEP = """
import json
from collections import Counter
import jax
events = Counter()
jax.monitoring.register_event_listener(lambda name, **kw: events.update([name]))
import gymnasium as gym, numpy as np, neuroenv
env = gym.make("neuroenv/VoltageTarget-v0")
env.reset(seed=0)
obs = env.step(np.zeros(1, np.float32))[0]
print(json.dumps({"hits": events["/jax/compilation_cache/cache_hits"],
                  "misses": events["/jax/compilation_cache/cache_misses"],
                  "obs": obs.tolist()}))
"""


def test_second_process_loads_compiled_programs(tmp_path):
    cold = json.loads(run_child(FIRST_STEP, tmp_path).stdout.strip().splitlines()[-1])
    files = [p for p in (tmp_path / "cache" / "jax").rglob("*") if p.is_file()]
    assert files, "the first process stored no compiled program"
    warm = json.loads(run_child(FIRST_STEP, tmp_path).stdout.strip().splitlines()[-1])
    assert warm["obs"] == cold["obs"]  # a loaded program computes what the compiled one did
    # JAX's own cache counters, not wall-clock times (a full run under load once measured
    # the warm process slower than the cold one): the first process compiles and stores,
    # the second loads every program it needs from the cache and compiles none (measured:
    # cold 4 misses and 15 hits of programs it had stored itself, warm 0 misses).
    assert cold["misses"] > 0, cold
    assert warm["misses"] == 0 and warm["hits"] > 0, (cold, warm)


def test_cache_folder_helpers(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROENV_CACHE_DIR", str(tmp_path))
    assert compilation_cache.default_cache_dir() == tmp_path / "jax"
    monkeypatch.delenv("NEUROENV_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert compilation_cache.cache_root() == tmp_path / "x" / "neuroenv"
    for value, off in (("0", True), ("off", True), ("1", False), ("", False)):
        monkeypatch.setenv("NEUROENV_COMPILATION_CACHE", value)
        assert compilation_cache.switched_off() is off
