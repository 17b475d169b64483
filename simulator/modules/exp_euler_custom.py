"""A precomputed transition matrix for ``solver="exp_euler"`` (jaxley 0.14's
``build_exp_euler_transition_matrix`` and ``customize_solver_exp_euler``).

The exponential Euler solver moves the voltage of the compartments through the axial
coupling with ``T = expm(delta_t * G)`` (:mod:`simulator.solvers.exponential`), computed
once per ``integrate`` call. A module whose geometry and axial resistivities are fixed can
compute ``T`` once (``build_exp_euler_transition_matrix``,
:mod:`simulator.modules.exp_euler_matrix`) and hand it to the solver
(:func:`customize_solver_exp_euler`): later ``integrate(..., solver="exp_euler")`` calls
use it instead of computing it (other solvers ignore it). The matrix is the user's
responsibility: it is not updated when radii, lengths, axial resistivities or ``delta_t``
change (as in jaxley).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from simulator.modules.selection import require_whole_module

#: Key of the custom matrix among ``integrate``'s node arrays.
TRANSITION_KEY = "exp_euler_transition"


def customize_solver_exp_euler(module, exp_euler_transition=None) -> None:
    """Use ``exp_euler_transition`` (from ``build_exp_euler_transition_matrix``) in
    every later ``integrate(..., solver="exp_euler")`` of this module; None: compute it in
    each call again (the default). Refused on views (it belongs to the whole module)."""
    require_whole_module(module, "customize_solver_exp_euler")
    if exp_euler_transition is None:
        module.__dict__.pop("_exp_euler_transition", None)
        return
    n = int(module.base.topology.ncomp.sum())
    matrix = jnp.asarray(exp_euler_transition)
    if matrix.shape == (1, n, n):  # jaxley's build_exp_euler_transition_matrix of one cell
        matrix = matrix[0]
    if matrix.shape != (n, n) or not jnp.issubdtype(matrix.dtype, jnp.floating):
        raise ValueError(
            f"customize_solver_exp_euler: exp_euler_transition must be a real ({n}, {n})"
            f" matrix (one row and column per compartment, from"
            f" build_exp_euler_transition_matrix); got shape {matrix.shape}, dtype {matrix.dtype}")
    if not bool(jnp.all(jnp.isfinite(matrix))):
        raise ValueError("customize_solver_exp_euler: exp_euler_transition must be finite")
    module.__dict__["_exp_euler_transition"] = matrix


def solver_customizers(module) -> dict:
    """jaxley's ``module.solver_customizers``: ``{"exp_euler": {"exp_euler_transition":
    matrix or None}}``."""
    return {"exp_euler": {TRANSITION_KEY: module.base.__dict__.get("_exp_euler_transition")}}


def transition_override(base, solver: str) -> dict:
    """``{TRANSITION_KEY: matrix}`` for ``integrate``'s node arrays when ``solver`` is
    exp_euler and the module has a custom matrix (ValueError if its size no longer fits
    the module), else ``{}``."""
    matrix = base.__dict__.get("_exp_euler_transition")
    if solver != "exp_euler" or matrix is None:
        return {}
    n = int(np.sum(base.topology.ncomp))
    if matrix.shape != (n, n):
        raise ValueError(
            f"the exp_euler transition matrix of customize_solver_exp_euler is {matrix.shape},"
            f" but the module now has {n} compartments: build it again")
    return {TRANSITION_KEY: matrix}
