"""Electrodes coupled to the cable equation: the per-parameter matrices of a step.

Stimulation, as NEURON's ``extracellular`` mechanism with ``e_extracellular`` imposed:
V_e = S @ I_contacts (mV, contact currents µA) enters the equation of compartment i as the
axial term Σ_j g_ij (V_e,j − V_e,i) (mV/ms, the *activating function*), with the voltage's
axial conductances g (1/ms, already divided by area and capacitance). A branch point (a
zero-area node solved by Kirchhoff's law) holds the intracellular potential V_i = the
g-weighted mean of its neighbours' V_i, whatever its own V_e (as NEURON's zero-area
nodes): it enters through the weighted mean of its neighbours' V_e, and its stored ``v`` is
V_i minus that mean.

Recording: the transmembrane current of compartment i (nA) is, by Kirchhoff, the axial
current into it plus its stimulus, i_m = c·A·1e-5 · Σ_j g_ij (V_i,j − V_i,i) + I_stim
(V_i = v + V_e); for backward Euler this equals C dV/dt + I_ion exactly, and like NEURON's
``i_membrane_`` it includes the electrode current. The contacts record 1000 · M @ i_m (µV)
with M the recording matrix (mV/nA, :func:`~simulator.extracellular.electrode_matrix`).

Everything here is a pure function of ``all_params`` (electrode positions and σ are traced
leaves): computed once per parameters in the step's ``prepare``, then one mat-vec per step.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.extracellular.electrode import Electrode
from simulator.extracellular.mapping import electrode_matrix, stimulation_matrix
from simulator.extracellular.medium import Medium

#: nA per (µF/cm² · µm² · mV/ms): c·A·g·ΔV in nA.
CURRENT_SCALE = 1e-5
#: µV per mV.
UV_PER_MV = 1e3
#: The externals key of extracellular contact currents (µA).
CONTACTS = "i_extracellular"


def _into_branch_points(compiled, g):
    """``(src, snk, frac)`` of the edges into branch points: a branch point's V_i is
    Σ frac · V_i[src] over its edges (the g-weighted mean of its neighbours)."""
    num = compiled.numbering
    into_bp = ~compiled.is_comp[num.edge_sink]
    src, snk, w = num.edge_source[into_bp], num.edge_sink[into_bp], g[into_bp]
    return src, snk, w / jnp.zeros(num.n_nodes, g.dtype).at[snk].add(w)[snk]


def _node_rows(compiled, per_comp, g):
    """(n_comps, k) compartment rows -> (n_nodes, k); branch points get the g-weighted
    mean of their neighbours (see the module docstring)."""
    num = compiled.numbering
    src, snk, frac = _into_branch_points(compiled, g)
    rows = jnp.zeros((num.n_nodes, per_comp.shape[1]), per_comp.dtype)
    rows = rows.at[num.comp_nodes].set(per_comp)
    return rows.at[snk].add(frac[:, None] * rows[src])


def _through_branch_points(compiled, columns, g):
    """``columns`` (k, n_nodes) acting on node voltages, each branch point's column moved
    onto its neighbours by its g-weighted mean: stored branch-point values never enter."""
    src, snk, frac = _into_branch_points(compiled, g)
    bps = compiled.numbering.branch_point_nodes
    return columns.at[:, bps].set(0.0).at[:, src].add(columns[:, snk] * frac)


def _axial(compiled, rows, g):
    """Σ_j g_ij (x_j − x_i) into every compartment, per column of ``rows`` (n_nodes, k)."""
    num = compiled.numbering
    comp = compiled.is_comp[num.edge_sink]
    src, snk = num.edge_source[comp], num.edge_sink[comp]
    return jnp.zeros_like(rows).at[snk].add(g[comp][:, None] * (rows[src] - rows[snk]))


def prepare(compiled, all_params: dict) -> dict:
    """Per-parameter matrices of the electrodes of ``compiled``.

    Returns:
        ``activating`` (n_nodes, n_contacts) mV/ms per µA; and, for recording,
        ``lfp_v`` (n_rec, n_nodes) µV/mV, ``lfp_contacts`` (n_rec, n_contacts) µV/µA,
        ``lfp_stim`` (n_rec, n_nodes) µV/nA (n_rec: recorded contacts, n_contacts: all).
    """
    ext = all_params["extracellular"]
    segments, g = ext["segments"], all_params["axial_conductances"]["v"]
    potentials, recorders = [], []
    for name, model, names, recorded in compiled.electrodes:
        values = ext["electrodes"][name]
        electrode = Electrode.tree_unflatten(names, (values["positions"], values["weights"]))
        medium = Medium.tree_unflatten(None, (values["sigma"],))
        potentials.append(stimulation_matrix(segments, electrode, medium, model))
        if recorded:
            recorders.append(electrode_matrix(segments, electrode, medium, model))
    s_nodes = _node_rows(compiled, jnp.concatenate(potentials, axis=1), g)
    out = {"activating": _axial(compiled, s_nodes, g)}
    if recorders:
        num = compiled.numbering
        m_comps = UV_PER_MV * jnp.concatenate(recorders)
        m_nodes = jnp.zeros((len(m_comps), num.n_nodes), m_comps.dtype).at[
            :, num.comp_nodes].set(m_comps)
        scale = CURRENT_SCALE * all_params["capacitance"] * all_params["area"]
        # (M K) with K v = c·A·1e-5 · Σ g (v_src − v_sink) per compartment.
        comp = compiled.is_comp[num.edge_sink]
        src, snk = num.edge_source[comp], num.edge_sink[comp]
        weighted = m_nodes[:, snk] * (scale[snk] * g[comp])
        lfp_v = _through_branch_points(compiled, jnp.zeros_like(m_nodes).at[:, src].add(
            weighted).at[:, snk].add(-weighted), g)
        out.update(lfp_v=lfp_v, lfp_contacts=lfp_v @ s_nodes, lfp_stim=m_nodes)
    return out


def activation(prepared: dict, currents, inds):
    """(n_nodes,) mV/ms: the activating function of contact currents ``currents`` (µA) at
    global contact indices ``inds``."""
    return prepared["activating"][:, inds] @ currents


def recorded_potentials(prepared: dict, v, externals: dict, external_inds: dict):
    """(n_rec,) µV at the recorded contacts from the voltage ``v`` (n_nodes,) mV after a
    step and that step's stimuli (``"i"``, nA) and contact currents (µA). ``lfp_v``'s rows
    sum to zero: v − v[0] spares float32 the cancellation of the resting potential."""
    out = prepared["lfp_v"] @ (v - v[0])
    if CONTACTS in externals:
        inds = external_inds[CONTACTS]
        out = out + prepared["lfp_contacts"][:, inds] @ externals[CONTACTS]
    if "i" in externals:
        out = out + prepared["lfp_stim"][:, external_inds["i"]] @ externals["i"]
    return out
