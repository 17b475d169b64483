"""gymnasium ids: ``neuroenv:neuroenv/<Task>`` works in processes that never import neuroenv
(RLlib env runners, CleanRL scripts), and unknown names get an error that helps."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import gymnasium as gym
import pytest

import neuroenv
from neuroenv.registry import task_name

ROOT = pathlib.Path(__file__).resolve().parents[2]

FRESH_PROCESS = r'''
import sys
import gymnasium as gym
from gymnasium.error import NamespaceNotFound

try:
    gym.make("neuroenv/VoltageTarget-v0")
    print("plain id: made")
except NamespaceNotFound as err:
    print("plain id: NamespaceNotFound:", err)
assert "neuroenv" not in sys.modules
env = gym.make("neuroenv:neuroenv/VoltageTarget-v0")
obs, info = env.reset(seed=0)
env.step(env.action_space.sample())
print("single:", type(env.unwrapped).__name__, env.spec.id, obs.shape)
envs = gym.make_vec("neuroenv:neuroenv/VoltageTarget-v0", num_envs=2)
obs, info = envs.reset(seed=0)
print("vector:", type(envs).__name__, envs.metadata["autoreset_mode"].value, obs.shape)
'''


def test_prefixed_id_works_in_a_process_that_never_imported_neuroenv():
    """What an RLlib env runner or a CleanRL script does: gymnasium only, no neuroenv import.
    gymnasium 1.x loads no plugins, so the bare id cannot resolve there (the README says so);
    the ``neuroenv:`` form imports neuroenv first."""
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("plain id: NamespaceNotFound: Namespace neuroenv not found")
    assert lines[1] == f"single: NeuronGymEnv neuroenv/VoltageTarget-v0 ({_obs_dim()},)"
    assert lines[2] == f"vector: NeuronVectorEnv NextStep (2, {_obs_dim()})"


def _obs_dim() -> int:
    env, params = neuroenv.make("VoltageTarget-v0")
    return int(env.observation_space(params).shape[0])


def test_readme_first_env_example_uses_the_prefixed_ids():
    """Regression: the README's first env example used the bare ids, which fail in RLlib env
    runners and CleanRL with NamespaceNotFound."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Environments\n", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    ids = re.findall(r"gym\.make(?:_vec)?\(\s*\"([^\"]+)\"", block)
    assert len(ids) == 2, block
    for env_id in ids:
        assert env_id.startswith("neuroenv:neuroenv/"), env_id
        assert env_id.split(":", 1)[1] in neuroenv.registered_envs
    assert "NamespaceNotFound" in block  # ... and says why


@pytest.mark.parametrize("name", ["VoltageTarget-v0", "neuroenv/VoltageTarget-v0",
                                  "neuroenv:neuroenv/VoltageTarget-v0"])
def test_task_name_accepts_names_and_both_id_forms(name):
    assert task_name(name) == "VoltageTarget-v0"
    assert task_name("neuroenv:neuroenv/SilenceNoisy-v0") == "SilenceNoisy-v0"


def test_unknown_task_lists_close_matches_and_the_id_forms():
    """Regression: the error listed all 32 names without a suggestion or the id forms."""
    with pytest.raises(ValueError, match=r"unknown task 'VoltageTarge-v0'\. Did you mean "
                                         r"'VoltageTarget-v0'") as err:
        neuroenv.make("VoltageTarge-v0")
    assert "'neuroenv:neuroenv/<task>' in any process" in str(err.value)
    with pytest.raises(ValueError, match="Did you mean 'SpikeRate-v0'"):
        neuroenv.make("neuroenv/spikerate-v0")  # case slips too
    with pytest.raises(ValueError, match=r"unknown task 'Pendulum-v1'\. Registered tasks: "
                                         r"VoltageTarget-v0, .*<Task>\{Noisy,Drift,Randomized\}"):
        neuroenv.make("Pendulum-v1")
    with pytest.raises(TypeError, match="task name must be a str, got 3"):
        neuroenv.make(3)


def test_gymnasium_suggests_the_name_of_a_mistyped_id():
    """With neuroenv imported, a mistyped id gets gymnasium's suggestion (nothing compiles)."""
    with pytest.raises(gym.error.NameNotFound, match="Did you mean: `VoltageTarget`"):
        gym.make("neuroenv/VoltageTarge-v0")
    with pytest.raises(gym.error.NameNotFound, match="Did you mean: `VoltageTarget`"):
        gym.make("neuroenv:neuroenv/VoltageTarge-v0")
