"""The package version (``simulator.__version__``, a ``"MAJOR.MINOR.PATCH"`` string).

The one source of truth is ``version`` in ``pyproject.toml``: an installed package reads it
from its metadata (distribution ``neuroenv``); a source tree that was never installed reads
``pyproject.toml`` next to the package.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Distribution that ships ``simulator`` (``[project] name`` in pyproject.toml).
DISTRIBUTION = "neuroenv"


def _from_pyproject(path: Path) -> str:
    """``[project] version`` of the pyproject.toml at ``path`` ("0+unknown" if unreadable)."""
    try:
        with path.open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"


def package_version(distribution: str = DISTRIBUTION) -> str:
    """The installed version of ``distribution``, else the source tree's pyproject version."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return _from_pyproject(Path(__file__).resolve().parent.parent / "pyproject.toml")


__version__ = package_version()
