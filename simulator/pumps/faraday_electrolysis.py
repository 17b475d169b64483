"""Calcium concentration change from the calcium membrane current (Faraday's law)."""

from __future__ import annotations

from simulator.param_ranges import CONCENTRATION
from simulator.pumps.pump import Pump

__all__ = ["CaFaradayConcentrationChange"]

#: Faraday constant (C/mol).
FARADAY = 96485.3329


class CaFaradayConcentrationChange(Pump):
    """d[Ca]/dt = −i_Ca · (2/r) · 1e4 / F / 2.

    ``i_Ca`` (mA/cm², the value of the previous step) flows through the surface of a cylinder
    of radius ``r`` (µm), whose surface-to-volume ratio is 2/r; valence 2. No parameters;
    states ``i_Ca`` (1e-8) and ``CaCon_i`` (5e-5 mM); current name ``i_CaCurrent``.
    """

    elementwise = True

    param_ranges = {"CaCon_i": CONCENTRATION}

    META = {"mechanism": "Calcium change"}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.channel_params = {}
        self.channel_states = {"i_Ca": 1e-8, "CaCon_i": 5e-5}
        self.ion_name = "CaCon_i"
        self.current_name = "i_CaCurrent"

    def update_states(self, states, dt, v, params):
        return {}

    def compute_current(self, states, ion_concentration, params):
        """−d[Ca]/dt (mM/ms); independent of the concentration."""
        surface_to_volume = 2.0 / params["radius"]
        return states["i_Ca"] * surface_to_volume * 10_000.0 / FARADAY / 2.0

    def init_state(self, states, v, params, delta_t):
        return {}
