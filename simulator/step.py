"""The one pure step used by ``integrate``, ``build_init_and_step_fn`` and the envs.

A step is five stages, each a function below, in this order (as jaxley; with steady-state
initial gates it produces the same voltages as NEURON's fadvance, which solves the voltage
before the gates):

1. :func:`advance_mechanisms`: channel states with the start-of-step voltage (exponential
   Euler for gates), then pump states (every channel before every pump, each group in
   insertion order), each seeing the previous step's membrane currents; then synapse states
   with the start-of-step voltages.
2. :func:`linearise_currents`: channel currents around the (possibly channel-written)
   voltage, pump currents (−d[ion]/dt) around their ion's concentration, synapse currents
   around the start-of-step post-synaptic voltage (:func:`simulator.membrane.forward_difference`),
   stimuli (nA) converted to µA/cm² with the compartment area; the voltage terms divided by
   the capacitance.
3. :func:`update_ions`: pumped, non-diffused ions by per-compartment implicit Euler
   ``c' = (c + dt·offset) / (1 + dt·slope)`` (every solver); diffused ions with the solver
   on their own axial conductances (``all_params["axial_conductances"][ion]``).
4. :func:`update_voltage`: the voltage by the solver.
5. :func:`apply_clamps`: clamped states and voltages written (they win over every update).

The solver (:mod:`simulator.solvers.registry`) is chosen once, by :func:`make_step_fn`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from simulator.extracellular import coupling
from simulator.membrane import (
    NA_PER_UM2_TO_UA_PER_CM2,
    advance_synapses,
    all_currents,
    linearise_synapses,
    update_channel_states,
)
from simulator.solvers.registry import make_solver

#: mA/cm² -> µA/cm².
MA_TO_UA = 1e3
CONTACTS = coupling.CONTACTS
#: Externals that are currents, not clamps.
STIMULI = ("i", CONTACTS)


class Linearised(NamedTuple):
    """The currents of one step, linearised (stage 2).

    Attributes:
        lam: (n_nodes,) voltage rate (1/ms), and ``kappa``: (n_nodes,) drive (mV/ms), such
            that the membrane and stimuli give ``dv/dt = −lam·v + kappa``.
        ion_slope, ion_offset: ion -> (n_nodes,) pump terms (1/ms, mM/ms) such that
            ``d[ion]/dt = −slope·[ion] + offset`` (empty without pumps).
        currents: current name -> values: channel (mA/cm²) and pump (mM/ms) currents summed
            per node (n_nodes,), synapse currents (nA) per synapse (n_synapses_of_type,).
    """

    lam: Any
    kappa: Any
    ion_slope: dict
    ion_offset: dict
    currents: dict


def advance_mechanisms(compiled, states: dict, params: dict, delta_t) -> dict:
    """Stage 1: channel, pump and synapse states advanced by ``delta_t`` (ms)."""
    v = states["v"]
    states = update_channel_states(compiled.channels + compiled.pumps, compiled.current_names,
                                   states, params, v, delta_t)
    return advance_synapses(compiled.synapses, states, params, v, delta_t)


def linearise_currents(compiled, states: dict, params: dict, v_start, externals: dict,
                       external_inds: dict, prepared: dict | None = None) -> Linearised:
    """Stage 2: every current linearised at ``states`` (synapses at the start-of-step
    voltage ``v_start``, (n_nodes,) mV), stimuli ``externals["i"]`` (nA) added, and the
    activating function of contact currents (``prepared["extracellular"]``)."""
    slope, offset, ion_slope, ion_offset, currents = all_currents(compiled, states, params,
                                                                  states["v"])
    kappa = MA_TO_UA * offset
    lam = MA_TO_UA * slope
    if compiled.synapses:
        syn_slope, syn_offset, syn_currents = linearise_synapses(compiled.synapses, states,
                                                                 params, v_start)
        lam = lam + syn_slope
        kappa = kappa + syn_offset
        currents = {**currents, **syn_currents}
    if "i" in externals:
        inds = external_inds["i"]
        area = params["area"][inds]
        kappa = kappa.at[inds].add(externals["i"] * NA_PER_UM2_TO_UA_PER_CM2 / area)
    capacitance = params["capacitance"]
    kappa = kappa / capacitance
    if CONTACTS in externals:
        kappa = kappa + coupling.activation(prepared["extracellular"], externals[CONTACTS],
                                            external_inds[CONTACTS])
    return Linearised(lam / capacitance, kappa, ion_slope, ion_offset, currents)


def update_ions(compiled, solver, states: dict, terms: Linearised, conductances: dict,
                prepared: dict, delta_t) -> dict:
    """Stage 3: ion name -> new (n_nodes,) concentration (mM) of every ion."""
    ions = {}
    diffused = compiled.diffusion_states
    for ion in compiled.ions:
        if ion not in diffused:
            ions[ion] = ((states[ion] + delta_t * terms.ion_offset[ion])
                         / (1.0 + delta_t * terms.ion_slope[ion]))
    for ion in diffused:
        c = states[ion]
        zeros = jnp.zeros_like(c)
        slope, offset = terms.ion_slope.get(ion, zeros), terms.ion_offset.get(ion, zeros)
        new = solver.update(c, slope, offset, conductances[ion], delta_t, prepared.get(ion),
                            reference=False)
        ions[ion] = new.astype(c.dtype)
    return ions


def update_voltage(solver, v, terms: Linearised, conductances: dict, prepared: dict,
                   delta_t):
    """Stage 4: the new voltage (n_nodes,) (mV) from ``v`` (after stage 1)."""
    return solver.update(v, terms.lam, terms.kappa, conductances["v"], delta_t,
                         prepared.get("v"))


def apply_clamps(states: dict, externals: dict, external_inds: dict) -> dict:
    """Stage 5: ``states`` with every clamped entry (every key of ``externals`` but the
    stimuli ``"i"`` and ``"i_extracellular"``) set to its value at its indices."""
    states = dict(states)
    for key, values in externals.items():
        if key not in STIMULI:
            states[key] = states[key].at[external_inds[key]].set(values)
    return states


def with_electrodes(compiled, prepared: dict, all_params: dict) -> dict:
    """``prepared`` plus the electrodes' matrices (key ``"extracellular"``,
    :func:`simulator.extracellular.coupling.prepare`) when the module has electrodes and
    ``prepared`` lacks them (a solver-only ``prepared``); else ``prepared`` itself."""
    if not compiled.electrodes or "extracellular" in prepared:
        return prepared
    return {**prepared, "extracellular": coupling.prepare(compiled, all_params)}


@dataclasses.dataclass(frozen=True, eq=False)
class Step:
    """``step(all_states, all_params, externals, external_inds, delta_t=0.025,
    prepared=None) -> all_states``: one step of ``compiled`` with ``solver``.

    ``prepared``: :meth:`prepare`'s output for these ``all_params`` and ``delta_t`` (None:
    computed in the step; pass it to precompute once per parameters, e.g. exp_euler's dense
    transition matrices).
    """

    compiled: Any
    solver: Any

    def prepare(self, all_params: dict, delta_t) -> dict:
        """The solver's precomputation for ``all_params`` and ``delta_t`` (ms), and the
        electrodes' matrices (key ``"extracellular"``) if the module has electrodes."""
        return with_electrodes(self.compiled, self.solver.prepare(
            all_params["axial_conductances"], delta_t), all_params)

    def __call__(self, all_states, all_params, externals, external_inds, delta_t=0.025,
                 prepared=None):
        if prepared is None:
            prepared = self.prepare(all_params, delta_t)
        else:
            prepared = with_electrodes(self.compiled, prepared, all_params)
        compiled, conductances = self.compiled, all_params["axial_conductances"]
        v_start = all_states["v"]
        states = advance_mechanisms(compiled, all_states, all_params, delta_t)
        # The new states are materialised before the currents read them: without the
        # barrier XLA fuses each gate's last, cheap operation into both of its consumers
        # (the state written back, the current) and so materialises the exponentials'
        # intermediates instead, four loops per gate instead of one (VoltageTarget x1,024
        # vmapped, float64: 533 -> 399 ns per solver step; docs/performance.md).
        states = jax.lax.optimization_barrier(states)
        terms = linearise_currents(compiled, states, all_params, v_start, externals,
                                   external_inds, prepared)
        ions = update_ions(compiled, self.solver, states, terms, conductances, prepared,
                           delta_t)
        v = update_voltage(self.solver, states["v"], terms, conductances, prepared, delta_t)
        states = {**states, **terms.currents, **ions, "v": v.astype(v_start.dtype)}
        return apply_clamps(states, externals, external_inds)


def make_step_fn(compiled, solver="bwd_euler", voltage_solver: str = "jaxley.dhs",
                 width: int | None = None) -> Step:
    """The :class:`Step` of ``compiled``.

    Args:
        compiled: a :class:`~simulator.compile.CompiledModule`.
        solver: ``bwd_euler`` | ``crank_nicolson`` | ``fwd_euler`` | ``exp_euler``, or a
            solver object (``prepare`` and ``update``, see :mod:`simulator.solvers.registry`).
        voltage_solver: tree solver of the implicit solvers (see ``VOLTAGE_SOLVERS``).
        width: DHS level width (None: 1 on CPU, 32 on accelerators).
    """
    if isinstance(solver, str):
        solver = make_solver(solver, compiled, voltage_solver, width)
    elif not (callable(getattr(solver, "prepare", None))
              and callable(getattr(solver, "update", None))):
        raise TypeError(f"solver must be a solver name or an object with prepare() and"
                        f" update(), got {solver!r}")
    return Step(compiled, solver)
