"""Slow potassium and calcium channels of Pospischil et al. (2008), Biol Cybern 99:427-441.

``Km`` (slow, non-inactivating K⁺ current, spike-frequency adaptation), ``CaL``
(high-threshold L-type Ca²⁺ current) and ``CaT`` (low-threshold T-type Ca²⁺
current). Rates are in 1/ms, time constants in ms, voltages in mV,
conductances in S/cm², currents in mA/cm² (outward positive).

The reversal potentials ``eK`` and ``eCa`` are *shared* parameters (no prefix):
``Km`` adds to the ``i_K`` current of :class:`~simulator.channels.K` and
``CaL``/``CaT`` both write ``i_Ca``.

Every exponential goes through :func:`~simulator.solvers.gates.save_exp`
(argument clipped at 20), as in jaxley. This matters for ``CaT`` above
about -22 mV, where the arguments of both exponentials of ``tau_u`` exceed 20:
the clipped ("as coded") time constant saturates at about 0.27 ms instead of
falling towards zero; we keep that behaviour so traces are identical to
jaxley's. The ``tau_u`` formula ``(30.8 + (211.4 + exp(...))) / ...`` is also
kept as coded in jaxley.

One deliberate difference: ``alpha_q`` of ``CaL`` uses the singularity-safe
:func:`~simulator.channels.rates.efun` (as ``Na``/``K`` do). Jaxley
evaluates ``x / (exp(x) - 1)`` with the exponential clipped at 20, so below
about -103 mV its ``alpha_q`` grows linearly (~1e-8 /ms) instead of vanishing,
and it is NaN at exactly -27 mV.
"""

from simulator.channels.channel import Channel
from simulator.channels.rates import efun, steady
from simulator.param_ranges import GATE, TIME_CONSTANT, Range
from simulator.solvers.gates import save_exp, solve_gate_exponential, solve_inf_gate_exponential

__all__ = ["Km", "CaL", "CaT", "km_p_inf_tau", "cal_q_rates", "cal_r_rates", "cat_u_inf_tau",
           "cat_s_inf"]


def km_p_inf_tau(v, taumax):
    """Km activation ``(p_inf, tau_p)`` (dimensionless, ms); ``v`` in mV, ``taumax`` in ms."""
    p_inf = 1.0 / (1.0 + save_exp(-0.1 * (v + 35.0)))
    tau = taumax / (3.3 * save_exp(0.05 * (v + 35.0)) + save_exp(-0.05 * (v + 35.0)))
    return p_inf, tau


def cal_q_rates(v):
    """CaL activation rates ``(alpha_q, beta_q)`` (1/ms) at ``v`` (mV).

    ``alpha_q`` has a removable singularity at -27 mV, handled by :func:`efun`.
    """
    alpha = 0.055 * 3.8 * efun((-v - 27.0) / 3.8)
    beta = 0.94 * save_exp((-v - 75.0) / 17.0)
    return alpha, beta


def cal_r_rates(v):
    """CaL inactivation rates ``(alpha_r, beta_r)`` (1/ms) at ``v`` (mV)."""
    alpha = 0.000457 * save_exp((-v - 13.0) / 50.0)
    beta = 0.0065 / (save_exp((-v - 15.0) / 28.0) + 1.0)
    return alpha, beta


def cat_s_inf(v, vx):
    """CaT instantaneous activation ``s_inf`` at ``v`` (mV), shifted by ``vx`` (mV)."""
    return 1.0 / (1.0 + save_exp(-(v + vx + 57.0) / 6.2))


def cat_u_inf_tau(v, vx):
    """CaT inactivation ``(u_inf, tau_u)`` (dimensionless, ms); ``v``, ``vx`` in mV.

    ``tau_u = (30.8 + (211.4 + exp((v+vx+113.2)/5))) / (3.7 (1 + exp((v+vx+84)/3.2)))``
    as coded in jaxley, with clipped exponentials (see the module docstring).
    """
    u_inf = 1.0 / (1.0 + save_exp((v + vx + 81.0) / 4.0))
    tau = (30.8 + (211.4 + save_exp((v + vx + 113.2) / 5.0))) / (
        3.7 * (1.0 + save_exp((v + vx + 84.0) / 3.2))
    )
    return u_inf, tau


