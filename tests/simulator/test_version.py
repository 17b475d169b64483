"""``simulator.__version__`` (and the module ``simulator.__version__``, jaxley's path) is
pyproject's ``[project] version``."""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import simulator

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _pyproject_version() -> str:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def test_version_is_pyprojects():
    from simulator.__version__ import __version__

    assert isinstance(simulator.__version__, str)
    assert simulator.__version__ == __version__ == _pyproject_version()
    assert [int(part) for part in __version__.split(".")]  # MAJOR.MINOR.PATCH integers


def test_uninstalled_source_tree_reads_pyproject(monkeypatch):
    module = sys.modules["simulator.__version__"]

    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(module, "version", not_installed)
    assert module.package_version() == _pyproject_version()


def test_unreadable_pyproject_gives_unknown(tmp_path):
    module = sys.modules["simulator.__version__"]
    assert module._from_pyproject(tmp_path / "missing.toml") == "0+unknown"
    (tmp_path / "bad.toml").write_text("[project]\nname = 'x'\n")
    assert module._from_pyproject(tmp_path / "bad.toml") == "0+unknown"
