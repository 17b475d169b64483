"""Synapses whose current is a gated conductance: I = gS · s · (v_post − e_syn)."""

from __future__ import annotations

from simulator.synapses.synapse import Synapse


class GatedConductanceSynapse(Synapse):
    """Base of chemical synapses with current ``gS · s · (v_post − e_syn)`` (nA; ``gS`` µS,
    ``s`` the open fraction, ``e_syn`` mV), from the parameters ``<name>_gS``,
    ``<name>_e_syn`` and the state ``<name>_s``; subclasses define those and the state's
    update. The current is linear in ``v_post`` (slope ``gS · s``, reversal ``e_syn``)."""

    reversal_param = "e_syn"

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self.name
        return params[f"{p}_gS"] * states[f"{p}_s"] * (post_voltage - params[f"{p}_e_syn"])

    def linear_current(self, states, pre_voltage, params):
        p = self.name
        g = params[f"{p}_gS"] * states[f"{p}_s"]
        return g, -g * params[f"{p}_e_syn"]