class Km(Channel):
    """Slow non-inactivating potassium current ``I = gKm p (v - eK)`` (mA/cm²).

    Parameters: ``{name}_gKm`` (S/cm², default 4e-6), ``{name}_taumax`` (ms,
    default 4000), shared ``eK`` (mV, default -90). State: gate ``{name}_p``
    (default 0.2). Current name ``i_K`` (summed with other K⁺ currents).

    ``init_state`` returns the steady state ``p_inf``. (Jaxley returns
    ``p_inf / (p_inf + tau_p)``, which is not a steady state of its own update
    and looks like a bug; we deliberately use ``p_inf``.)
    """

    elementwise = True

    param_ranges = {"gKm": Range(0.0, units="S/cm²", what="conductance"),
                    "taumax": TIME_CONSTANT, "p": GATE}

    own_params = {"gKm": 4e-6, "taumax": 4000.0}
    shared_params = {"eK": -90.0}
    own_states = {"p": 0.2}
    current_template = "i_K"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with ``p_inf``, ``tau_p`` frozen at ``v`` (mV)."""
        p = self.name
        p_inf, tau = km_p_inf_tau(v, params[f"{p}_taumax"])
        return {f"{p}_p": solve_inf_gate_exponential(states[f"{p}_p"], dt, p_inf, tau)}

    def compute_current(self, states, v, params):
        """Km current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        return params[f"{p}_gKm"] * states[f"{p}_p"] * (v - params["eK"])

    def linear_current(self, states, params):
        """``(g, −g · eK)`` with ``g = gKm p`` (S/cm², mA/cm²)."""
        g = params[f"{self.name}_gKm"] * states[f"{self.name}_p"]
        return g, -g * params["eK"]

    def init_state(self, states, v, params, delta_t):
        """Steady-state gate ``p_inf`` at voltage ``v`` (mV)."""
        p = self.name
        p_inf, _ = km_p_inf_tau(v, params[f"{p}_taumax"])
        return {f"{p}_p": p_inf}


class CaL(Channel):
    """High-threshold (L-type) calcium current ``I = gCaL q^2 r (v - eCa)`` (mA/cm²).

    Parameters: ``{name}_gCaL`` (S/cm², default 1e-4), shared ``eCa`` (mV,
    default 120). States: gates ``{name}_q``, ``{name}_r`` (default 0.2).
    Current name ``i_Ca``.
    """

    elementwise = True

    param_ranges = {"gCaL": Range(0.0, units="S/cm²", what="conductance"), "q": GATE,
                    "r": GATE}

    own_params = {"gCaL": 1e-4}
    shared_params = {"eCa": 120.0}
    own_states = {"q": 0.2, "r": 0.2}
    current_template = "i_Ca"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with the rates frozen at ``v`` (mV)."""
        p = self.name
        return {
            f"{p}_q": solve_gate_exponential(states[f"{p}_q"], dt, *cal_q_rates(v)),
            f"{p}_r": solve_gate_exponential(states[f"{p}_r"], dt, *cal_r_rates(v)),
        }

    def compute_current(self, states, v, params):
        """CaL current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        q, r = states[f"{p}_q"], states[f"{p}_r"]
        return params[f"{p}_gCaL"] * q * q * r * (v - params["eCa"])

    def linear_current(self, states, params):
        """``(g, −g · eCa)`` with ``g = gCaL q^2 r`` (S/cm², mA/cm²)."""
        p = self.name
        q, r = states[f"{p}_q"], states[f"{p}_r"]
        g = params[f"{p}_gCaL"] * q * q * r
        return g, -g * params["eCa"]

    def init_state(self, states, v, params, delta_t):
        """Steady-state gates ``alpha / (alpha + beta)`` at voltage ``v`` (mV)."""
        p = self.name
        return {f"{p}_q": steady(cal_q_rates(v)), f"{p}_r": steady(cal_r_rates(v))}


class CaT(Channel):
    """Low-threshold (T-type) calcium current ``I = gCaT s_inf^2 u (v - eCa)`` (mA/cm²).

    Activation ``s_inf(v)`` is instantaneous; inactivation ``u`` is a state.
    Parameters: ``{name}_gCaT`` (S/cm², default 4e-5), ``{name}_vx`` (mV shift
    of both gates, default 2), shared ``eCa`` (mV, default 120). State: gate
    ``{name}_u`` (default 0.2). Current name ``i_Ca``.
    """

    elementwise = True

    param_ranges = {"gCaT": Range(0.0, units="S/cm²", what="conductance"),
                    "vx": Range(units="mV", what="voltage shift"), "u": GATE}

    own_params = {"gCaT": 4e-5, "vx": 2.0}
    shared_params = {"eCa": 120.0}
    own_states = {"u": 0.2}
    current_template = "i_Ca"

    def update_states(self, states, dt, v, params):
        """Exact exponential gate update with ``u_inf``, ``tau_u`` frozen at ``v`` (mV)."""
        p = self.name
        u_inf, tau = cat_u_inf_tau(v, params[f"{p}_vx"])
        return {f"{p}_u": solve_inf_gate_exponential(states[f"{p}_u"], dt, u_inf, tau)}

    def compute_current(self, states, v, params):
        """CaT current (mA/cm², outward positive), shape of ``v``."""
        p = self.name
        s_inf = cat_s_inf(v, params[f"{p}_vx"])
        return params[f"{p}_gCaT"] * s_inf * s_inf * states[f"{p}_u"] * (v - params["eCa"])

    def init_state(self, states, v, params, delta_t):
        """Steady-state gate ``u_inf`` at voltage ``v`` (mV)."""
        p = self.name
        u_inf, _ = cat_u_inf_tau(v, params[f"{p}_vx"])
        return {f"{p}_u": u_inf}
