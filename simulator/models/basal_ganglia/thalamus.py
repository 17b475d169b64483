"""Thalamocortical (TC) relay cell of Rubin & Terman (2004): :class:`ThalamocorticalRT`.

C dv/dt = −I_L − I_Na − I_K − I_T − I_GPi→TC + I_SM (C = 1 µF/cm²)::

    I_L = gL (v − eL)               I_Na = gNa m∞(v)³ h (v − eNa)
    I_K = gK (0.75 (1 − h))⁴ (v − eK)    I_T = gT p∞(v)² r (v − eT)
    dh/dt = (h∞ − h) / τh,  τh = 1 / (αh + βh)
    dr/dt = φr (r∞ − r) / (28 + a_r exp(−(v + 25) / 10.5))

Numbers: RT (2004), J. Comput. Neurosci. 16:211, appendix (TC), as the authors ran them
(ModelDB 116867, ``.setnorm``/``.setpark``: φ_r 5.5, a_r 0.3; the file's defaults and
So et al. (2012) use other values of the same form, which :data:`SO_2012_R_RATE` gives).
g in S/cm² (RT nS/µm² × 1e-3), currents in mA/cm². The sensorimotor input I_SM is a
stimulus (:mod:`simulator.models.basal_ganglia.inputs`), not part of the channel.
"""

from __future__ import annotations

from simulator.channels.channel import Channel
from simulator.models.basal_ganglia.gating import logistic, relax, save_exp
from simulator.param_ranges import GATE, Range

__all__ = ["ThalamocorticalRT", "tc_gating", "SO_2012_R_RATE"]

#: So et al. (2012)'s T-gate kinetics, τ_r = 0.15 (28 + exp(−(v + 25)/10.5)):
#: ``{"phi_r": 1 / 0.15, "a_r": 1.0}`` (set them on the channel to use them).
SO_2012_R_RATE = {"phi_r": 1.0 / 0.15, "a_r": 1.0}


def tc_gating(v, a_r=0.3):
    """Steady states ``m p h r``, ``tau_h`` (ms) and ``tau_r_base`` (ms, τ_r before φ_r:
    28 + a_r exp(−(v + 25)/10.5)) of the TC gates at ``v`` (mV), each of v's shape."""
    alpha_h = 0.128 * save_exp(-(v + 46.0) / 18.0)
    beta_h = 4.0 * logistic((v + 23.0) / 5.0)
    return {"m": logistic((v + 37.0) / 7.0), "p": logistic((v + 60.0) / 6.2),
            "h": logistic(-(v + 41.0) / 4.0), "r": logistic(-(v + 84.0) / 4.0),
            "tau_h": 1.0 / (alpha_h + beta_h),
            "tau_r_base": 28.0 + a_r * save_exp(-(v + 25.0) / 10.5)}


class ThalamocorticalRT(Channel):
    """All intrinsic currents of an RT (2004) TC cell, and an applied current.

    Parameters (prefix = channel name): ``gL gNa gK gT`` (S/cm²), ``eL eNa eK eT`` (mV),
    ``phi_r`` and ``a_r`` (T-gate kinetics), ``i_app`` (mA/cm², depolarising; RT: none).
    States: gates ``h r``.
    """

    elementwise = True

    param_ranges = {"phi_r": Range(0.0, low_open=True), "a_r": Range(0.0),
                    "h": GATE, "r": GATE}
    # RT (2004) TC: g 0.05, 3, 5, 5 nS/µm² (L, Na, K, T); E −70, 50, −90, 0 mV.
    own_params = {"gL": 0.05e-3, "gNa": 3e-3, "gK": 5e-3, "gT": 5e-3, "eL": -70.0,
                  "eNa": 50.0, "eK": -90.0, "eT": 0.0, "phi_r": 5.5, "a_r": 0.3,
                  "i_app": 0.0}
    own_states = {"h": 0.5, "r": 0.5}
    current_template = "i_{name}"

    def update_states(self, states, dt, v, params):
        """h, then r (the order of the NMODL equivalent), with exact exponential steps."""
        p = self.name
        g = tc_gating(v, params[f"{p}_a_r"])
        return {f"{p}_h": relax(states[f"{p}_h"], dt, g["h"], 1.0 / g["tau_h"]),
                f"{p}_r": relax(states[f"{p}_r"], dt, g["r"],
                                params[f"{p}_phi_r"] / g["tau_r_base"])}

    def compute_current(self, states, v, params):
        """Total intrinsic current minus ``i_app`` (mA/cm², outward positive)."""
        p = self.name
        g = tc_gating(v, params[f"{p}_a_r"])
        h, r = states[f"{p}_h"], states[f"{p}_r"]
        i_l = params[f"{p}_gL"] * (v - params[f"{p}_eL"])
        i_na = params[f"{p}_gNa"] * g["m"] ** 3 * h * (v - params[f"{p}_eNa"])
        i_k = params[f"{p}_gK"] * (0.75 * (1.0 - h)) ** 4 * (v - params[f"{p}_eK"])
        i_t = params[f"{p}_gT"] * g["p"] ** 2 * r * (v - params[f"{p}_eT"])
        return i_l + i_na + i_k + i_t - params[f"{p}_i_app"]

    def init_state(self, states, v, params, delta_t):
        """h and r at their steady states at ``v``."""
        p = self.name
        g = tc_gating(v, params[f"{p}_a_r"])
        return {f"{p}_h": g["h"], f"{p}_r": g["r"]}
