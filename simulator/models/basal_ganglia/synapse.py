"""The graded synapse of Terman et al. (2002) and Rubin & Terman (2004): :class:`RTSynapse`.

The presynaptic cell's transmitter fraction s obeys

    ds/dt = α H∞(v_pre − θ_g) (1 − s) − β s,   H∞(x) = 1 / (1 + exp(−(x − θ_H) / σ_H)),

and the postsynaptic current is ``gS · s · (v_post − e_syn)`` (nA with gS in µS). RT sum s
over the presynaptic cells of a postsynaptic cell; here each synapse (edge) carries its own
s, which is the same number for every edge from one presynaptic cell (the presynaptic terms
are computed once per presynaptic cell). No delays (RT 2004 has none). RT give synaptic
conductances as densities; :mod:`~simulator.models.basal_ganglia.network` converts them
with the postsynaptic membrane area.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.models.basal_ganglia.gating import logistic
from simulator.param_ranges import GATE, RATE, Range
from simulator.synapses.gated_conductance import GatedConductanceSynapse

__all__ = ["RTSynapse"]


class RTSynapse(GatedConductanceSynapse):
    """First-order transmitter kinetics gated by the presynaptic voltage (see the module).

    Args:
        name: the synapse type's name (one per connection kind, e.g. ``"GPe_STN"``).
        gS: conductance (µS) per synapse; e_syn: reversal (mV); alpha, beta: rates (1/ms);
        theta_g, theta_H, sigma_H: the release threshold terms (mV).
    """

    elementwise = True

    param_ranges = {"gS": Range(0.0, units="µS", what="conductance"),
                    "e_syn": Range(units="mV", what="reversal potential"),
                    "alpha": RATE, "beta": RATE,
                    "sigma_H": Range(0.0, low_open=True, units="mV", what="sigmoid slope"),
                    "s": GATE}

    def __init__(self, name: str | None = None, gS: float = 1e-3, e_syn: float = 0.0,
                 alpha: float = 5.0, beta: float = 1.0, theta_g: float = 30.0,
                 theta_H: float = -39.0, sigma_H: float = 8.0) -> None:
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gS": gS, f"{p}_e_syn": e_syn, f"{p}_alpha": alpha,
                               f"{p}_beta": beta, f"{p}_theta_g": theta_g,
                               f"{p}_theta_H": theta_H, f"{p}_sigma_H": sigma_H}
        self.synapse_states = {f"{p}_s": 0.0}

    @property
    def presynaptic_params(self) -> tuple[str, ...]:
        p = self.name
        return tuple(f"{p}_{k}" for k in ("alpha", "beta", "theta_g", "theta_H", "sigma_H"))

    def presynaptic_terms(self, pre_voltage, delta_t, params):
        """``s_inf`` and ``gain = 1 − exp(−(αH + β) dt)`` (as ``−expm1``, exact in float32
        for small (αH + β) dt): functions of ``v_pre`` only."""
        p = self.name
        x = pre_voltage - params[f"{p}_theta_g"] - params[f"{p}_theta_H"]
        drive = params[f"{p}_alpha"] * logistic(x / params[f"{p}_sigma_H"])
        rate = drive + params[f"{p}_beta"]
        return {"s_inf": drive / rate, "gain": -jnp.expm1(-rate * delta_t)}

    def advance(self, states, terms, delta_t, pre_voltage, post_voltage, params):
        """Exact step with the rates frozen at ``v_pre`` (NEURON's ``cnexp`` arithmetic)."""
        s = states[f"{self.name}_s"]
        return {f"{self.name}_s": s + terms["gain"] * (terms["s_inf"] - s)}
