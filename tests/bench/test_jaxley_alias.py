"""bench/jaxley_alias.py: `jaxley[.X]` resolves to `simulator[.X]` and nothing else changes."""

import importlib
import json
import sys

import pytest

from bench import jaxley_alias


@pytest.fixture
def alias():
    """Install the alias with no jaxley modules cached; restore sys.modules afterwards.

    Other tests in the same process may have imported the real jaxley (a reference for
    comparisons): those entries are set aside and put back, so neither side sees the other.
    """
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if jaxley_alias.target_name(n)}
    jaxley_alias.install()
    try:
        yield jaxley_alias
    finally:
        jaxley_alias.uninstall()
        for name in [n for n in sys.modules if jaxley_alias.target_name(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_submodule_attribute_is_the_simulator_object(alias):
    import simulator.channels

    mod = importlib.import_module("jaxley.channels")
    assert mod is simulator.channels
    from jaxley.channels import HH  # noqa: PLC0415

    assert HH is simulator.channels.HH
    assert importlib.import_module("jaxley") is importlib.import_module("simulator")


def test_missing_submodule_raises_module_not_found(alias):
    with pytest.raises(ModuleNotFoundError, match="simulator.nonexistent") as info:
        importlib.import_module("jaxley.nonexistent")
    assert info.value.name == "jaxley.nonexistent"


def test_other_imports_are_left_alone(alias):
    finder = next(f for f in sys.meta_path if isinstance(f, jaxley_alias.JaxleyAliasFinder))
    # Names that only start with "jaxley" (jaxley_mech, a jaxley user's companion package)
    # or are unrelated are not the finder's business.
    for name in ("jaxley_mech", "jaxleyx", "json", "numpy", "simulator.channels"):
        assert finder.find_spec(name, None) is None
    assert importlib.import_module("json") is json
    assert jaxley_alias.target_name("jaxley.io.graph") == "simulator.io.graph"


def test_install_is_idempotent_and_uninstall_removes_it(alias):
    alias.install()
    assert sum(isinstance(f, alias.JaxleyAliasFinder) for f in sys.meta_path) == 1
    importlib.import_module("jaxley.channels")
    alias.uninstall()
    assert not alias.installed()
    assert "jaxley.channels" not in sys.modules


def test_install_refuses_when_the_real_jaxley_is_cached(alias):
    import types

    alias.uninstall()
    sys.modules["jaxley"] = types.ModuleType("jaxley")  # stands for an imported real jaxley
    with pytest.raises(RuntimeError, match="before the alias"):
        alias.install()
    assert not alias.installed()


def test_importing_a_loaded_submodule_keeps_the_package_function(alias):
    """``from jaxley.integrate import ...`` must not rebind ``jx.integrate`` (the function
    ``simulator/__init__.py`` exports) to the module ``simulator.integrate``: before the fix,
    jaxley's test_api_equivalence failed 9 of 9 with "'module' object is not callable"."""
    import jaxley as jx
    from jaxley.connect import connect  # noqa: F401
    from jaxley.integrate import build_init_and_step_fn  # noqa: F401

    import simulator

    assert jx.integrate is simulator.integrate and callable(jx.integrate)
    assert callable(jx.connect)
