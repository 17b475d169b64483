"""Cortical channels of Pospischil et al. (2008), Biol Cybern 99:427-441.

``Leak``, ``Na`` and ``K`` (delayed rectifier). Rates are in 1/ms, voltages
in mV; ``vt`` (mV) shifts the Na and K rate curves and is shared between
channels, as are the reversal potentials ``eNa`` and ``eK``.
"""

from simulator.channels.channel import Channel
from simulator.channels.rates import efun, steady
from simulator.param_ranges import GATE, Range
from simulator.solvers.gates import save_exp, solve_gate_exponential

__all__ = ["Leak", "Na", "K", "na_m_rates", "na_h_rates", "k_n_rates"]


def na_m_rates(v, vt):
    """Na activation rates ``(alpha_m, beta_m)`` (1/ms); ``v``, ``vt`` in mV."""
    alpha = 0.32 * efun(-0.25 * (v - vt - 13.0)) / 0.25
    beta = 0.28 * efun(0.2 * (v - vt - 40.0)) / 0.2
    return alpha, beta


def na_h_rates(v, vt):
    """Na inactivation rates ``(alpha_h, beta_h)`` (1/ms); ``v``, ``vt`` in mV."""
    alpha = 0.128 * save_exp(-(v - vt - 17.0) / 18.0)
    beta = 4.0 / (save_exp(-(v - vt - 40.0) / 5.0) + 1.0)
    return alpha, beta


def k_n_rates(v, vt):
    """K activation rates ``(alpha_n, beta_n)`` (1/ms); ``v``, ``vt`` in mV."""
    alpha = 0.032 * efun(-0.2 * (v - vt - 15.0)) / 0.2
    beta = 0.5 * save_exp(-(v - vt - 10.0) / 40.0)
    return alpha, beta


class Leak(Channel):
    """Leak current ``I = gLeak (v - eLeak)`` (mA/cm²); no states."""

    elementwise = True

    param_ranges = {"gLeak": Range(0.0, units="S/cm²", what="conductance")}

    own_params = {"gLeak": 1e-4, "eLeak": -70.0}
    current_template = "i_Leak"

    def update_states(self, states, dt, v, params):
        """No states: returns ``{}``."""
        return {}

    def compute_current(self, states, v, params):
        """Leak current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        return params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])

    def linear_current(self, states, params):
        """``(gLeak, −gLeak · eLeak)`` (S/cm², mA/cm²)."""
        g = params[f"{self.name}_gLeak"]
        return g, -g * params[f"{self.name}_eLeak"]


class Na(Channel):
    """Fast sodium current ``I = gNa m^3 h (v - eNa)`` (mA/cm²).

    Parameters: ``{name}_gNa`` (S/cm²), shared ``eNa`` and ``vt`` (mV).
    States: gates ``{name}_m``, ``{name}_h``.
    """

    elementwise = True

    param_ranges = {"gNa": Range(0.0, units="S/cm²", what="conductance"), "m": GATE, "h": GATE}

    own_params = {"gNa": 0.05}
    shared_params = {"eNa": 50.0, "vt": -60.0}
    own_states = {"m": 0.2, "h": 0.2}
    current_template = "i_Na"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with the rates frozen at ``v`` (mV)."""
        p, vt = self.name, params["vt"]
        return {
            f"{p}_m": solve_gate_exponential(states[f"{p}_m"], dt, *na_m_rates(v, vt)),
            f"{p}_h": solve_gate_exponential(states[f"{p}_h"], dt, *na_h_rates(v, vt)),
        }

    def compute_current(self, states, v, params):
        """Na current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        m, h = states[f"{p}_m"], states[f"{p}_h"]
        return params[f"{p}_gNa"] * m * m * m * h * (v - params["eNa"])

    def linear_current(self, states, params):
        """``(g, −g · eNa)`` with ``g = gNa m^3 h`` (S/cm², mA/cm²)."""
        p = self.name
        m, h = states[f"{p}_m"], states[f"{p}_h"]
        g = params[f"{p}_gNa"] * m * m * m * h
        return g, -g * params["eNa"]

    def init_state(self, states, v, params, delta_t):
        """Steady-state gates ``alpha / (alpha + beta)`` at voltage ``v`` (mV)."""
        p, vt = self.name, params["vt"]
        return {f"{p}_m": steady(na_m_rates(v, vt)), f"{p}_h": steady(na_h_rates(v, vt))}


class K(Channel):
    """Delayed-rectifier potassium current ``I = gK n^4 (v - eK)`` (mA/cm²).

    Parameters: ``{name}_gK`` (S/cm²), shared ``eK`` and ``vt`` (mV).
    State: gate ``{name}_n``.
    """

    elementwise = True

    param_ranges = {"gK": Range(0.0, units="S/cm²", what="conductance"), "n": GATE}

    own_params = {"gK": 5e-3}
    shared_params = {"eK": -90.0, "vt": -60.0}
    own_states = {"n": 0.2}
    current_template = "i_K"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with the rates frozen at ``v`` (mV)."""
        p = self.name
        n = states[f"{p}_n"]
        return {f"{p}_n": solve_gate_exponential(n, dt, *k_n_rates(v, params["vt"]))}

    def compute_current(self, states, v, params):
        """K current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        n = states[f"{p}_n"]
        return params[f"{p}_gK"] * n * n * n * n * (v - params["eK"])

    def linear_current(self, states, params):
        """``(g, −g · eK)`` with ``g = gK n^4`` (S/cm², mA/cm²)."""
        n = states[f"{self.name}_n"]
        g = params[f"{self.name}_gK"] * n * n * n * n
        return g, -g * params["eK"]

    def init_state(self, states, v, params, delta_t):
        """Steady-state gate ``alpha / (alpha + beta)`` at voltage ``v`` (mV)."""
        return {f"{self.name}_n": steady(k_n_rates(v, params["vt"]))}
