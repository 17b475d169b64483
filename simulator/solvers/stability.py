"""Time-step stability of the explicit voltage solver, checked when a run is built.

Forward Euler (``fwd_euler``) is stable iff ``dt ≤ −2 Re μ / |μ|²`` for every eigenvalue μ
(Re μ < 0) of A = (J − I) / dt, J the Jacobian (``jax.jacfwd``) of one forward-Euler step with
respect to the compartment voltages (mV) at the given states; for real μ this is
``dt ≤ 2 / λ_max`` (ms). Eigenvalues with Re μ > 0 are the model's own growing dynamics and
are not counted. ``exp_euler``, ``bwd_euler`` and ``crank_nicolson`` have no such bound for
their linear part. Derivation and measurements: docs/numerics.md.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from simulator.initialise import own_values
from simulator.program import structure_of
from simulator.step import make_step_fn


class NumericalStabilityWarning(UserWarning):
    """A time step past the explicit solver's stability bound (see
    :mod:`simulator.solvers.stability`)."""


#: Solvers with a linear stability bound on the time step.
EXPLICIT_SOLVERS = ("fwd_euler",)
#: Largest number of compartments for which the dense Jacobian is formed (n² entries).
MAX_DENSE_COMPARTMENTS = 3000


def rate_matrix(compiled, states: dict, params: dict) -> np.ndarray:
    """A (n_comps × n_comps, 1/ms, float64 NumPy): the linearised dv/dt of the compartment
    voltages at ``states`` (see the module docstring)."""
    jacobian = _compiled_jacobian(structure_of(compiled), states, params)
    jac = np.asarray(jacobian(states, params), np.float64)
    return (jac - np.eye(jac.shape[0])) / _JACOBIAN_DT


#: XLA options of the Jacobian's program: it runs once per module (a few ms), so compiling
#: it fast matters and running it fast does not. BasalGangliaDBS-v0's Jacobian compiles in
#: 1.2–1.3 s with the first two options against 1.8 s without, and in 0.62 s with XLA's
#: older per-fusion code emitter as well (``xla_cpu_use_fusion_emitters``; quiet machine,
#: no persistent cache; docs/performance.md, fifth and sixth passes) and runs in 4–6 ms
#: against 2; its entries change by rounding only (float32: 3e-6 relative in their sum).
_QUICK_COMPILE = {"xla_backend_optimization_level": 0,
                  "xla_llvm_disable_expensive_passes": True,
                  "xla_cpu_use_fusion_emitters": False}


def _compiled_jacobian(structure, states, params):
    """The compiled ``_step_jacobian`` of ``structure`` for the types of ``states`` and
    ``params`` (shapes, dtypes, weak types; compiled with :data:`_QUICK_COMPILE`, once per
    structure and types in a process, the 16 most recently used kept)."""
    avals, treedef = jax.tree_util.tree_flatten(jax.tree_util.tree_map(jax.typeof,
                                                                       (states, params)))
    return _compile_jacobian(structure, treedef, tuple(avals))


@functools.lru_cache(maxsize=16)
def _compile_jacobian(structure, treedef, avals):
    specs = [jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in avals]
    states, params = jax.tree_util.tree_unflatten(treedef, specs)
    lowered = _step_jacobian.lower(states, params, structure=structure)
    return lowered.compile(compiler_options=_QUICK_COMPILE)


#: Step (ms) of the Jacobian: J − I is exactly proportional to it except through the gates'
#: update (a relative effect of order dt · gate rate, 1e-3 here).
_JACOBIAN_DT = 1e-3


@functools.partial(jax.jit, static_argnames="structure")
def _step_jacobian(states, params, *, structure):
    """∂v_comps(after one forward-Euler step of _JACOBIAN_DT) / ∂v_comps (compiled once per
    module structure)."""
    compiled = structure.compiled
    step = make_step_fn(compiled, "fwd_euler", "dense")
    comps = np.asarray(compiled.numbering.comp_nodes)
    v0 = jnp.asarray(states["v"])

    def advance(v_comps):
        v = v0.at[comps].set(v_comps)
        return step({**states, "v": v}, params, {}, {}, _JACOBIAN_DT)["v"][comps]

    return jax.jacfwd(advance)(v0[comps])


def max_stable_dt(compiled, states: dict, params: dict) -> float:
    """dt_max (ms) of forward Euler at ``states``: the largest time step for which every
    decaying mode of A stays bounded (``inf`` if none decays)."""
    n = len(compiled.numbering.comp_nodes)
    if n > MAX_DENSE_COMPARTMENTS:
        raise ValueError(f"the stability bound forms a dense {n} x {n} Jacobian; at most "
                         f"{MAX_DENSE_COMPARTMENTS} compartments are supported")
    mu = np.linalg.eigvals(rate_matrix(compiled, states, params))
    decaying = mu[mu.real < 0]
    if decaying.size == 0:
        return float("inf")
    return float(np.min(-2.0 * decaying.real / np.abs(decaying) ** 2))


def check_time_step(compiled, solver: str, delta_t: float, states: dict, params: dict,
                    stacklevel: int = 3) -> float | None:
    """Warn (:class:`NumericalStabilityWarning`) if ``solver`` is explicit and ``delta_t``
    (ms) exceeds its bound at ``states``/``params`` (concrete ``init_fn`` outputs).

    Returns:
        the bound (ms) for an explicit solver, None for the others (no bound; see the
        module docstring) and for modules too large for the dense Jacobian.
    """
    too_large = len(compiled.numbering.comp_nodes) > MAX_DENSE_COMPARTMENTS
    if solver not in EXPLICIT_SOLVERS or too_large:
        return None
    bound = max_stable_dt(compiled, states, params)
    warn_past_bound(solver, delta_t, bound, stacklevel + 1)
    return bound


def warn_past_bound(solver: str, delta_t: float, bound: float, stacklevel: int = 3) -> None:
    """The :class:`NumericalStabilityWarning` of :func:`check_time_step` if ``delta_t`` (ms)
    exceeds ``bound`` (ms, :func:`max_stable_dt`)."""
    if delta_t > bound:
        warnings.warn(
            f"solver={solver!r} with delta_t={delta_t!r} ms is past its stability bound "
            f"dt_max = {bound:.4g} ms (2 / largest rate of the linearised voltage equation "
            f"at the initial states): the simulation will blow up. Use delta_t <= "
            f"{bound:.4g} ms or an implicit solver ('bwd_euler', 'crank_nicolson').",
            NumericalStabilityWarning, stacklevel=stacklevel + 1)


def check_module(module, solver: str, delta_t: float, stacklevel: int = 4) -> float | None:
    """:func:`check_time_step` for a module's own values (its parameters and initial
    states as built, without ``params``/``param_state`` overrides)."""
    if solver not in EXPLICIT_SOLVERS:
        return None
    base = module.base
    base.to_jax()
    # Concrete even when integrate runs under an outer jit/vmap (the module's own values
    # are constants of the trace; staged, they would be tracers numpy cannot read).
    with jax.ensure_compile_time_eval():
        states, params = own_values(base._compiled)
        return check_time_step(base._compiled, solver, delta_t, states, params, stacklevel)
