"""Each install (the base and every extra the README names) brings what its features import.

A fresh process runs a feature with imports restricted to the distributions that
``pip install neuroenv[<extra>]`` installs (the requirement closure read from
pyproject.toml and expanded through the installed packages' metadata): an import of any
other distribution fails there as in a fresh venv, so optional imports (``try: import
filelock``) fall back as they would, and a missing requirement fails the test. Regression:
``functional_jax_env`` with ``check_env`` (gymnasium's ``JaxToNumpy``) needed
array-api-compat, which only ``[test]`` installed.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest

packaging_requirements = pytest.importorskip("packaging.requirements")
Requirement = packaging_requirements.Requirement

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

BASE_RUN = """
import gymnasium as gym, neuroenv
from gymnasium.utils.env_checker import check_env
from neuroenv.adapters import functional_jax_env
env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=3)
check_env(functional_jax_env(env).unwrapped, skip_render_check=True)
gym.wrappers.JaxToNumpy(functional_jax_env(env)).reset(seed=0)
"""

#: extra ("" = base install) -> (what the README says it is for, code that uses it).
FEATURES = {
    "": ("gymnasium ids, vector env, functional API with check_env, rgb_array rendering",
         "import neuroenv.vector, neuroenv.evaluation, neuroenv.render, "
         "gymnasium.wrappers.vector\n" + BASE_RUN),
    "plot": ("plots of examples/pi_controller.py and the demo",
             "import matplotlib.pyplot"),
    "rl": ("python -m neuroenv.demo, neuroenv.ppo, adapters.GymnaxEnv, the examples",
           "import neuroenv.demo, neuroenv.ppo, rejax, tqdm, optax, matplotlib.pyplot\n"
           "from neuroenv.adapters import GymnaxEnv"),
    "baselines": ("python bench/baselines.py", "import rejax, sbx, neuroenv.ppo"),
    "graph": ("read_swc's default (jaxley's) sectioning and simulator.io.graph",
              "import networkx\nimport simulator.io.graph as g\n"
              "import pathlib, simulator\n"
              "swc = next(pathlib.Path(simulator.__file__).parents[1].glob("
              "'neuroenv/data/*.swc'))\n"
              "assert simulator.read_swc(str(swc), ncomp=1).total_nbranches > 1"),
    "test": ("python -m pytest", "import pytest, xdist, hypothesis, neuron, jaxley, moviepy, "
                                 "scipy.linalg, neuroenv.demo"),
}

#: Runs argv[2] with imports restricted to the distributions listed in argv[1].
RESTRICTED = r'''
import json, sys
from importlib import metadata

allowed = set(json.loads(sys.argv[1]))
owners = metadata.packages_distributions()


def canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")


class NotInstalledHere:
    """Fails imports of distributions outside the install being checked."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        dists = owners.get(top)
        if not dists or top in ("neuroenv", "simulator") or top in sys.modules:
            return None
        if any(canonical(d) in allowed for d in dists):
            return None
        raise ModuleNotFoundError(f"No module named {top!r} (BLOCKED: {dists} is not in "
                                  "this install)", name=top)


sys.meta_path.insert(0, NotInstalledHere())
exec(sys.argv[2])
print("ran")
'''


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _closure(extra: str) -> set[str]:
    """Distributions that ``pip install neuroenv[extra]`` installs (canonical names)."""
    project = PYPROJECT["project"]
    stack = [(r, "") for r in project["dependencies"]]
    if extra:
        stack += [(r, "") for r in project["optional-dependencies"][extra]]
    seen: set[str] = {"neuroenv"}
    while stack:
        spec, parent_extra = stack.pop()
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"extra": parent_extra}):
            continue
        name = _canonical(req.name)
        if name == "neuroenv":  # a self-reference such as neuroenv[rl]
            stack += [(r, "") for e in req.extras for r in project["optional-dependencies"][e]]
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue
        for sub in requires:
            for e in sorted(req.extras) or [""]:
                stack.append((sub, e))
    return seen


def test_extras_are_those_the_readme_names():
    readme = (ROOT / "README.md").read_text()
    named = set(PYPROJECT["project"]["optional-dependencies"])
    assert named == {e for e in FEATURES if e}
    for extra in ("rl", "test", "baselines"):
        assert f'.[{extra}]"' in readme, extra


@pytest.mark.parametrize("extra", list(FEATURES), ids=lambda e: e or "base")
def test_install_brings_what_its_features_import(extra):
    _, code = FEATURES[extra]
    out = subprocess.run([sys.executable, "-c", RESTRICTED, json.dumps(sorted(_closure(extra))),
                          code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    if out.returncode != 0 and "BLOCKED" not in out.stderr and "ModuleNotFoundError" in (
            out.stderr):
        pytest.skip(f"this environment lacks a package of [{extra}]: "
                    f"{out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, (f"neuroenv[{extra}] misses a package its features import:\n"
                                 f"{out.stderr[-2000:]}")
    assert out.stdout.strip().endswith("ran")
