"""Fixtures of the module tests."""

from __future__ import annotations

import warnings

import pytest

from simulator import CompScopeWarning


@pytest.fixture
def no_comp_warning():
    """Turn :class:`CompScopeWarning` into an error for the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompScopeWarning)
        yield
