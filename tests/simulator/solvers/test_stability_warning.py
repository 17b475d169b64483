"""Forward Euler's time-step bound: computed from the linearised voltage equation, warned
about when a run is built (issue 13, section 2)."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH
from simulator.solvers.stability import NumericalStabilityWarning, check_module, max_stable_dt


def _cell(dendrite_radius: float = 1.0):
    """Three branches of 4 compartments (soma radius 10 µm, dendrites ``dendrite_radius``),
    HH everywhere, at rest; the soma recorded."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0])
    cell.branch(0).set("radius", 10.0)
    cell.branch(1).set("radius", dendrite_radius)
    cell.branch(2).set("radius", dendrite_radius)
    cell.insert(HH())
    cell.set("v", -65.0)
    cell.init_states()
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def _bound(cell) -> float:
    init_fn, _ = jx.build_init_and_step_fn(cell, solver="fwd_euler")
    states, params = init_fn(cell.base.get_parameters())
    base = cell.base
    return max_stable_dt(base._compiled, states, params)


def test_public_warning_class():
    assert jx.NumericalStabilityWarning is NumericalStabilityWarning
    assert issubclass(NumericalStabilityWarning, UserWarning)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bound_separates_stable_from_unstable_steps(dtype):
    """fwd_euler at 0.9 · dt_max stays at rest, at 1.2 · dt_max it blows up (the bound is
    exact for the linear part: measured dt_max 5.84e-3 ms for this cell, set by the 1 µm
    dendrites' axial coupling)."""
    with jax.enable_x64(dtype == "float64"):
        cell = _cell()
        bound = _bound(cell)
        # measured 5.841e-3 ms in both precisions
        assert bound == pytest.approx(5.841e-3, rel=1e-3)
        t_max = 300 * bound  # 300 steps: an unstable mode grows by ≥ (1.4)^300 at 1.2·dt_max
        with warnings.catch_warnings():
            warnings.simplefilter("error", NumericalStabilityWarning)
            v = np.asarray(jx.integrate(cell, t_max=t_max, delta_t=0.9 * bound,
                                        solver="fwd_euler"))
        assert np.all(np.abs(v + 65.0) < 1.0)  # mV: stays at rest
        with pytest.warns(NumericalStabilityWarning):
            v = np.asarray(jx.integrate(cell, t_max=t_max, delta_t=1.2 * bound,
                                        solver="fwd_euler"))
        assert not np.all(np.abs(v) < 1000.0)  # past 1 V or non-finite


def test_integrate_warns_with_solver_dt_and_bound():
    cell = _cell()
    with pytest.warns(NumericalStabilityWarning, match=r"fwd_euler.*0\.025.*dt_max = 0\.00584"):
        jx.integrate(cell, t_max=0.1, delta_t=0.025, solver="fwd_euler")


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson", "exp_euler"])
def test_other_solvers_do_not_warn(solver):
    """Implicit solvers and exponential Euler integrate the linear part stably at any dt."""
    cell = _cell()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        jx.integrate(cell, t_max=1.0, delta_t=0.025, solver=solver)
        assert check_module(cell, solver, 10.0) is None


def test_bound_follows_the_axial_resistivity():
    """The axial rates scale as 1 / axial resistivity and dominate the membrane's at rest
    (≈ 0.7/ms against ≈ 340/ms), so doubling it nearly doubles dt_max (measured ratio
    1.996) and a step that warned before no longer does."""
    cell = _cell()
    thin = _bound(cell)
    cell.set("axial_resistivity", 2.0 * float(cell.nodes["axial_resistivity"].iloc[0]))
    doubled = _bound(cell)
    assert doubled / thin == pytest.approx(2.0, rel=0.01)  # measured 1.996
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        check_module(cell, "fwd_euler", 1.5 * thin)


def test_env_constructor_warns():
    """NeuronEnv checks at construction; Desynchronize's hub (gap junctions to 20 cells,
    ≈ 96/ms) puts fwd_euler's bound at 0.0208 ms, below the task's 0.025 ms."""
    import neuroenv

    with pytest.warns(NumericalStabilityWarning, match=r"dt_max = 0\.0208"):
        neuroenv.make("Desynchronize-v0", solver="fwd_euler")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalStabilityWarning)
        neuroenv.make("Desynchronize-v0", solver="fwd_euler", delta_t=0.02, substeps=25)
        neuroenv.make("Desynchronize-v0", solver="exp_euler")


def test_fwd_euler_integrate_under_jit_and_vmap():
    """The stability check reads the module's own values, which an outer jit/vmap used to
    stage into tracers (TracerArrayConversionError); it now evaluates them eagerly."""
    cell = _cell()
    cell.branch(0).make_trainable("HH_gNa", verbose=False)

    def run(g):
        return jx.integrate(cell, params=[{"HH_gNa": g}], t_max=0.1, delta_t=0.005,
                            solver="fwd_euler")

    g = jax.numpy.asarray([[0.12], [0.10]])
    batched = jax.jit(jax.vmap(run))(g)
    eager = run(g[0])
    assert batched.shape == (2, *eager.shape)
    # the same solver steps, jitted or not: measured max |Δ| 0 mV (float32 and float64)
    np.testing.assert_allclose(batched[0], eager, atol=1e-5)


def test_quickly_compiled_jacobian_equals_the_optimised_program(x64):
    """The Jacobian's program is compiled without XLA's optimisation passes (it runs once):
    its entries equal those of the fully optimised program to rounding."""
    from simulator.program import structure_of
    from simulator.solvers import stability

    cell = _cell()
    init_fn, _ = jx.build_init_and_step_fn(cell, solver="fwd_euler")
    states, params = init_fn(cell.base.get_parameters())
    structure = structure_of(cell.base._compiled)
    quick = stability._compiled_jacobian(structure, states, params)(states, params)
    optimised = stability._step_jacobian(states, params, structure=structure)
    # measured: 1.1e-16 (float64), 0 in float32 on this cell: the same arithmetic, in
    # another order at most
    np.testing.assert_allclose(np.asarray(quick), np.asarray(optimised), rtol=1e-12,
                               atol=1e-12 * float(np.abs(optimised).max()))
    assert stability._compiled_jacobian(structure, states, params) is (
        stability._compiled_jacobian(structure, states, params))  # compiled once
