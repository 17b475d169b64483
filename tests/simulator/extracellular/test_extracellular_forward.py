"""Point- and line-source matrices against LFPykit (issue 15), units and anisotropy."""

from __future__ import annotations

import functools
import warnings

import jax
import lfpykit
import numpy as np
import pytest
from geometry_cases import CA1, ball_and_stick, contacts_for
from lfpykit import lfpcalc

import simulator as jx
from simulator.extracellular import (
    Medium,
    electrode_matrix,
    line_source_matrix,
    module_segments,
    point_contacts,
    point_source_matrix,
    segments_from_arrays,
)

LFPYKIT = {"point": lfpykit.PointSourcePotential, "line": lfpykit.LineSourcePotential}


def _lfpykit_matrix(model, starts, ends, diameters, contacts, sigma=0.3):
    cell = lfpykit.CellGeometry(
        np.c_[starts[:, 0], ends[:, 0]], np.c_[starts[:, 1], ends[:, 1]],
        np.c_[starts[:, 2], ends[:, 2]], diameters,
    )
    x, y, z = contacts.T
    return LFPYKIT[model](cell, x, y, z, sigma=sigma).get_transformation_matrix()


@functools.cache
def _ca1_geometry():
    segs = module_segments(jx.read_swc(CA1, ncomp=4, backend="neuron"))
    starts, ends = np.asarray(segs.starts), np.asarray(segs.ends)
    return starts, ends, np.asarray(segs.diameters)


@pytest.mark.parametrize("model", ["point", "line"])
@pytest.mark.parametrize("geometry", ["ball_and_stick", "ca1"])
def test_matrix_equals_lfpykit(x64, model, geometry):
    starts, ends, diameters = ball_and_stick() if geometry == "ball_and_stick" else _ca1_geometry()
    contacts = contacts_for(starts, ends, diameters)
    expected = _lfpykit_matrix(model, starts, ends, diameters, contacts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = np.asarray(electrode_matrix(segments_from_arrays(starts, ends, diameters),
                                           point_contacts(contacts), 0.3, model))
    assert ours.shape == expected.shape == (len(contacts), len(starts))
    assert ours.dtype == np.float64
    # Measured max relative error: point 0 (ball and stick) / 4.3e-16 (CA1); line 5.9e-15
    # (ball and stick) / 5.7e-12 (CA1: contacts far along short segments' axes, where
    # LFPykit's log-ratio form loses digits).
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=0)


def test_checked_value_1na_at_100um(x64):
    segs = segments_from_arrays([[0.0, 0, 0]], [[10.0, 0, 0]], [1.0])
    m = electrode_matrix(segs, point_contacts([5.0, 100.0, 0.0]), Medium(0.3))
    # 1/(4π·0.3·100) = 0.00265258238...; the reference says 0.0026526 (5 digits).
    assert abs(float(m[0, 0]) - 0.0026526) < 5e-8
    assert float(m[0, 0]) == pytest.approx(1.0 / (4 * np.pi * 0.3 * 100.0), rel=1e-15)


def test_anisotropic_reduces_to_isotropic(x64):
    rng = np.random.default_rng(1)
    targets, sources = rng.normal(size=(5, 3)) * 80, rng.normal(size=(7, 3)) * 80
    iso = point_source_matrix(targets, sources, Medium(0.4), 1.0)
    aniso = point_source_matrix(targets, sources, Medium((0.4, 0.4, 0.4)), 1.0)
    # Measured: 4.4e-16 relative (rounding of the weighted sum).
    np.testing.assert_allclose(aniso, iso, rtol=1e-14)


def test_anisotropic_coordinate_scaling_identity(x64):
    """φ(σx, σy, σz; r) = φ(σ = 1; r') / sqrt(σx σy σz) with r' = (x/√σx, y/√σy, z/√σz)."""
    sigma = np.array([0.1, 0.3, 0.6])
    rng = np.random.default_rng(2)
    targets, sources = rng.normal(size=(6, 3)) * 100, rng.normal(size=(4, 3)) * 100
    aniso = np.asarray(point_source_matrix(targets, sources, Medium(sigma), 1e-3))
    scale = 1.0 / np.sqrt(sigma)
    unit = np.asarray(point_source_matrix(targets * scale, sources * scale, Medium(1.0), 1e-3))
    # Measured: 2.2e-16 relative.
    np.testing.assert_allclose(aniso, unit / np.sqrt(sigma.prod()), rtol=1e-13)
    # Not the isotropic value at any single σ: the direction matters.
    iso = np.asarray(point_source_matrix(targets, sources, Medium(0.3), 1e-3))
    assert np.max(np.abs(aniso / iso - 1.0)) > 0.1


