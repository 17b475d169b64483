"""Rate synapses driven by tanh of the pre-synaptic voltage."""

from __future__ import annotations

import jax.numpy as jnp

from simulator.param_ranges import Range
from simulator.synapses.synapse import Synapse


def _drive(p: str, pre_voltage, params):
    """tanh((v_pre − x_offset) · slope) of the synapse type named ``p`` (dimensionless)."""
    return jnp.tanh((pre_voltage - params[f"{p}_x_offset"]) * params[f"{p}_slope"])


class TanhRateSynapse(Synapse):
    """Current synapse: I = −gS · tanh((v_pre − x_offset) · slope) (nA), no state.

    Params: ``gS`` 1e-4, ``x_offset`` −70 mV, ``slope`` 1 1/mV. Independent of v_post.
    """

    elementwise = True

    param_ranges = {"gS": Range(0.0, units="µS", what="conductance")}

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_x_offset": -70.0, f"{p}_slope": 1.0}
        self.synapse_states = {}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self.name
        drive = _drive(p, pre_voltage, params)
        return -params[f"{p}_gS"] * drive + 0.0 * post_voltage

    def linear_current(self, states, pre_voltage, params):
        p = self.name
        drive = _drive(p, pre_voltage, params)
        return jnp.zeros_like(drive), -params[f"{p}_gS"] * drive


class TanhConductanceSynapse(Synapse):
    """Conductance synapse: I = tanh((v_pre − x_offset) · slope) · gS · (v_post − e_syn) (nA).

    Params: ``gS`` 1e-4 µS, ``e_syn`` 0 mV, ``x_offset`` −70 mV, ``slope`` 1 1/mV.
    """

    param_ranges = {"gS": Range(0.0, units="µS", what="conductance")}
    elementwise = True
    reversal_param = "e_syn"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_e_syn": 0.0, f"{p}_x_offset": -70.0,
                               f"{p}_slope": 1.0}
        self.synapse_states = {}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self.name
        drive = _drive(p, pre_voltage, params)
        return drive * params[f"{p}_gS"] * (post_voltage - params[f"{p}_e_syn"])

    def linear_current(self, states, pre_voltage, params):
        p = self.name
        drive = _drive(p, pre_voltage, params)
        g = drive * params[f"{p}_gS"]
        return g, -g * params[f"{p}_e_syn"]
