"""The ODE solvers by their jaxley names, and the interface every solver implements.

A solver is a small frozen object built once per module:

* ``build(compiled, voltage_solver, width)`` (classmethod): the solver for a
  :class:`~simulator.compile.CompiledModule`, with ``voltage_solver`` and ``width`` choosing
  the tree solver of implicit solvers (:mod:`simulator.solvers.voltage`);
* ``prepare(conductances, delta_t) -> dict``: what the solver precomputes once per parameters
  and step (e.g. :class:`~simulator.solvers.exponential.ExpEuler`'s transition matrices),
  keyed as ``conductances`` (quantity -> (n_edges,) axial conductances, 1/ms); ``{}`` if none;
* ``update(x, lam, kappa, g, delta_t, prepared, reference) -> x_new``: one step of
  ``dx/dt = -lam·x + kappa + Σ_in g (x_source − x)`` for one quantity (n_nodes,), with
  ``prepared`` that quantity's entry of ``prepare``'s dict (or None) and ``reference`` True
  for the voltage, False for diffused concentrations (see :mod:`simulator.solvers.voltage`).

:func:`simulator.step.make_step_fn` takes a name of :data:`SOLVERS` or any object with
``prepare`` and ``update``.
"""

from __future__ import annotations

from simulator.solvers.exponential import ExpEuler
from simulator.solvers.voltage import VOLTAGE_SOLVERS, BwdEuler, CrankNicolson, FwdEuler

#: Solver classes by jaxley's names.
SOLVERS = {"bwd_euler": BwdEuler, "crank_nicolson": CrankNicolson, "fwd_euler": FwdEuler,
           "exp_euler": ExpEuler}


def check_solver_names(solver: str, voltage_solver: str) -> None:
    """ValueError unless ``solver`` is in :data:`SOLVERS` and ``voltage_solver`` in
    :data:`~simulator.solvers.voltage.VOLTAGE_SOLVERS`."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid solvers: {list(SOLVERS)}")
    if voltage_solver not in VOLTAGE_SOLVERS:
        raise ValueError(
            f"unknown voltage_solver {voltage_solver!r}; valid: {list(VOLTAGE_SOLVERS)}"
        )


def make_solver(name: str, compiled, voltage_solver: str = "jaxley.dhs",
                width: int | None = None):
    """The solver ``name`` (a key of :data:`SOLVERS`) for ``compiled``; ``voltage_solver`` and
    ``width`` (DHS level width, None: 1 on CPU, 32 on accelerators) as in ``integrate``."""
    check_solver_names(name, voltage_solver)
    return SOLVERS[name].build(compiled, voltage_solver, width)
