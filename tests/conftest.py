"""Shared fixtures: floating-point precision switches."""

from __future__ import annotations

import jax
import pytest


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
