"""Differentiability and batching of the extracellular matrices (issue 15)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from geometry_cases import ball_and_stick

from simulator.extracellular import (
    Medium,
    dbs_lead,
    electrode_matrix,
    point_contacts,
    segments_from_arrays,
    stimulation_matrix,
)

CURRENTS = np.linspace(-1.0, 1.0, 11)  # nA per compartment, a fixed weighting


def _segments():
    return segments_from_arrays(*ball_and_stick())


def _central(f, x, step):
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = step
        grad[i] = (f(x + e) - f(x - e)) / (2 * step)
    return grad


@pytest.mark.parametrize("model", ["point", "line"])
def test_grad_wrt_contact_position_and_sigma(x64, model):
    segs = _segments()

    def lfp(position, sigma):
        m = electrode_matrix(segs, point_contacts(position), Medium(sigma), model)
        return jnp.sum(m[0] * CURRENTS)

    position, sigma = np.array([120.0, 35.0, -20.0]), 0.3
    g_pos, g_sigma = jax.grad(lfp, argnums=(0, 1))(position, sigma)
    fd_pos = _central(lambda p: float(lfp(p, sigma)), position, 1e-3)
    fd_sigma = _central(lambda s: float(lfp(position, s)), np.array(sigma), 1e-6)
    # Measured relative differences: position 4.1e-10 (point) / 4.3e-10 (line), σ 2.6e-11
    # (point) / 7.2e-12 (line).
    np.testing.assert_allclose(g_pos, fd_pos, rtol=1e-6)
    np.testing.assert_allclose(g_sigma, fd_sigma, rtol=1e-6)


def test_grad_of_stimulation_wrt_lead_tip(x64):
    segs = _segments()

    def ve_sum(tip):
        return jnp.sum(stimulation_matrix(segs, dbs_lead(tip, [0.0, 0.0, 1.0]))[:, 0])

    tip = np.array([200.0, 800.0, -100.0])
    g = jax.grad(ve_sum)(tip)
    fd = _central(lambda t: float(ve_sum(t)), tip, 1e-2)
    # Measured relative difference: 4.3e-10.
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("model", ["point", "line"])
def test_grads_finite_on_axis_and_within_radius(x64, model):
    """Contacts on a segment's axis line and inside its radius: finite gradients."""
    segs = _segments()
    on_axis = np.array([[300.0, 0.0, 0.0], [420.0, 0.0, 0.0], [-30.0, 0.0, 0.0], [5.0, 0, 0]])

    def total(positions):
        return jnp.sum(electrode_matrix(segs, point_contacts(positions), 0.3, model))

    with pytest.warns(UserWarning, match="closer than the compartment radius"):
        value = total(on_axis)
    assert np.isfinite(float(value))
    g = jax.jit(jax.grad(total))(on_axis)
    assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize("model", ["point", "line"])
def test_vmap_over_8_positions_equals_loop(x64, model):
    segs = _segments()
    positions = np.stack([np.array([50.0 * k, 40.0 + 10 * k, 5.0 * k]) for k in range(8)])

    def one(p):
        return electrode_matrix(segs, point_contacts(p), 0.3, model)

    batched = jax.jit(jax.vmap(one))(positions)
    looped = np.stack([np.asarray(one(p)) for p in positions])
    assert batched.shape == (8, 1, 11)
    # Measured: 0 (point) / 4.4e-16 (line) relative.
    np.testing.assert_allclose(batched, looped, rtol=1e-13)


def test_vmap_over_sigma(x64):
    segs = _segments()
    contacts = point_contacts([[0.0, 100.0, 0.0]])
    sigmas = np.array([0.1, 0.3, 1.0])
    batched = jax.vmap(lambda s: electrode_matrix(segs, contacts, Medium(s)))(sigmas)
    reference = electrode_matrix(segs, contacts, Medium(1.0))
    # φ ∝ 1/σ exactly; measured 2.2e-16.
    np.testing.assert_allclose(batched * sigmas[:, None, None], np.stack([reference] * 3),
                               rtol=1e-13)


def test_jit_over_segments_electrode_and_medium(x64):
    """Every input is a pytree: one compiled function serves new geometry and σ."""
    segs = _segments()
    lead = dbs_lead([0.0, 900.0, 0.0], [0.0, 1.0, 0.0])
    both = jax.jit(lambda s, e, m: (electrode_matrix(s, e, m, "line"), stimulation_matrix(s, e, m)))
    record, stim = both(segs, lead, Medium(0.3))
    assert record.shape == (4, 11) and stim.shape == (11, 4)
    record2, _ = both(segs, lead.moved([0.0, 100.0, 0.0]), Medium(0.2))
    expected = electrode_matrix(segs, lead.moved([0.0, 100.0, 0.0]), Medium(0.2), "line")
    # Measured 2.2e-16 relative (jit vs eager).
    np.testing.assert_allclose(record2, expected, rtol=1e-14)
    assert both._cache_size() == 1
