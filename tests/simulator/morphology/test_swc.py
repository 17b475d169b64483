"""read_swc: every test file loads and simulates; bad files are refused clearly."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator as jx
from simulator.channels import HH
from simulator.morphology.swc_file import parse_swc

DATA = Path(__file__).parents[2] / "data" / "swc"
FILES = sorted(p.name for p in DATA.glob("*.swc"))


def test_the_data_folder_is_there():
    # Guards the parametrisation below, which would otherwise collect zero cases.
    assert len(FILES) == 7 and "morph_ca1_n120.swc" in FILES


@pytest.mark.parametrize("fname", FILES)
def test_every_file_loads_and_simulates_20_ms(x64, fname):
    cell = jx.read_swc(DATA / fname, ncomp=2, backend="neuron")
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, 10.0, 0.2, 0.025, 20.0),
                                      verbose=False)
    cell.branch(0).loc(0.5).record(verbose=False)
    cell.branch(cell.shape[0] - 1).loc(1.0).record(verbose=False)
    v = np.asarray(jx.integrate(cell, t_max=20.0))
    assert v.shape == (2, 801)
    assert np.all(np.isfinite(v))


def test_minimal_file_structure():
    cell = jx.read_swc(DATA / "morph_minimal.swc", ncomp=1, backend="neuron")
    # NEURON's sections: soma [1 2], dend [2 7 8], apic [2 3 4], apic [1 5 6] (x=0 on soma).
    assert cell.shape == (4, 4)
    np.testing.assert_allclose(cell.nodes["length"], [1.2, 2.4, 3.0, 5.2731], atol=1e-4)
    assert cell.groups == ["soma", "apical", "basal"]
    assert len(cell.soma.nodes) == 1
    assert len(cell.apical.nodes) == 2


def test_single_point_soma_is_a_cylinder_of_the_sphere_area():
    cell = jx.read_swc(DATA / "morph_ca1_n120_single_point_soma.swc", ncomp=1, backend="neuron")
    soma = cell.branch(0).nodes.iloc[0]
    r = 10.327666283
    assert soma["length"] == pytest.approx(2 * r)
    assert soma["area"] == pytest.approx(4 * np.pi * r**2)


def test_ncomp_per_branch_callable():
    cell = jx.read_swc(DATA / "morph_minimal.swc", ncomp=lambda length, radius: 1 + (length > 3),
                       backend="neuron")
    assert list(cell.topology.ncomp) == [1, 1, 1, 2]  # only the 5.27 µm branch is > 3 µm


def test_max_branch_len_splits_long_branches():
    whole = jx.read_swc(DATA / "morph_ca1_n120.swc", ncomp=1, backend="neuron")
    split = jx.read_swc(DATA / "morph_ca1_n120.swc", ncomp=1, max_branch_len=100.0,
                        backend="neuron")
    assert split.shape[0] > whole.shape[0]
    assert split.nodes["length"].max() <= 100.0 + 1e-9
    np.testing.assert_allclose(split.nodes["area"].sum(), whole.nodes["area"].sum(), rtol=1e-12)


def test_tracing_interruptions_can_be_joined():
    neuron_like = jx.read_swc(DATA / "morph_ca1_n120.swc", ncomp=1, backend="neuron")
    joined = jx.read_swc(DATA / "morph_ca1_n120.swc", ncomp=1,
                         ignore_swc_tracing_interruptions=True, backend="neuron")
    assert joined.shape[0] < neuron_like.shape[0]
    np.testing.assert_allclose(joined.nodes["area"].sum(), neuron_like.nodes["area"].sum(),
                               rtol=1e-12)


GOOD = "1 1 0 0 0 5 -1\n2 3 10 0 0 1 1\n3 3 20 0 0 1 2\n"


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "no SWC points"),
        ("# only a comment\n", "no SWC points"),
        ("1 1 0 0 0 5 -1\n2 3 10 0 0 1\n", "line 2: expected 7 columns"),
        ("1 1 0 0 0 5 -1\n2 3 ten 0 0 1 1\n", "line 2: non-numeric"),
        ("1 1 0 0 0 5 -1\n2 3 10 0 0 1 7\n", "line 2: parent id 7 of point 2 does not exist"),
        ("1 1 0 0 0 5 -1\n1 3 10 0 0 1 1\n", "line 2: duplicate id 1"),
        ("1 1 0 0 0 5 -1\n2 3 10 0 0 0 1\n", "line 2: radius 0.0 of point 2 is not positive"),
        ("1 1 0 0 0 5 -1\n2 3 10 0 0 -1 1\n", "min_radius"),
        ("1 1 0 0 0 5 3\n2 3 10 0 0 1 1\n3 3 20 0 0 1 2\n", "cycle"),
        ("1 1 0 0 0 5 -1\n2 3 10 0 0 1 2\n", "its own parent"),
        ("1 1 0 0 0 5 -1\n2 3 nan 0 0 1 1\n", "non-finite"),
        ("1 1 0 0 0 5 -1\n2.5 3 10 0 0 1 1\n", "id must be an integer"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path, text, message):
    path = tmp_path / "bad.swc"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        jx.read_swc(path, ncomp=1, backend="neuron")


def test_min_radius_lifts_small_radii(tmp_path):
    path = tmp_path / "thin.swc"
    path.write_text("1 1 0 0 0 5 -1\n2 3 10 0 0 0 1\n3 3 20 0 0 1 2\n")
    cell = jx.read_swc(path, ncomp=1, min_radius=0.5, backend="neuron")
    assert np.all(cell.nodes["radius"] >= 0.5)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read SWC file"):
        jx.read_swc(tmp_path / "nope.swc", ncomp=1, backend="neuron")


def test_several_roots_keep_the_soma_tree_and_warn(tmp_path):
    path = tmp_path / "two.swc"
    path.write_text(GOOD + "10 3 100 0 0 1 -1\n11 3 110 0 0 1 10\n")
    with pytest.warns(UserWarning, match=r"2 disconnected pieces.*dropped 2 points from id 10"):
        cell = jx.read_swc(path, ncomp=1, backend="neuron")
    assert cell.nodes["x"].max() < 100


swc_line = st.tuples(
    st.integers(-2, 12), st.integers(0, 5),
    st.floats(-50, 50), st.floats(-50, 50), st.floats(-50, 50),
    st.floats(-1, 5), st.integers(-2, 12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(swc_line, min_size=0, max_size=12),
       st.lists(st.sampled_from(["", "x", " 1", "#c", "\n", "nan", "1e400"]), max_size=3))
def test_fuzzed_files_load_or_raise_value_error(tmp_path_factory, rows, junk):
    text = "\n".join(" ".join(str(v) for v in row) for row in rows)
    for piece in junk:
        text += piece
    path = tmp_path_factory.mktemp("fuzz") / "f.swc"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cell = jx.read_swc(path, ncomp=1, backend="neuron")
        except ValueError:
            return
    assert cell.shape[0] >= 1
    assert np.all(np.isfinite(cell.nodes["area"])) and np.all(cell.nodes["area"] > 0)


def test_parse_keeps_every_point():
    points = parse_swc((DATA / "morph_ca1_n120.swc").read_text())
    assert points.n == 2630
