"""Exponential Euler for the voltage (Lie–Trotter splitting).

(a) Membrane: per compartment, exact decay towards v∞ = kappa/lam over dt.
(b) Axial: v_comps ← expm(dt·G) v_comps, with G the compartment coupling matrix after the
branch points are eliminated (Kron reduction). G is dense (n_comps × n_comps), so this solver
suits small and medium cells; ``ExpEuler.prepare`` computes the transition matrices once per
parameters and ``delta_t`` (``integrate`` and the envs do; the step computes them itself when
not given them).

``T = expm(dt·G)`` is row-stochastic; :func:`generator_expm` keeps it so, and the step
applies ``T`` to the deviations from each cell's root voltage (``r + T (v − r)``). Why, with
the measurements: ``docs/numerics.md`` ("Exponential Euler's transition matrix").
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from simulator.solvers.voltage import VoltageOperator


class KronCoupling:
    """Static index arrays that assemble G from the edge conductances."""

    def __init__(self, compiled) -> None:
        num = compiled.numbering
        position = np.full(num.n_nodes, -1, dtype=np.int64)
        position[num.comp_nodes] = np.arange(len(num.comp_nodes))
        self.n = len(num.comp_nodes)
        is_comp = compiled.is_comp
        src, snk = num.edge_source, num.edge_sink
        cc = is_comp[src] & is_comp[snk]
        self.cc_edges = np.flatnonzero(cc)
        self.cc_rows, self.cc_cols = position[snk[cc]], position[src[cc]]
        into_comp = np.flatnonzero(~is_comp[src] & is_comp[snk])  # branch point -> compartment
        into_bp = np.flatnonzero(is_comp[src] & ~is_comp[snk])  # compartment -> branch point
        self.bc_edges, self.bc_rows = into_comp, position[snk[into_comp]]
        pairs = [(e1, e2) for e1 in into_comp for e2 in into_bp if snk[e2] == src[e1]]
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        self.pair_in, self.pair_w = pairs[:, 0], pairs[:, 1]
        self.pair_rows = position[snk[pairs[:, 0]]]
        self.pair_cols = position[src[pairs[:, 1]]]
        self.pair_bp = snk[pairs[:, 1]]
        self.w_edges, self.w_bp = into_bp, snk[into_bp]
        self.n_nodes = num.n_nodes

    def matrix(self, g):
        """Dense G (1/ms) with (G v)_i = Σ g (v_j − v_i) after eliminating branch points."""
        G = jnp.zeros((self.n, self.n), dtype=g.dtype)
        G = G.at[self.cc_rows, self.cc_cols].add(g[self.cc_edges])
        G = G.at[self.cc_rows, self.cc_rows].add(-g[self.cc_edges])
        G = G.at[self.bc_rows, self.bc_rows].add(-g[self.bc_edges])
        total_w = jnp.zeros(self.n_nodes, dtype=g.dtype).at[self.w_bp].add(g[self.w_edges])
        share = g[self.pair_w] / total_w[self.pair_bp]
        return G.at[self.pair_rows, self.pair_cols].add(g[self.pair_in] * share)

    def transition(self, g, dt):
        """``expm(dt·G)`` (n_comps, n_comps), row-stochastic; see ``generator_expm``."""
        G = self.matrix(g)
        return generator_expm(jnp.where(jnp.eye(self.n, dtype=bool), 0.0, G) * dt)


#: Largest number of squarings: covers ‖dt·G‖ up to 2^64/16 (1e18 1/ms·ms).
MAX_SQUARINGS = 64
#: The scaled generator's exit rates are at most this before the Taylor series.
_THETA = 1.0 / 16


def generator_expm(rates):
    """``expm(Q)`` of a generator given by its off-diagonal part, stochastic to rounding.

    Args:
        rates: ``(n, n)`` off-diagonal rates ``Q[i, j] ≥ 0`` (dimensionless: rate × time),
            zero diagonal; the generator's diagonal is ``−Σ_j rates[i, j]``.

    Returns:
        ``(n, n)`` ``expm(Q)``. Scaling and squaring: ``Q / 2^s`` with exit rates ≤ 1/16,
        a Taylor series (5 terms in float32, 10 in float64; truncation below the dtype's
        rounding), then ``s`` squarings (at most ``MAX_SQUARINGS``), the diagonal recomputed
        as ``1 − Σ off-diagonals`` after each so every row sums to 1.
    """
    n = rates.shape[0]
    if n == 0:
        return rates
    eye = jnp.eye(n, dtype=bool)
    exit_rate = rates.sum(axis=1)
    norm = jnp.max(exit_rate)
    tiny = jnp.finfo(rates.dtype).tiny
    s = jnp.clip(jnp.ceil(jnp.log2(jnp.maximum(norm, tiny) / _THETA)), 0, MAX_SQUARINGS)
    scale = jnp.exp2(-s).astype(rates.dtype)
    q = jnp.where(eye, -exit_rate[:, None], rates) * scale
    terms = 5 if rates.dtype == jnp.float32 else 10
    t = jnp.eye(n, dtype=rates.dtype)
    for k in range(terms, 0, -1):  # Horner: I + Q (I + Q/2 (I + Q/3 (...)))
        t = jnp.eye(n, dtype=rates.dtype) + (q @ t) / k

    def stochastic(t):
        off = jnp.where(eye, 0.0, t)
        return jnp.where(eye, (1.0 - off.sum(axis=1))[:, None], off)

    def square(i, t):
        return jax.lax.cond(i < s, lambda t: stochastic(t @ t), lambda t: t, t)

    return jax.lax.fori_loop(0, MAX_SQUARINGS, square, stochastic(t))


@dataclasses.dataclass(frozen=True, eq=False)
class ExpEuler:
    """Exponential Euler (module docstring); first order, exact for one passive compartment.

    Attributes:
        op: the module's :class:`~simulator.solvers.voltage.VoltageOperator`.
        coupling: the module's :class:`KronCoupling`.
    """

    op: VoltageOperator
    coupling: KronCoupling
    #: ``update`` accepts node arrays with trailing batch axes when given ``prepared``
    #: (the transition matrix then multiplies them; :mod:`simulator.batch_last`).
    batch_last = True

    @classmethod
    def build(cls, compiled, voltage_solver: str, width: int | None):
        return cls(VoltageOperator(compiled), KronCoupling(compiled))

    def prepare(self, conductances: dict, delta_t) -> dict:
        """Transition matrix ``expm(delta_t·G)`` (n_comps, n_comps) of each axially coupled
        quantity (``"v"`` and every diffused ion), keyed as ``conductances`` (name ->
        (n_edges,) conductances, 1/ms)."""
        return {name: self.coupling.transition(g, delta_t) for name, g in conductances.items()}

    def update(self, x, lam, kappa, g, delta_t, prepared=None, reference=True):
        """One step of the voltage (or, with ``reference=False``, of a diffused concentration:
        ``T x`` directly, see ``simulator.solvers.voltage``); ``prepared``: this quantity's
        transition matrix from :meth:`prepare` (None: computed here)."""
        small = jnp.abs(lam) < 1e-12
        safe_lam = jnp.where(small, 1.0, lam)
        x_inf = kappa / safe_lam
        decayed = x_inf + (x - x_inf) * jnp.exp(-delta_t * safe_lam)
        x_mem = jnp.where(small, x + delta_t * kappa, decayed)
        transition = self.coupling.transition(g, delta_t) if prepared is None else prepared
        comps = self.op.comp_nodes
        # T is row-stochastic within each cell, so T r = r for r constant per cell: transform
        # the deviations from each cell's root voltage, not |x| (voltage.py's docstring).
        if reference:
            ref = x_mem[self.op.reference[comps]]
            x_new = x.at[comps].set(ref + transition @ (x_mem[comps] - ref))
        else:
            x_new = x.at[comps].set(transition @ x_mem[comps])
        return self.op.branch_point_voltages(x_new, g)
