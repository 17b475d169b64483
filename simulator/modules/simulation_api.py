"""jaxley's low-level simulation methods of a module: ``initialize``, ``get_all_parameters``,
``get_all_states``, ``append_channel_currents_to_states`` and ``step``.

They expose the pieces that :func:`simulator.integrate` and
:func:`simulator.integrate.build_init_and_step_fn` assemble (prefer those two: they are
checked and compiled once). Each acts on the whole base module, also when called on a view
(jaxley allows them on modules only). Shapes: node arrays (n_nodes,), synapse arrays
(n_synapses_of_type,).
"""

from __future__ import annotations

from simulator.assemble import all_parameters, all_states
from simulator.initialise import device_arrays
from simulator.membrane import all_currents, synapse_currents
from simulator.step import make_step_fn


def _compiled(module):
    base = module.base
    if base._compiled is None:
        base.to_jax()
    return base._compiled


class SimulationMethods:
    """Mixin of :class:`~simulator.modules.base.Module`: see the module docstring."""

    def initialize(self):
        """Drop the compiled form of the module (rebuilt on the next use) and return it.

        Our modules are ready to simulate after every change, so this is never needed; it
        exists because jaxley scripts call it after changing a morphology.
        """
        self._invalidate()
        return self

    def get_all_parameters(self, pstate: list[dict]) -> dict:
        """Every parameter the step reads (``all_params``): the module's values with
        ``pstate`` applied (entries ``{"key", "val", "indices"}`` from ``data_set`` or
        ``simulator.utils.cell_utils.params_to_pstate``), then area, volume, resistive loads
        and ``axial_conductances`` derived from them."""
        compiled = _compiled(self)
        return all_parameters(compiled, device_arrays(compiled), list(pstate))

    def get_all_states(self, pstate: list[dict]) -> dict:
        """Every state (``"v"``, channel, pump and synapse states), with the initial states
        in ``pstate`` applied, without the currents (as jaxley;
        :meth:`append_channel_currents_to_states` adds them)."""
        compiled = _compiled(self)
        nodes = device_arrays(compiled)
        params = all_parameters(compiled, nodes, list(pstate))
        states = all_states(compiled, nodes, list(pstate), params)
        names = {*compiled.state_names, *compiled.synapse_state_names}
        return {k: v for k, v in states.items() if k in names}

    def append_channel_currents_to_states(self, states: dict, all_params: dict,
                                          delta_t: float) -> dict:
        """``states`` plus the membrane (mA/cm²) and synapse (nA) currents at those states
        (``delta_t`` is jaxley's argument; currents do not depend on it)."""
        del delta_t
        compiled = _compiled(self)
        states = dict(states)
        *_, currents = all_currents(compiled, states, all_params, states["v"])
        states.update(currents)
        states.update(synapse_currents(compiled.synapses, states, all_params, states["v"]))
        return states

    def step(self, u: dict, delta_t: float, external_inds: dict, externals: dict,
             params: dict, solver: str = "bwd_euler", voltage_solver: str = "jaxley.stone"):
        """One step of ``delta_t`` ms from states ``u`` (with currents, as
        :meth:`append_channel_currents_to_states` returns them) with ``params`` (as
        :meth:`get_all_parameters` returns them); ``externals[key]`` holds this step's
        values at ``external_inds[key]``. Returns the new states. ``voltage_solver``: any
        name ``integrate`` accepts (jaxley's ``"jaxley.stone"`` runs the exact DHS solve).
        """
        step_fn = make_step_fn(_compiled(self), solver, voltage_solver)
        return step_fn(u, params, externals, external_inds, delta_t)
