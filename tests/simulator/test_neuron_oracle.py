"""Voltages against NEURON 9 on identical HH models (NEURON is the numerical oracle)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import simulator as jx

pytest.importorskip("neuron")
from neuron_models import DT, MODELS, T_MAX, model_pair  # noqa: E402

SOLVERS = [("bwd_euler", 0), ("crank_nicolson", 1)]


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("solver,secondorder", SOLVERS)
def test_float64_matches_neuron(x64, model, solver, secondorder):
    reference, cell = model_pair(model, secondorder)
    assert reference.max() > 0, "the comparison must include action potentials"
    ours = np.asarray(jx.integrate(cell, t_max=T_MAX, delta_t=DT, solver=solver))
    assert ours.shape == reference.shape
    # Measured max |ΔV| over the whole trace: 1.2e-12 – 1.1e-11 mV (same scheme as NEURON's
    # fadvance up to rounding); the bar is 1e-6 mV.
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("solver,secondorder", SOLVERS)
def test_float32_close_to_float64(model, solver, secondorder):
    reference, cell = model_pair(model, secondorder)
    with jax.enable_x64(False):
        ours32 = np.asarray(jx.integrate(cell, t_max=T_MAX, delta_t=DT, solver=solver))
    assert ours32.dtype == np.float32
    assert np.all(np.isfinite(ours32))
    # Measured max |ΔV| vs NEURON / float64: 1.2e-4 – 4.5e-3 mV; bar: 1 mV.
    np.testing.assert_allclose(ours32, reference, rtol=0, atol=1.0)
    assert np.abs(ours32 - reference).max() < 0.02