def test_anisotropic_near_field_matches_lfpykit(x64):
    starts, ends, diameters = ball_and_stick()
    contacts = contacts_for(starts, ends, diameters)
    sigma = np.array([0.2, 0.3, 0.5])
    # LFPykit's anisotropic point source (its PointSourcePotential class is isotropic only).
    expected = np.stack([
        lfpcalc.calc_lfp_pointsource_anisotropic(
            np.c_[starts[:, 0], ends[:, 0]], np.c_[starts[:, 1], ends[:, 1]],
            np.c_[starts[:, 2], ends[:, 2]], *c, sigma, diameters / 2.0)
        for c in contacts
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = electrode_matrix(segments_from_arrays(starts, ends, diameters),
                                point_contacts(contacts), Medium(sigma))
    # Measured: 0 relative (contacts 5 and 6 lie within a radius: scaled displacement).
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_anisotropic_line_source(x64):
    """Equal σ: the isotropic line source; unequal σ: the segment average of the
    anisotropic point potential (midpoint rule, 20000 points per segment)."""
    starts, ends, diameters = ball_and_stick()
    contacts = np.array([[150.0, 40.0, -25.0], [-60.0, 30.0, 10.0], [600.0, 0.0, 80.0]])
    iso = line_source_matrix(contacts, starts, ends, Medium(0.3), diameters / 2)
    same = line_source_matrix(contacts, starts, ends, Medium((0.3, 0.3, 0.3)), diameters / 2)
    # Measured 5.6e-16 relative.
    np.testing.assert_allclose(same, iso, rtol=1e-13)
    sigma = Medium((0.15, 0.3, 0.6))
    line = np.asarray(line_source_matrix(contacts, starts, ends, sigma, diameters / 2))
    t = (np.arange(20000) + 0.5) / 20000
    along = (starts[:, None, :] + t[None, :, None] * (ends - starts)[:, None, :]).reshape(-1, 3)
    points = np.asarray(point_source_matrix(contacts, along, sigma, 1e-3))
    average = points.reshape(len(contacts), len(starts), -1).mean(axis=-1)
    # Midpoint-rule error measured 1.1e-10 relative.
    np.testing.assert_allclose(line, average, rtol=1e-8)


@pytest.mark.parametrize("model", ["point", "line"])
def test_within_radius_warns_once_per_call(model):
    starts, ends, diameters = ball_and_stick()
    segs = segments_from_arrays(starts, ends, diameters)
    contacts = point_contacts(contacts_for(starts, ends, diameters))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        electrode_matrix(segs, contacts, 0.3, model)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, messages
    assert "closer than the compartment radius" in messages[0]
    assert caught[0].filename == __file__  # attributed to the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jax.jit(lambda e: electrode_matrix(segs, e, 0.3, model))(contacts)  # silent traced
        far = point_contacts([[0.0, 500.0, 0.0]])
        electrode_matrix(segs, far, 0.3, model)  # no close pair: no warning


@pytest.mark.parametrize("model", ["point", "line"])
def test_float32_relative_error(model):
    starts, ends, diameters = _ca1_geometry()
    contacts = contacts_for(starts, ends, diameters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with jax.enable_x64(True):
            exact = np.asarray(electrode_matrix(
                segments_from_arrays(starts, ends, diameters), point_contacts(contacts), 0.3,
                model))
        single = electrode_matrix(segments_from_arrays(starts, ends, diameters),
                                  point_contacts(contacts), 0.3, model)
    assert single.dtype == np.float32
    rel = np.max(np.abs(np.asarray(single, dtype=float) - exact) / np.abs(exact))
    # Measured float32 max relative error on CA1 (vs float64): point 3.0e-7, line 4.7e-7.
    assert rel < 3e-6, rel
