"""Absurd discretisations and wrong argument types for SWC reading and module construction
(issue 13 §1): refused up front with a ValueError/TypeError that names the argument, the
value and what was expected, or the number of compartments the call would build and the
limit (``MAX_COMPARTMENTS``). Before the fix ``read_swc(f, 1, max_branch_len=1e-6)`` on a
20 µm file ran for > 9 min building 2e7 branches; these tests get their error at once.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import simulator as jx
from simulator.modules.branch import MAX_COMPARTMENTS
from simulator.morphology import d_lambda_rule

#: 20 µm of cable in two branches: a one-point soma (a 2 µm cylinder, 2 r) and an 18 µm
#: dendrite of two pieces.
SWC_20UM = """\
1 1 0 0 0 1 -1
2 3 1 0 0 0.5 1
3 3 10 0 0 0.5 2
4 3 19 0 0 0.5 3
"""


@pytest.fixture
def swc(tmp_path):
    path = tmp_path / "short.swc"
    path.write_text(SWC_20UM)
    return path


def test_limit_is_documented_and_a_million():
    assert MAX_COMPARTMENTS == 1_000_000
    assert "max_compartments" in jx.read_swc.__doc__ and "1,000,000" in jx.read_swc.__doc__


# ------------------------------------------------------------------ the reproduction
def test_tiny_max_branch_len_is_refused_with_the_count(swc):
    with pytest.raises(ValueError, match=r"\(20,000,000 branches\) would build 20,000,000"
                                         r" compartments, more than the limit of 1,000,000") as err:
        jx.read_swc(swc, ncomp=1, max_branch_len=1e-6, backend="neuron")
    assert "max_branch_len=1e-06" in str(err.value)
    assert "max_compartments" in str(err.value)


# ------------------------------------------------------------------ neighbours: counts
@pytest.mark.parametrize("kwargs, count", [
    ({"ncomp": 1, "max_branch_len": 1e-300}, r"2e\+301"),  # overflows any int
    ({"ncomp": 600_000}, r"1,200,000"),  # 2 branches x 600,000
    ({"ncomp": 2**70}, r"2\.36e\+21"),
    ({"ncomp": 10_000, "max_branch_len": 0.1}, r"2,000,000"),  # 200 pieces x 10,000
])
def test_huge_discretisations_are_refused_with_the_count(swc, kwargs, count):
    with pytest.raises(ValueError, match=f"would build {count} compartments"):
        jx.read_swc(swc, **kwargs, backend="neuron")


def test_tiny_d_lambda_is_refused_with_the_count(swc):
    with pytest.raises(ValueError, match=r"would build [\d,]+ compartments, more than the limit"):
        jx.read_swc(swc, ncomp=d_lambda_rule(d_lambda=1e-9), backend="neuron")


def test_d_lambda_that_overflows_is_refused(swc):
    with pytest.raises(ValueError, match=r"d_lambda=5e-324 gives an unbounded number"):
        jx.read_swc(swc, ncomp=d_lambda_rule(d_lambda=5e-324), backend="neuron")


def test_callable_returning_a_huge_count_is_refused(swc):
    with pytest.raises(ValueError, match=r"would build 3,000,000 compartments"):  # at branch 1
        jx.read_swc(swc, ncomp=lambda length, radius: 3_000_000, backend="neuron")


def test_max_compartments_overrides_the_limit(swc):
    with pytest.raises(ValueError, match=r"would build 6 compartments, more than the limit of 5"):
        jx.read_swc(swc, ncomp=3, max_compartments=5, backend="neuron")
    cell = jx.read_swc(swc, ncomp=3, max_compartments=6, backend="neuron")
    assert cell.topology.n_comps == 6


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-5, ValueError), ("many", TypeError), (1.5e6, TypeError),
    (True, TypeError),
])
def test_bad_max_compartments(swc, value, error):
    with pytest.raises(error, match=re.escape(f"max_compartments must be a positive int or None,"
                                              f" got {value!r}")):
        jx.read_swc(swc, ncomp=1, max_compartments=value, backend="neuron")


# ------------------------------------------------------------------ neighbours: argument values
@pytest.mark.parametrize("value", [0, 0.0, -1.0, float("nan"), float("inf"), -np.inf])
def test_bad_max_branch_len_value(swc, value):
    with pytest.raises(ValueError, match=re.escape(f"max_branch_len must be a positive finite"
                                                   f" length (µm), got {value!r}")):
        jx.read_swc(swc, ncomp=1, max_branch_len=value, backend="neuron")


@pytest.mark.parametrize("value", [True, "10", [10.0], 10j])
def test_bad_max_branch_len_type(swc, value):
    with pytest.raises(TypeError, match=re.escape(f"max_branch_len must be a positive finite"
                                                  f" length (µm, a float), got {value!r}")):
        jx.read_swc(swc, ncomp=1, max_branch_len=value, backend="neuron")


@pytest.mark.parametrize("value, error", [
    (float("nan"), ValueError), (-1.0, ValueError), (0.0, ValueError), (True, TypeError),
    ("0.5", TypeError),
])
def test_bad_min_radius(swc, value, error):
    with pytest.raises(error, match=re.escape("min_radius must be a positive finite length (µm")
                       + ".*" + re.escape(f"got {value!r}")):
        jx.read_swc(swc, ncomp=1, min_radius=value, backend="neuron")


@pytest.mark.parametrize("ncomp", [0, -1, 2.0, float("nan"), float("inf"), "2", True, None])
def test_bad_ncomp(swc, ncomp):
    with pytest.raises(ValueError, match=re.escape(f"ncomp must be a positive int, got {ncomp!r}")):
        jx.read_swc(swc, ncomp=ncomp, backend="neuron")


@pytest.mark.parametrize("fname", [None, 3, ["a.swc"]])
def test_bad_fname_type(fname):
    with pytest.raises(TypeError, match=re.escape(f"fname must be a path (str or pathlib.Path),"
                                                  f" got {fname!r}")):
        jx.read_swc(fname, ncomp=1, backend="neuron")


@pytest.mark.parametrize("kwargs, error, name", [
    ({"d_lambda": "0.1"}, TypeError, "d_lambda"),
    ({"d_lambda": True}, TypeError, "d_lambda"),
    ({"frequency": None}, TypeError, "frequency"),
    ({"d_lambda": float("nan")}, ValueError, "d_lambda"),
    ({"d_lambda": 0.0}, ValueError, "d_lambda"),
    ({"axial_resistivity": -1.0}, ValueError, "axial_resistivity"),
])
def test_bad_d_lambda_rule_arguments(kwargs, error, name):
    value = next(iter(kwargs.values()))
    with pytest.raises(error, match=re.escape(f"{name} must be a positive finite number")
                       + ".*" + re.escape(f"got {value!r}")):
        d_lambda_rule(**kwargs)


# ------------------------------------------------------------------ constructors and set_ncomp
def test_branch_with_absurd_ncomp_is_refused_before_building():
    with pytest.raises(ValueError, match=r"Branch\(ncomp=1000000000\) would build 1,000,000,000"
                                         r" compartments, more than the limit of 1,000,000"):
        jx.Branch(jx.Compartment(), ncomp=10**9)


def test_branch_max_compartments():
    with pytest.raises(ValueError, match=r"would build 5 compartments, more than the limit of 4"):
        jx.Branch(jx.Compartment(), ncomp=5, max_compartments=4)
    assert jx.Branch(jx.Compartment(), ncomp=5, max_compartments=5).shape == (5,)


def test_cell_max_compartments():
    branch = jx.Branch(jx.Compartment(), ncomp=4)
    with pytest.raises(ValueError, match=r"Cell of 3 branches would build 12 compartments, more"
                                         r" than the limit of 10"):
        jx.Cell(branch, parents=[-1, 0, 0], max_compartments=10)
    assert jx.Cell(branch, parents=[-1, 0, 0], max_compartments=12).shape == (3, 12)


def test_set_ncomp_with_absurd_ncomp_is_refused_before_building(swc):
    cell = jx.read_swc(swc, ncomp=1, backend="neuron")
    with pytest.raises(ValueError, match=r"set_ncomp .* would build 20,000,000 compartments"):
        cell.set_ncomp(10**7)
    assert list(cell.topology.ncomp) == [1, 1]  # unchanged
    with pytest.raises(ValueError, match=r"would build [\d,]+ compartments"):
        cell.set_ncomp_d_lambda(d_lambda=1e-9)
    assert list(cell.topology.ncomp) == [1, 1]
