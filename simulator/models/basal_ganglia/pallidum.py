"""Globus pallidus (GPe and GPi) cell of Rubin & Terman (2004): :class:`PallidalRT`.

GPe and GPi share the intrinsic model and differ only in their applied current and
synapses. Numbers: RT (2004), J. Comput. Neurosci. 16:211, appendix (GPe/GPi), as in the
authors' XPP files (ModelDB 116867); gating forms of Terman et al. (2002). Equations and
units: :mod:`simulator.models.basal_ganglia.rt_cell`.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.models.basal_ganglia.gating import logistic
from simulator.models.basal_ganglia.rt_cell import RTCell

__all__ = ["PallidalRT", "gp_gating", "I_APP"]

#: Applied currents (mA/cm²; RT: µA/cm² × 1e-3): GPe healthy 2 / parkinsonian −2.2 (the
#: striatal inhibition of GPe), GPi 5 in both states (authors' ``.setnorm``/``.setpark``).
I_APP = {("GPe", "healthy"): 2e-3, ("GPe", "parkinsonian"): -2.2e-3,
         ("GPi", "healthy"): 5e-3, ("GPi", "parkinsonian"): 5e-3}


def gp_gating(v):
    """Steady states ``m h n r a s`` and time constants ``tau_n tau_h tau_r`` (ms) of the
    pallidal gates at ``v`` (mV), each of v's shape (τ_r 30 ms, constant)."""
    tau_nh = 0.05 + 0.27 * logistic(-(v + 40.0) / 12.0)
    return {"m": logistic((v + 37.0) / 10.0), "h": logistic(-(v + 58.0) / 12.0),
            "n": logistic((v + 50.0) / 14.0), "r": logistic(-(v + 70.0) / 2.0),
            "a": logistic((v + 57.0) / 2.0), "s": logistic((v + 35.0) / 2.0),
            "tau_n": tau_nh, "tau_h": tau_nh, "tau_r": jnp.full_like(tau_nh, 30.0)}


class PallidalRT(RTCell):
    """An RT (2004) GPe or GPi cell: T current ∝ a∞³ r; default ``i_app`` the healthy
    GPe's 2 µA/cm² (:data:`I_APP`). Parameters and states: :class:`~.rt_cell.RTCell`."""

    # RT (2004) GP: g 0.1, 30, 120, 0.5, 0.1, 30 nS/µm² (L, K, Na, T, Ca, AHP); ε 1e-4.
    own_params = {"gL": 0.1e-3, "gK": 30e-3, "gNa": 120e-3, "gT": 0.5e-3, "gCa": 0.1e-3,
                  "gAHP": 30e-3, "eL": -55.0, "eK": -80.0, "eNa": 55.0, "eCa": 120.0,
                  "k1": 30.0, "kCa": 15.0, "eps": 1e-4, "phi_n": 0.1, "phi_h": 0.05,
                  "phi_r": 1.0, "i_app": 2e-3}
    gating = staticmethod(gp_gating)

    @staticmethod
    def t_inactivation(r):
        return r
