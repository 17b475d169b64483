"""Exponential Euler for the voltage (Lie–Trotter splitting).

(a) Membrane: per compartment, exact decay towards v∞ = kappa/lam over dt.
(b) Axial: v_comps ← expm(dt·G) v_comps, with G the compartment coupling matrix after the
branch points are eliminated (Kron reduction). G is dense (n_comps × n_comps), so this solver
suits small and medium cells; the transition matrix is computed once by ``init_fn`` (stored
as ``all_params["exp_euler_transition"]``) or per step if absent.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np


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
        return jax.scipy.linalg.expm(self.matrix(g) * dt, max_squarings=16)


def exp_euler(op, coupling, v, lam, kappa, g, dt, transition=None):
    """One exponential-Euler step of the voltage."""
    small = jnp.abs(lam) < 1e-12
    safe_lam = jnp.where(small, 1.0, lam)
    v_inf = kappa / safe_lam
    decayed = v_inf + (v - v_inf) * jnp.exp(-dt * safe_lam)
    v_mem = jnp.where(small, v + dt * kappa, decayed)
    if transition is None:
        transition = coupling.transition(g, dt)
    comps = op.comp_nodes
    v_new = v.at[comps].set(transition @ v_mem[comps])
    return op.branch_point_voltages(v_new, g)
