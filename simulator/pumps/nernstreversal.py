"""Calcium reversal potential from the Nernst equation."""

from __future__ import annotations

import jax.numpy as jnp

from simulator.param_ranges import Range
from simulator.pumps.pump import Pump

__all__ = ["CHANNEL_CONSTANTS", "CaNernstReversal"]

#: Defaults of :attr:`CaNernstReversal.channel_constants`: gas constant R (J/(mol·K)),
#: temperature T (K, 6.3 °C) and Faraday constant F (C/mol). Each instance copies this dict
#: when it is created; edit ``instance.channel_constants`` (or this dict, before creating the
#: instance) to change them.
CHANNEL_CONSTANTS = {"F": 96485.3329, "T": 279.45, "R": 8.314}


class CaNernstReversal(Pump):
    """eCa = (R·T / (2F)) · 1000 · ln([Ca]_e / [Ca]_i)  (mV).

    A pump with zero current: its ``update_states`` writes the state ``eCa`` from the
    concentrations at the start of the step. States ``eCa`` (0 mV), ``CaCon_i`` (5e-5 mM),
    ``CaCon_e`` (2 mM); no parameters; current name ``i_Ca``.

    Note (as in jaxley): channels such as ``CaL``/``CaT`` read ``eCa`` from their
    *parameters*, which this mechanism does not change, so the state ``eCa`` computed here
    does not feed back into their currents.
    """

    elementwise = True

    # ln([Ca]_e / [Ca]_i): both strictly positive.
    param_ranges = {"CaCon_i": Range(0.0, units="mM", low_open=True, what="concentration"),
                    "CaCon_e": Range(0.0, units="mM", low_open=True, what="concentration")}

    META = {"ion": "Ca"}

    def __init__(self, name: str | None = None):
        self.current_is_in_mA_per_cm2 = True
        super().__init__(name)
        self.channel_constants = dict(CHANNEL_CONSTANTS)
        self.channel_params = {}
        self.channel_states = {"eCa": 0.0, "CaCon_i": 5e-5, "CaCon_e": 2.0}
        self.ion_name = "CaCon_i"
        self.current_name = "i_Ca"

    def update_states(self, states, dt, v, params):
        constants = self.channel_constants
        factor = constants["R"] * constants["T"] / (2.0 * constants["F"]) * 1000.0
        return {"eCa": factor * jnp.log(states["CaCon_e"] / states["CaCon_i"])}

    def compute_current(self, states, ion_concentration, params):
        return jnp.zeros_like(ion_concentration)

    def init_state(self, states, v, params, delta_t):
        return {}
