"""A small conductance synapse for tests and examples (jaxley's ``TestSynapse``).

It has the same equations as :class:`~simulator.synapses.ionotropic.IonotropicSynapse` with
fixed constants (threshold −35 mV, slope 10 mV, k_minus 1/40 ms⁻¹, reversal 0 mV), one
trainable conductance ``gC`` and the open fraction ``c`` as its state. jaxley's test suite
and tutorials use it as a second synapse type next to ``IonotropicSynapse``.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.param_ranges import GATE, Range
from simulator.synapses.synapse import Synapse

#: Fixed constants: half-activation voltage (mV), sigmoid slope (mV), unbinding rate (1/ms),
#: reversal potential (mV).
V_TH, DELTA, K_MINUS, E_SYN = -35.0, 10.0, 1.0 / 40.0, 0.0
#: Largest exponent passed to ``exp`` (keeps a very negative pre-synaptic voltage finite).
MAX_EXPONENT = 500.0


class TestSynapse(Synapse):
    """Graded synapse: c relaxes to c̄ = 1 / (1 + exp((V_TH − v_pre) / DELTA)) with time
    constant τ = (1 − c̄) / K_MINUS; I = gC · c · (v_post − E_SYN) (nA with gC in µS).

    Params: ``gC`` 1e-4 µS. State: ``c`` 0.2 (open fraction).
    """

    elementwise = True

    __test__ = False  # a synapse model, not a pytest test class

    param_ranges = {"gC": Range(0.0, units="µS", what="conductance"), "c": GATE}

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gC": 1e-4}
        self.synapse_states = {f"{p}_c": 0.2}

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        c_inf = 1.0 / (1.0 + jnp.exp(jnp.minimum((V_TH - pre_voltage) / DELTA, MAX_EXPONENT)))
        tau = (1.0 - c_inf) / K_MINUS
        decay = jnp.exp(jnp.minimum(-delta_t / tau, MAX_EXPONENT))
        c = states[f"{self.name}_c"]
        return {f"{self.name}_c": c * decay + c_inf * (1.0 - decay)}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self.name
        return params[f"{p}_gC"] * states[f"{p}_c"] * (post_voltage - E_SYN)

    def linear_current(self, states, pre_voltage, params):
        p = self.name
        g = params[f"{p}_gC"] * states[f"{p}_c"]
        return g, -g * E_SYN
