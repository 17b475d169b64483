"""neuroenv remembers forward Euler's time-step bound between processes: a later build
reads it (same value, same warning) instead of forming the step's Jacobian again."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import simulator as jx
from neuroenv import stability_cache
from simulator.channels import HH
from simulator.solvers.stability import NumericalStabilityWarning, max_stable_dt


def _module(radius: float = 1.0, channel=HH):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0])
    cell.branch(1).set("radius", radius)
    cell.insert(channel())
    cell.init_states()
    init_fn, _ = jx.build_init_and_step_fn(cell, solver="fwd_euler")
    states, params = init_fn(cell.base.get_parameters())
    return cell.base._compiled, states, params


def _no_jacobian(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the bound was computed again")
    monkeypatch.setattr(stability_cache, "check_time_step", refuse)


def test_bound_is_stored_and_read_back_with_its_warning(disk_cache_dir, monkeypatch):
    compiled, states, params = _module()
    want = max_stable_dt(compiled, states, params)
    with pytest.warns(NumericalStabilityWarning):
        first = stability_cache.checked_time_step(compiled, "fwd_euler", 1.0, states, params)
    assert first == want and len(list((disk_cache_dir / "stability").glob("*.json"))) == 1
    # a freshly built identical module: read, not computed; warned past the bound only
    compiled, states, params = _module()
    _no_jacobian(monkeypatch)
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        again = stability_cache.checked_time_step(compiled, "fwd_euler", 1.0, states, params)
    assert again == want  # exact: JSON keeps the float
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        stability_cache.checked_time_step(compiled, "fwd_euler", 0.5 * want, states, params)


def test_other_values_or_structure_are_other_entries(disk_cache_dir):
    compiled, states, params = _module()
    stability_cache.checked_time_step(compiled, "fwd_euler", 1e-4, states, params)
    other = dict(params, radius=np.asarray(params["radius"]) * 2.0)
    stability_cache.checked_time_step(compiled, "fwd_euler", 1e-4, states, other)
    wider, wider_states, wider_params = _module(radius=2.0)
    stability_cache.checked_time_step(wider, "fwd_euler", 1e-4, wider_states, wider_params)
    assert len(list((disk_cache_dir / "stability").glob("*.json"))) == 3


def test_user_defined_mechanism_is_never_stored(disk_cache_dir):
    class MyHH(HH):  # defined here: no process-independent name
        pass

    compiled, states, params = _module(channel=MyHH)
    assert stability_cache._key(compiled, states, params) is None
    stability_cache.checked_time_step(compiled, "fwd_euler", 1e-4, states, params)
    assert not (disk_cache_dir / "stability").exists()


def test_implicit_solvers_have_no_bound(disk_cache_dir):
    compiled, states, params = _module()
    assert stability_cache.checked_time_step(compiled, "bwd_euler", 1.0, states, params) is None
    assert not (disk_cache_dir / "stability").exists()


def test_deferred_check_waits_for_its_owner(disk_cache_dir, monkeypatch):
    """Inside ``deferred()`` nothing is computed nor warned until the returned check runs;
    outside, the check runs at once (and the context resets on exit)."""
    compiled, states, params = _module()
    calls = []
    real = stability_cache.checked_time_step

    def counted(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(stability_cache, "checked_time_step", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        with stability_cache.deferred():
            pending = stability_cache.check_or_defer(compiled, "fwd_euler", 1.0, states, params)
    assert callable(pending) and calls == []
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        pending(2)
    assert calls == [1.0]
    with pytest.warns(NumericalStabilityWarning, match="past its stability bound"):
        assert stability_cache.check_or_defer(compiled, "fwd_euler", 1.0, states, params) is None
    assert calls == [1.0, 1.0]
