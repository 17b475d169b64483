"""``build_exp_euler_transition_matrix``: the exponential Euler solver's voltage transition
matrix of a module, to precompute once (see :mod:`simulator.modules.exp_euler_custom`)."""

from __future__ import annotations

from simulator.integrate import build_init_and_step_fn
from simulator.run_checks import check_time
from simulator.solvers.registry import make_solver


def build_exp_euler_transition_matrix(module, delta_t: float):
    """``expm(delta_t * G)`` of the voltage, shape (n_comps, n_comps) in global compartment
    order, for the module's current parameters (trainables at their current values).

    Args:
        delta_t: time step (ms) the matrix is for; pass the same to ``integrate``.
    """
    delta_t = check_time(delta_t, "delta_t", "a positive time step in ms", positive=True)
    base = module.base
    init_fn, _ = build_init_and_step_fn(base, solver="exp_euler")
    _, all_params = init_fn(base.get_parameters(), delta_t=delta_t)
    solver = make_solver("exp_euler", base._compiled)
    return solver.prepare({"v": all_params["axial_conductances"]["v"]}, delta_t)["v"]
