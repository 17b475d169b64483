"""Ionotropic (graded, conductance-based) synapse of Abbott & Marder (1998)."""

from __future__ import annotations

import jax.numpy as jnp

from simulator.param_ranges import GATE, RATE, Range
from simulator.synapses.gated_conductance import GatedConductanceSynapse


class IonotropicSynapse(GatedConductanceSynapse):
    """Graded chemical synapse: the open fraction s relaxes towards a sigmoid of v_pre.

    s̄ = 1 / (1 + exp((v_th − v_pre) / delta)),  τ_s = (1 − s̄) / k_minus,
    s ← s̄ + (s − s̄) · exp(−dt / τ_s),  I = gS · s · (v_post − e_syn)  (nA with gS in µS).

    Params: ``gS`` 1e-4 µS, ``e_syn`` 0 mV, ``k_minus`` 0.025 1/ms, ``v_th`` −35 mV,
    ``delta`` 10 mV. State: ``s`` 0.2.
    """

    elementwise = True

    param_ranges = {"gS": Range(0.0, units="µS", what="conductance"),
                    "e_syn": Range(units="mV", what="reversal potential"),
                    "k_minus": RATE,
                    "v_th": Range(units="mV", what="threshold"),
                    "delta": Range(0.0, units="mV", low_open=True, what="sigmoid slope"),
                    "s": GATE}

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gS": 1e-4, f"{p}_e_syn": 0.0, f"{p}_k_minus": 0.025,
                               f"{p}_v_th": -35.0, f"{p}_delta": 10.0}
        self.synapse_states = {f"{p}_s": 0.2}

    @property
    def presynaptic_params(self) -> tuple[str, ...]:
        p = self.name
        return (f"{p}_v_th", f"{p}_delta", f"{p}_k_minus")

    def presynaptic_terms(self, pre_voltage, delta_t, params):
        """``s_inf`` and ``decay = exp(−dt/τ_s)``: functions of ``v_pre`` only."""
        p = self.name
        s_inf = 1.0 / (1.0 + jnp.exp((params[f"{p}_v_th"] - pre_voltage) / params[f"{p}_delta"]))
        tau = (1.0 - s_inf) / params[f"{p}_k_minus"]
        return {"s_inf": s_inf, "decay": jnp.exp(-delta_t / tau)}

    def advance(self, states, terms, delta_t, pre_voltage, post_voltage, params):
        s, decay = states[f"{self.name}_s"], terms["decay"]
        return {f"{self.name}_s": s * decay + terms["s_inf"] * (1.0 - decay)}
