"""Shared fixtures: floating-point precision switches; no persistent compilation cache in
the xdist workers."""

from __future__ import annotations

import os

# JAX's persistent compilation cache (neuroenv turns it on at import) is off in the test
# workers: full runs at f925872 and b8be384 lost a worker to a segfault three times, twice
# inside JAX's cache read (compilation_cache.get_executable_and_time), also with one cache
# folder per worker; it never reproduced in one process. The cache's own behaviour is
# tested in child processes (tests/neuroenv/test_gym_lifecycle.py), which drop this switch.
# A user's explicit NEUROENV_COMPILATION_CACHE is kept.
if os.environ.get("PYTEST_XDIST_WORKER") and "NEUROENV_COMPILATION_CACHE" not in os.environ:
    os.environ["NEUROENV_COMPILATION_CACHE"] = "0"

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


@pytest.fixture
def disk_cache_dir(tmp_path, monkeypatch):
    """neuroenv's disk caches switched on (the workers switch them off) in an empty folder,
    for this test only; yields the folder."""
    monkeypatch.setenv("NEUROENV_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NEUROENV_COMPILATION_CACHE", "1")
    return tmp_path


@pytest.fixture(autouse=True)
def _x64_restored(request):
    """Fail the test that leaves ``jax_enable_x64`` changed: the flag is process-global,
    and a leak silently runs later tests of the same worker in the other precision (a full
    run's PPO demo failed in a worker where float64 had been left on)."""
    before = bool(jax.config.jax_enable_x64)
    yield
    after = bool(jax.config.jax_enable_x64)
    if after != before:
        jax.config.update("jax_enable_x64", before)
        pytest.fail(f"{request.node.nodeid} left jax_enable_x64 {after} (was {before})")


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_programs():
    """Drop JAX's in-memory compilation caches after each test module. An xdist worker runs
    hundreds of modules and kept every compiled program: full runs lost a worker late in the
    run (SIGSEGV in JAX's cache read at f925872/b8be384/eea7b08, SIGABRT inside XLA's compile
    at a22737e, each time in a test that passes alone), consistent with a resource limit of
    the long-lived process rather than one test."""
    yield
    jax.clear_caches()
