"""jaxley's ``jaxley.solver_gate`` module path.

The gate solvers themselves live in :mod:`simulator.solvers.gates` (one implementation);
this module only makes them importable under jaxley's name, so channel models written for
jaxley (``from jaxley.solver_gate import save_exp, solve_gate_exponential``) and packages
built on it (``jaxley_mech``) run unchanged. Units: ``dt`` and time constants in ms, rates in
1/ms, gates dimensionless.
"""

from simulator.solvers.gates import (
    exponential_euler,
    save_exp,
    solve_gate_exponential,
    solve_gate_implicit,
    solve_inf_gate_exponential,
)

__all__ = [
    "exponential_euler",
    "save_exp",
    "solve_gate_exponential",
    "solve_gate_implicit",
    "solve_inf_gate_exponential",
]
