"""The axial operator and the implicit and explicit Euler solvers (``BwdEuler``,
``CrankNicolson``, ``FwdEuler``; ``ExpEuler`` is in :mod:`simulator.solvers.exponential`).

Each solver's ``update(x, lam, kappa, g, delta_t, prepared, reference)`` receives the
start-of-step values ``x`` (n_nodes,) of the voltage (mV) or of a diffused concentration
(mM), the linearised membrane terms ``lam`` (1/ms) and ``kappa`` (units of x per ms) such
that, per compartment, ``dx/dt = -lam * x + kappa + Σ_in g (x_source - x)``, the edge
conductances ``g`` (1/ms) and the step ``delta_t`` (ms), and returns the new values
(n_nodes,). Branch points (zero capacitance) always hold the conductance-weighted mean of
their neighbours. The interface is described in :mod:`simulator.solvers.registry`.

The implicit solvers hand the linear solver the matrix's row sums (``1 + dt·lam`` for a
compartment, 0 for a branch point) instead of its diagonal, and for voltages
(``reference=True``) solve for ``x − r`` with ``r`` the start-of-step voltage of each tree's
root; diffused concentrations use ``reference=False``. Both are exact rewrites (float64
changes by rounding only) that keep float32 accurate; why and measured: docs/numerics.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from simulator.node_index import along_nodes, with_zero_row
from simulator.solvers.dense import dense_solve_row_sums
from simulator.solvers.dhs import build_schedule, tree_solve_row_sums
from simulator.solvers.dhs_schedule import tree_roots

#: Voltage solver names: jaxley's names plus ours. Every name but ``"dense"`` (a dense LU
#: solve, for tests) is the exact DHS tree solve (Gaussian elimination on the tree, O(n)):
#: jaxley's ``"jax.sparse"`` (a sparse direct solve) and ``"jaxley.stone"`` (a tridiagonal
#: solve per branch) are also exact direct solves of the same linear system, so they map to
#: DHS; their results agree with jaxley's to rounding.
VOLTAGE_SOLVERS = ("jaxley.dhs", "jaxley.dhs.cpu", "jaxley.dhs.gpu", "dhs", "dense",
                   "jax.sparse", "jaxley.stone")


def default_width(voltage_solver: str) -> int:
    """DHS level width: 1 (sequential Hines) on CPU, 32 lanes on accelerators."""
    if voltage_solver.endswith(".cpu"):
        return 1
    if voltage_solver.endswith(".gpu"):
        return 32
    return 1 if jax.default_backend() == "cpu" else 32


def make_linear_solver(compiled, voltage_solver: str, width: int | None):
    """Return ``solve(row_sums, lower, upper, rhs) -> x`` for the module's tree (node order)."""
    parents = compiled.numbering.tree_parent
    if voltage_solver == "dense":
        return lambda s, lo, up, b: dense_solve_row_sums(parents, s, lo, up, b)
    schedule = build_schedule(parents, default_width(voltage_solver) if width is None else width)
    return lambda s, lo, up, b: tree_solve_row_sums(schedule, s, lo, up, b)


