"""Subthalamic nucleus (STN) cell of Rubin & Terman (2004): :class:`SubthalamicRT`.

Numbers: RT (2004), J. Comput. Neurosci. 16:211, appendix (STN), as in the authors' XPP
files for the paper (ModelDB 116867, ``rubin_terman_pd.ode``); gating forms of Terman et al.
(2002), J. Neurosci. 22:2963, with RT's T-current inactivation b∞ (θ_b 0.25, σ_b 0.07) and
τ_r (τ0 7.1 ms, φ_r 0.5). Equations and units: :mod:`simulator.models.basal_ganglia.rt_cell`.
"""

from __future__ import annotations

from simulator.models.basal_ganglia.gating import logistic
from simulator.models.basal_ganglia.rt_cell import RTCell

__all__ = ["SubthalamicRT", "b_inf", "stn_gating"]


def b_inf(r):
    """T-current inactivation b∞(r) (dimensionless), 0 at r = 0 (θ_b 0.25, σ_b 0.07)."""
    return logistic((r - 0.25) / 0.07) - logistic(-0.25 / 0.07)


def stn_gating(v):
    """Steady states ``m h n r a s`` and time constants ``tau_n tau_h tau_r`` (ms) of the
    STN gates at ``v`` (mV), each of v's shape."""
    return {"m": logistic((v + 30.0) / 15.0), "h": logistic(-(v + 39.0) / 3.1),
            "n": logistic((v + 32.0) / 8.0), "r": logistic(-(v + 67.0) / 2.0),
            "a": logistic((v + 63.0) / 7.8), "s": logistic((v + 39.0) / 8.0),
            "tau_n": 1.0 + 100.0 * logistic(-(v + 80.0) / 26.0),
            "tau_h": 1.0 + 500.0 * logistic(-(v + 57.0) / 3.0),
            "tau_r": 7.1 + 17.5 * logistic(-(v - 68.0) / 2.2)}


class SubthalamicRT(RTCell):
    """An RT (2004) STN cell: T current ∝ a∞³ b∞(r)²; ``i_app`` 25 µA/cm² (healthy and
    parkinsonian). Parameters and states: :class:`~.rt_cell.RTCell`."""

    # RT (2004) STN: g 2.25, 45, 37.5, 0.5, 0.5, 9 nS/µm² (L, K, Na, T, Ca, AHP); ε 5e-5 × φ 0.75.
    own_params = {"gL": 2.25e-3, "gK": 45e-3, "gNa": 37.5e-3, "gT": 0.5e-3, "gCa": 0.5e-3,
                  "gAHP": 9e-3, "eL": -60.0, "eK": -80.0, "eNa": 55.0, "eCa": 140.0,
                  "k1": 15.0, "kCa": 22.5, "eps": 3.75e-5, "phi_n": 0.75, "phi_h": 0.75,
                  "phi_r": 0.5, "i_app": 25e-3}
    gating = staticmethod(stn_gating)

    @staticmethod
    def t_inactivation(r):
        return b_inf(r) ** 2
