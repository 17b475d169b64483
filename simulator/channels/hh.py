"""Hodgkin-Huxley channel, identical to NEURON's ``hh.mod`` at 6.3 °C.

Rates are in 1/ms, voltages in mV. Each rate function takes ``v`` of any shape
and returns ``(alpha, beta)`` of that shape.
"""

from simulator.channels.channel import Channel
from simulator.channels.rates import steady, vtrap
from simulator.param_ranges import GATE, Range
from simulator.solvers.gates import save_exp, solve_gate_exponential

__all__ = ["HH", "m_rates", "h_rates", "n_rates"]


def m_rates(v):
    """Na activation rates ``(alpha_m, beta_m)`` (1/ms) at voltage ``v`` (mV)."""
    alpha = 0.1 * vtrap(-(v + 40.0), 10.0)
    beta = 4.0 * save_exp(-(v + 65.0) / 18.0)
    return alpha, beta


def h_rates(v):
    """Na inactivation rates ``(alpha_h, beta_h)`` (1/ms) at voltage ``v`` (mV)."""
    alpha = 0.07 * save_exp(-(v + 65.0) / 20.0)
    beta = 1.0 / (save_exp(-(v + 35.0) / 10.0) + 1.0)
    return alpha, beta


def n_rates(v):
    """K activation rates ``(alpha_n, beta_n)`` (1/ms) at voltage ``v`` (mV)."""
    alpha = 0.01 * vtrap(-(v + 55.0), 10.0)
    beta = 0.125 * save_exp(-(v + 65.0) / 80.0)
    return alpha, beta


_GATES = (("m", m_rates), ("h", h_rates), ("n", n_rates))


class HH(Channel):
    """Hodgkin-Huxley Na, K and leak currents (NEURON ``hh``, no Q10).

    ``I = gNa m^3 h (v - eNa) + gK n^4 (v - eK) + gLeak (v - eLeak)`` in
    mA/cm². Parameters (prefix = channel name): ``gNa``, ``gK``, ``gLeak``
    (S/cm²), ``eNa``, ``eK``, ``eLeak`` (mV). States: gates ``m``, ``h``,
    ``n``.
    """

    elementwise = True

    param_ranges = {
        "gNa": Range(0.0, units="S/cm²", what="conductance"),
        "gK": Range(0.0, units="S/cm²", what="conductance"),
        "gLeak": Range(0.0, units="S/cm²", what="conductance"),
        "eNa": Range(units="mV", what="reversal potential"),
        "eK": Range(units="mV", what="reversal potential"),
        "eLeak": Range(units="mV", what="reversal potential"),
        "m": GATE, "h": GATE, "n": GATE,
    }

    own_params = {"gNa": 0.12, "gK": 0.036, "gLeak": 0.0003, "eNa": 50.0, "eK": -77.0,
                  "eLeak": -54.3}
    own_states = {"m": 0.2, "h": 0.2, "n": 0.2}
    current_template = "i_HH"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with the rates frozen at ``v`` (mV)."""
        p = self.name
        return {
            f"{p}_{gate}": solve_gate_exponential(states[f"{p}_{gate}"], dt, *rates(v))
            for gate, rates in _GATES
        }

    def compute_current(self, states, v, params):
        """Total HH current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        m, h, n = states[f"{p}_m"], states[f"{p}_h"], states[f"{p}_n"]
        # Same operation order as NEURON's hh.mod.
        i_na = params[f"{p}_gNa"] * m * m * m * h * (v - params[f"{p}_eNa"])
        i_k = params[f"{p}_gK"] * n * n * n * n * (v - params[f"{p}_eK"])
        i_leak = params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])
        return i_na + i_k + i_leak

    def linear_current(self, states, params):
        """``(slope, intercept)`` of :meth:`compute_current`: the summed conductances
        (S/cm²) and minus their conductance-weighted reversal potentials (mA/cm²)."""
        p = self.name
        m, h, n = states[f"{p}_m"], states[f"{p}_h"], states[f"{p}_n"]
        g_na = params[f"{p}_gNa"] * m * m * m * h
        g_k = params[f"{p}_gK"] * n * n * n * n
        g_leak = params[f"{p}_gLeak"]
        slope = g_na + g_k + g_leak
        drive = g_na * params[f"{p}_eNa"] + g_k * params[f"{p}_eK"] \
            + g_leak * params[f"{p}_eLeak"]
        return slope, -drive

    def init_state(self, states, v, params, delta_t):
        """Steady-state gates ``alpha / (alpha + beta)`` at voltage ``v`` (mV)."""
        return {f"{self.name}_{gate}": steady(rates(v)) for gate, rates in _GATES}
