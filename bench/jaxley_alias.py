"""Import alias: ``jaxley`` and ``jaxley.X`` resolve to ``simulator`` and ``simulator.X``.

It adds no code: ``import jaxley.channels`` returns the module object ``simulator.channels``
itself (``jaxley.channels.HH is simulator.channels.HH``), so a jaxley script or test run
with the alias installed exercises exactly what ``simulator`` provides. A ``jaxley.X`` whose
``simulator.X`` does not exist raises ``ModuleNotFoundError`` (the real jaxley, if installed,
is never used as a fallback). Names that merely start with ``jaxley`` (``jaxley_mech``) and
all other imports are left alone.

Used by ``bench/jaxley_suite.py``, which measures how much of jaxley 0.14.0's test suite and
tutorials run unchanged against ``simulator``. Install it before anything imports jaxley::

    import jaxley_alias; jaxley_alias.install()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

ALIAS = "jaxley"
TARGET = "simulator"


def target_name(fullname: str) -> str | None:
    """The ``simulator`` module name for an aliased ``jaxley`` name, else ``None``.

    ``"jaxley"`` -> ``"simulator"``, ``"jaxley.io.graph"`` -> ``"simulator.io.graph"``;
    ``"jaxley_mech"`` or ``"numpy"`` -> ``None``.
    """
    if fullname == ALIAS or fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loader whose module is the already importable ``target`` module (nothing executed)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        # The target module was executed by its own import in create_module.
        return None


class JaxleyAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder mapping ``jaxley[.X]`` to ``simulator[.X]``."""

    def find_spec(self, fullname, path=None, target=None):
        name = target_name(fullname)
        if name is None:
            return None
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (the jaxley alias maps it to {name!r}, "
                "which does not exist)",
                name=fullname,
            )
        return importlib.util.spec_from_loader(fullname, _ExistingModuleLoader(name))


def installed() -> bool:
    """Whether a ``JaxleyAliasFinder`` is on ``sys.meta_path``."""
    return any(isinstance(f, JaxleyAliasFinder) for f in sys.meta_path)


def install() -> None:
    """Put the alias first on ``sys.meta_path`` (idempotent).

    Raises ``RuntimeError`` if a real ``jaxley`` module was imported already: the alias
    cannot replace modules that are cached in ``sys.modules``.
    """
    cached = sys.modules.get(ALIAS)
    if cached is not None and getattr(cached, "__name__", None) != TARGET:
        raise RuntimeError(
            "the real jaxley was imported before the alias was installed; install the "
            "alias first (e.g. at the top of the script or in a -c bootstrap)"
        )
    if not installed():
        sys.meta_path.insert(0, JaxleyAliasFinder())
    _register_loaded()


def _register_loaded() -> None:
    """Enter every ``simulator`` module already imported under its ``jaxley`` name.

    The first import of a dotted name binds the submodule as an attribute of its parent
    package. ``simulator/__init__.py`` imports ``simulator.integrate`` (a module) and then
    rebinds ``simulator.integrate`` to the function of that name; a first
    ``from jaxley.integrate import ...`` through the finder would bind the module over the
    function again (``jx.integrate(...)``: "'module' object is not callable"). Names found
    in ``sys.modules`` are not bound again, so the loaded modules are entered up front.
    """
    import simulator  # noqa: F401  (loads the package's eager submodules)

    for name, module in list(sys.modules.items()):
        if name == TARGET or name.startswith(TARGET + "."):
            sys.modules.setdefault(ALIAS + name[len(TARGET):], module)


def uninstall() -> None:
    """Remove the alias from ``sys.meta_path`` and its entries from ``sys.modules``."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, JaxleyAliasFinder)]
    for name in [n for n in sys.modules if target_name(n) is not None]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]
