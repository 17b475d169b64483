"""The one pure step function used by ``integrate``, ``build_init_and_step_fn`` and the envs.

Order within a step (as in jaxley; with steady-state initial gates it produces
the same voltages as NEURON's fadvance, which solves the voltage before the gates):
1. channel states advanced with the start-of-step voltage (exponential Euler for gates),
   then pump states (every channel before every pump, each group in insertion order); each
   sees the membrane currents of the previous step;
2. membrane currents linearised around the (possibly channel-written) voltage with a 1e-3 mV
   forward difference; pump currents (−d[ion]/dt) linearised around the ion concentration
   with a 1e-3 mM forward difference, from the same states (so a pump reading ``i_Ca`` uses
   the previous step's current); both stored as states under their current names;
   stimuli (nA) converted to µA/cm² with the compartment area;
   synapse states advanced with the start-of-step voltages, synapse currents (nA) linearised
   around the post-synaptic voltage and converted with the post-synaptic area;
3. ions: pumped, non-diffused ions by per-compartment implicit Euler
   ``c' = (c + dt·const) / (1 + dt·lin)`` (every solver); diffused states with the chosen
   solver on their own axial conductances (``all_params["axial_conductances"][ion]``;
   exp_euler takes ``all_params["exp_euler_transition_ions"][ion]`` if given, else computes
   the transition matrix in the step);
4. clamps of non-voltage states written (they win over the ion update);
5. voltage update by the chosen solver;
6. voltage clamps written.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.membrane import (
    NA_PER_UM2_TO_UA_PER_CM2,
    all_currents,
    step_synapses,
    update_channel_states,
)
from simulator.solvers import voltage as vs
from simulator.solvers.exponential import KronCoupling, exp_euler

#: mA/cm² -> µA/cm².
MA_TO_UA = 1e3


def make_step_fn(compiled, solver: str = "bwd_euler", voltage_solver: str = "jaxley.dhs",
                 width: int | None = None):
    """Build ``step(all_states, all_params, externals, external_inds, delta_t) -> all_states``.

    Args:
        compiled: a :class:`~simulator.compile.CompiledModule`.
        solver: ``bwd_euler`` | ``crank_nicolson`` | ``fwd_euler`` | ``exp_euler``.
        voltage_solver: tree solver for the implicit solvers (see ``VOLTAGE_SOLVERS``).
        width: DHS level width (None: 1 on CPU, 32 on accelerators).
    """
    vs.check_solver_names(solver, voltage_solver)
    op = vs.VoltageOperator(compiled)
    solve = vs.make_linear_solver(compiled, voltage_solver, width)
    coupling = KronCoupling(compiled) if solver == "exp_euler" else None
    update = {"bwd_euler": vs.bwd_euler, "crank_nicolson": vs.crank_nicolson,
              "fwd_euler": vs.fwd_euler}.get(solver)
    mechanisms = compiled.channels + compiled.pumps
    current_names = compiled.current_names
    synapses = compiled.synapses
    diffused = compiled.diffusion_states
    local_ions = tuple(ion for ion in compiled.ions if ion not in diffused)

    def step(all_states, all_params, externals, external_inds, delta_t=0.025):
        v = all_states["v"]
        states = update_channel_states(mechanisms, current_names, all_states, all_params, v,
                                       delta_t)
        v0 = states["v"]
        slope, offset, lin, const, currents = all_currents(compiled, states, all_params, v0)
        ions = {}
        for ion in local_ions:
            ions[ion] = (states[ion] + delta_t * const[ion]) / (1.0 + delta_t * lin[ion])
        for ion in diffused:
            c = states[ion]
            zeros = jnp.zeros_like(c)
            ion_lin, ion_const = lin.get(ion, zeros), const.get(ion, zeros)
            g_ion = all_params["axial_conductances"][ion]
            if coupling is not None:
                transition = all_params.get("exp_euler_transition_ions", {}).get(ion)
                new = exp_euler(op, coupling, c, ion_lin, ion_const, g_ion, delta_t, transition,
                                reference=False)
            else:
                new = update(op, solve, c, ion_lin, ion_const, g_ion, delta_t, reference=False)
            ions[ion] = new.astype(c.dtype)
        states.update(currents)
        states.update(ions)
        kappa = MA_TO_UA * offset
        lam = MA_TO_UA * slope
        if synapses:
            states, syn_slope, syn_offset = step_synapses(synapses, states, all_params, v,
                                                          delta_t)
            lam = lam + syn_slope
            kappa = kappa + syn_offset
        if "i" in externals:
            inds = external_inds["i"]
            area = all_params["area"][inds]
            kappa = kappa.at[inds].add(externals["i"] * NA_PER_UM2_TO_UA_PER_CM2 / area)
        capacitance = all_params["capacitance"]
        lam = lam / capacitance
        kappa = kappa / capacitance
        for key, values in externals.items():
            if key not in ("i", "v"):
                states[key] = states[key].at[external_inds[key]].set(values)
        g = all_params["axial_conductances"]["v"]
        if coupling is not None:
            v_new = exp_euler(op, coupling, v0, lam, kappa, g, delta_t,
                              all_params.get("exp_euler_transition"))
        else:
            v_new = update(op, solve, v0, lam, kappa, g, delta_t)
        if "v" in externals:
            v_new = v_new.at[external_inds["v"]].set(externals["v"])
        states["v"] = v_new.astype(v.dtype)
        return states

    step.coupling = coupling
    return step
