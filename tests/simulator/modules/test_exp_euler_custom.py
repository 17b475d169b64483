"""``build_exp_euler_transition_matrix`` and ``customize_solver_exp_euler`` (jaxley 0.14,
issue 17 gap 11; were missing), compared with the installed jaxley."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as sim

jx = pytest.importorskip("jaxley")
DT = 0.025


def build(lib):
    cell = lib.Cell([lib.Branch(lib.Compartment(), 3)] * 3, parents=[-1, 0, 0])
    cell.branch(1).set("radius", 0.5)
    cell.insert(lib.channels.HH())
    cell.branch(0).comp(0).record(verbose=False)
    cell.branch(2).comp(2).stimulate(sim.step_current(1.0, 2.0, 0.5, DT, 5.0), verbose=False)
    return cell


@pytest.mark.slow
def test_matrix_as_jaxley(precision):
    mine = build(sim).build_exp_euler_transition_matrix(DT)
    ref = np.asarray(build(jx).build_exp_euler_transition_matrix(DT))[0]  # jaxley: (1, 9, 9)
    assert mine.shape == (9, 9)
    # measured 2.2e-16 (float64), 1.2e-7 (float32)
    np.testing.assert_allclose(mine, ref, atol=1e-15 if precision == "float64" else 1e-6)


@pytest.mark.slow
def test_customized_runs_equal_computed_and_jaxley(precision):
    ours, theirs = build(sim), build(jx)
    computed = sim.integrate(ours, t_max=2.0, solver="exp_euler")
    ours.customize_solver_exp_euler(exp_euler_transition=ours.build_exp_euler_transition_matrix(DT))
    assert ours.solver_customizers["exp_euler"]["exp_euler_transition"] is not None
    np.testing.assert_array_equal(sim.integrate(ours, t_max=2.0, solver="exp_euler"), computed)
    theirs.customize_solver_exp_euler(
        exp_euler_transition=theirs.build_exp_euler_transition_matrix(DT))
    v_jaxley = jx.integrate(theirs, t_max=2.0, solver="exp_euler")
    # measured 2.2e-12 mV (float64), 3e-4 mV (float32)
    np.testing.assert_allclose(computed, v_jaxley, atol=1e-9 if precision == "float64" else 1e-2)


def test_custom_matrix_replaces_the_computed_one_for_exp_euler_only():
    cell = build(sim)
    matrix = cell.build_exp_euler_transition_matrix(DT)
    # expm of a conductance matrix whose rows sum to 0: rows sum to 1 (measured 4e-7, f32)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-5)
    computed = sim.integrate(cell, t_max=3.0, solver="exp_euler")
    bwd = sim.integrate(cell, t_max=3.0)
    cell.customize_solver_exp_euler(exp_euler_transition=jnp.eye(9))  # no axial coupling
    uncoupled = sim.integrate(cell, t_max=3.0, solver="exp_euler")
    assert float(jnp.max(jnp.abs(uncoupled - computed))) > 1.0
    np.testing.assert_array_equal(sim.integrate(cell, t_max=3.0), bwd)  # ignored
    cell.customize_solver_exp_euler(None)  # back to computing it
    np.testing.assert_array_equal(sim.integrate(cell, t_max=3.0, solver="exp_euler"), computed)


@pytest.mark.parametrize("matrix, match", [(np.eye(8), r"\(9, 9\)"),
                                           (np.eye(9, dtype=int), "real"),
                                           (np.full((9, 9), np.nan), "finite")])
def test_bad_matrix(matrix, match):
    with pytest.raises(ValueError, match=match):
        build(sim).customize_solver_exp_euler(exp_euler_transition=matrix)


def test_stale_matrix_after_set_ncomp_is_refused():
    cell = build(sim)
    cell.customize_solver_exp_euler(cell.build_exp_euler_transition_matrix(DT))
    cell.delete_recordings()
    cell.delete_stimuli()
    cell.branch(1).set_ncomp(5)
    cell.branch(0).comp(0).record(verbose=False)
    with pytest.raises(ValueError, match="now has 11 compartments: build it again"):
        sim.integrate(cell, t_max=1.0, solver="exp_euler")


def test_refused_on_views():
    cell = build(sim)
    with pytest.raises(ValueError, match="customize_solver_exp_euler"):
        cell.branch(0).customize_solver_exp_euler(np.eye(9))