class VoltageOperator:
    """Static index arrays of the axial operator of one compiled module."""

    def __init__(self, compiled) -> None:
        num = compiled.numbering
        self.is_comp = compiled.is_comp
        self.comp_nodes = num.comp_nodes
        self.bp_nodes = num.branch_point_nodes
        self.source = num.edge_source
        self.sink = num.edge_sink
        self.comp_edge = compiled.is_comp[num.edge_sink]
        #: (n_nodes,) node index of the root of each node's tree (each cell's first
        #: compartment): the reference voltage of the implicit solve (module docstring).
        self.reference = tree_roots(num.tree_parent)
        # Roots point at a padding entry (index n_edges) that holds 0.
        n_edges = len(num.edge_sink)
        self.lower_edge = np.where(num.lower_edge < 0, n_edges, num.lower_edge)
        self.upper_edge = np.where(num.upper_edge < 0, n_edges, num.upper_edge)

    def branch_point_voltages(self, v, g):
        """v with branch points set to the weighted mean of their neighbours (KCL)."""
        if not len(self.bp_nodes):
            return v
        into_bp = ~self.comp_edge
        src, snk = self.source[into_bp], self.sink[into_bp]
        w = g[into_bp]
        num = jnp.zeros_like(v).at[snk].add(w * v[src])
        den = jnp.zeros_like(v).at[snk].add(w)
        return v.at[self.bp_nodes].set(num[self.bp_nodes] / den[self.bp_nodes])

    def implicit(self, solve, v, lam, kappa, g, dt, reference=True):
        """Solve (1 + dt·lam + dt·Σg) x_i − dt·Σg x_src = v_i + dt·kappa_i; KCL at branch points.

        The solver gets the row sums (``1 + dt·lam``, and 0 at branch points) instead of
        the diagonal, and (with ``reference``) solves for ``x − r`` with ``r = v[reference]``
        the root voltage of each tree, whose right-hand side ``(v − r) + dt·(kappa − r·lam)``
        is formed without a term of the size of ``v``; see the module docstring.
        """
        is_comp = along_nodes(self.is_comp, v)
        gs = jnp.where(along_nodes(self.comp_edge, g), dt * g, g)
        row_sums = jnp.where(is_comp, 1.0 + dt * lam, 0.0)
        padded = with_zero_row(-gs)
        lower, upper = padded[self.lower_edge], padded[self.upper_edge]
        if not reference:
            return solve(row_sums, lower, upper, jnp.where(is_comp, v + dt * kappa, 0.0))
        ref = v[self.reference]
        # (v + dt·kappa) − ref·row_sums, summed so that no term is the size of v: (v − ref)
        # is exact for nearby voltages and the membrane terms enter scaled by dt. Forming
        # v + dt·kappa first rounded every step at the size of v (4e-6 mV in
        # float32), which a slow passive compartment accumulates to that error divided by
        # dt/τ (3e-3 mV at τ = 33 ms; docs/numerics.md).
        shifted = jnp.where(is_comp, (v - ref) + dt * (kappa - ref * lam), 0.0)
        return ref + solve(row_sums, lower, upper, shifted)

    def axial_flux(self, v, g):
        """Σ_in g (v_source − v_sink) into each compartment (mV/ms)."""
        comp = self.comp_edge
        src, snk = self.source[comp], self.sink[comp]
        return jnp.zeros_like(v).at[snk].add(g[comp] * (v[src] - v[snk]))


@dataclasses.dataclass(frozen=True, eq=False)
class _OnOperator:
    """A solver on the module's :class:`VoltageOperator` ``op`` with nothing to precompute."""

    op: VoltageOperator

    @classmethod
    def build(cls, compiled, voltage_solver: str, width: int | None):
        return cls(VoltageOperator(compiled))

    def prepare(self, conductances: dict, delta_t) -> dict:
        """Nothing to precompute: ``{}``."""
        return {}


@dataclasses.dataclass(frozen=True, eq=False)
class BwdEuler(_OnOperator):
    """Backward (linearly implicit) Euler; first order, unconditionally stable.

    Attributes:
        op: the module's :class:`VoltageOperator`.
        solve: ``solve(row_sums, lower, upper, rhs) -> x`` (:func:`make_linear_solver`).
    """

    solve: Callable
    #: Whether ``update`` accepts node arrays with trailing batch axes (``(n, ...)``,
    #: :mod:`simulator.batch_last`): the DHS tree solve does, the dense one does not.
    batch_last: bool = False

    @classmethod
    def build(cls, compiled, voltage_solver: str, width: int | None):
        return cls(VoltageOperator(compiled), make_linear_solver(compiled, voltage_solver,
                                                                 width),
                   batch_last=voltage_solver != "dense")

    def update(self, x, lam, kappa, g, delta_t, prepared=None, reference=True):
        return self.op.implicit(self.solve, x, lam, kappa, g, delta_t, reference)


@dataclasses.dataclass(frozen=True, eq=False)
class CrankNicolson(BwdEuler):
    """Half-step implicit solve then extrapolation, x = 2 x_½ − x (NEURON's secondorder=1);
    second order."""

    def update(self, x, lam, kappa, g, delta_t, prepared=None, reference=True):
        half = self.op.implicit(self.solve, x, lam, kappa, g, 0.5 * delta_t, reference)
        return jnp.where(along_nodes(self.op.is_comp, x), 2.0 * half - x, half)


@dataclasses.dataclass(frozen=True, eq=False)
class FwdEuler(_OnOperator):
    """Explicit Euler; first order, stable only for dt below the fastest axial time scale
    (``reference`` is unused: no solve)."""

    #: ``update`` accepts node arrays with trailing batch axes (:mod:`simulator.batch_last`).
    batch_last = True

    def update(self, x, lam, kappa, g, delta_t, prepared=None, reference=True):
        op = self.op
        x = op.branch_point_voltages(x, g)
        dx = -lam * x + kappa + op.axial_flux(x, g)
        is_comp = along_nodes(op.is_comp, x)
        return op.branch_point_voltages(jnp.where(is_comp, x + delta_t * dx, x), g)
