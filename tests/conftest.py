"""Shared fixtures: floating-point precision switches; one compilation cache per worker."""

from __future__ import annotations

import os

# Each pytest-xdist worker gets its own persistent compilation cache (neuroenv turns JAX's
# on at import), so two workers never write and read one cache folder at once. A full run
# at e9c2229's parent segfaulted twice in JAX's cache read (compilation_cache.
# get_executable_and_time) in one worker while the other compiled the same programs; the
# crash did not reproduce in one process. Set before neuroenv is imported; a user's own
# NEUROENV_CACHE_DIR is kept.
# (neuroenv.compilation_cache.cache_root's rule, without importing neuroenv.)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and not os.environ.get("NEUROENV_CACHE_DIR"):
    _BASE = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["NEUROENV_CACHE_DIR"] = os.path.join(_BASE, "neuroenv", f"pytest-{_WORKER}")

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def x64():
    """Run the test in float64."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(params=["float32", "float64"])
def precision(request):
    """Run the test once in float32 and once in float64; yields the dtype name."""
    with jax.enable_x64(request.param == "float64"):
        yield request.param
