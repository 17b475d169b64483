"""Calcium pump with decay to a resting concentration (modified from Destexhe et al., 1994)."""

from __future__ import annotations

from simulator.param_ranges import CONCENTRATION, TIME_CONSTANT, Range
from simulator.pumps.pump import Pump

__all__ = ["CaPump"]

#: Faraday constant (C/mol) as jaxley's CaPump uses it.
FARADAY = 96485.0


class CaPump(Pump):
    """Calcium influx from the membrane current ``i_Ca`` plus first-order removal.

    d[Ca]/dt = −1e4 · i_Ca · γ / (2 F · depth) − ([Ca] − [Ca]_min) / decay

    with ``i_Ca`` in mA/cm² (the value of the previous step), ``depth`` in µm, ``decay`` in
    ms and concentrations in mM. Parameters ``<name>_gamma`` (fraction of free calcium, 0.05),
    ``<name>_decay`` (80 ms), ``<name>_depth`` (0.1 µm), ``<name>_minCaCon_i`` (1e-4 mM);
    states ``i_Ca`` (1e-8) and ``CaCon_i`` (5e-5 mM); current name ``i_CaPump``.
    """

    elementwise = True

    param_ranges = {
        "gamma": Range(0.0, 1.0, what="free calcium fraction"),
        "decay": TIME_CONSTANT,
        "depth": Range(0.0, units="µm", low_open=True, what="shell depth"),
        "minCaCon_i": CONCENTRATION,
        "CaCon_i": CONCENTRATION,
    }

    META = {"reference": "Modified from Destexhe et al., 1994", "mechanism": "Calcium dynamics"}

    def __init__(self, name: str | None = None):
        super().__init__(name)
        prefix = self.name
        self.channel_params = {
            f"{prefix}_gamma": 0.05,
            f"{prefix}_decay": 80,
            f"{prefix}_depth": 0.1,
            f"{prefix}_minCaCon_i": 1e-4,
        }
        self.channel_states = {"i_Ca": 1e-8, "CaCon_i": 5e-5}
        self.ion_name = "CaCon_i"
        self.current_name = "i_CaPump"

    def update_states(self, states, dt, v, params):
        return {}

    def compute_current(self, states, ion_concentration, params):
        """−d[Ca]/dt (mM/ms)."""
        prefix = self.name
        gamma = params[f"{prefix}_gamma"]
        decay = params[f"{prefix}_decay"]
        depth = params[f"{prefix}_depth"]
        minimum = params[f"{prefix}_minCaCon_i"]
        influx = -10_000.0 * states["i_Ca"] * gamma / (2.0 * FARADAY * depth)
        return -(influx - (ion_concentration - minimum) / decay)

    def init_state(self, states, v, params, delta_t):
        return {}
