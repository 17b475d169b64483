"""The current set shared by the STN, GPe and GPi cells of Rubin & Terman (2004).

C dv/dt = −I_L − I_K − I_Na − I_T − I_Ca − I_AHP − I_syn + I_app (C = 1 µF/cm²)::

    I_L = gL (v − eL)                     I_K = gK n⁴ (v − eK)
    I_Na = gNa m∞(v)³ h (v − eNa)         I_T = gT a∞(v)³ T(r) (v − eCa)
    I_Ca = gCa s∞(v)² (v − eCa)           I_AHP = gAHP (v − eK) Ca / (Ca + k1)
    dx/dt = φx (x∞(v) − x) / τx(v)  for x = n, h, r
    dCa/dt = ε (−I_Ca − I_T − kCa Ca)     (I in µA/cm², Ca dimensionless)

with T(r) = b∞(r)² in the STN and r in the pallidum. RT's units (pF/µm², nS/µm², pA/µm²)
give the same dynamics as C = 1 µF/cm², g in mS/cm², I in µA/cm²; here g is in S/cm²
(RT × 1e-3) and currents in mA/cm² (RT × 1e-3), so the Ca equation multiplies the currents
by 1000 to stay in RT's units. A subclass gives ``gating(v)`` and ``t_inactivation(r)``.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.channels.channel import Channel
from simulator.models.basal_ganglia.gating import relax
from simulator.param_ranges import GATE, Range

__all__ = ["RTCell", "UA_PER_MA"]

#: µA/cm² per mA/cm²: RT's Ca equation counts currents in µA/cm².
UA_PER_MA = 1000.0
_POSITIVE = Range(0.0, low_open=True)


class RTCell(Channel):
    """Intrinsic currents and applied current of an RT (2004) STN or pallidal cell.

    Parameters (prefix = channel name): conductances ``gL gK gNa gT gCa gAHP`` (S/cm²),
    reversals ``eL eK eNa eCa`` (mV), ``k1`` (Ca units), ``kCa`` (Ca removal, 1/ms per ε),
    ``eps`` (ε, Ca per ms per µA/cm²), rate factors ``phi_n phi_h phi_r``, ``i_app``
    (mA/cm², depolarising). States: gates ``n h r`` and ``Ca`` (dimensionless).
    """

    elementwise = True

    param_ranges = {"k1": _POSITIVE, "kCa": _POSITIVE, "eps": _POSITIVE, "phi_n": _POSITIVE,
                    "phi_h": _POSITIVE, "phi_r": _POSITIVE,
                    "Ca": Range(0.0, what="calcium (RT units)"), "n": GATE, "h": GATE,
                    "r": GATE}
    own_states = {"n": 0.1, "h": 0.5, "r": 0.1, "Ca": 0.1}
    current_template = "i_{name}"

    @staticmethod
    def gating(v) -> dict:
        """Steady states ``m h n r a s`` and time constants ``tau_n tau_h tau_r`` (ms)."""
        raise NotImplementedError

    @staticmethod
    def t_inactivation(r):
        """The T current's inactivation factor T(r) (dimensionless)."""
        raise NotImplementedError

    def _ca_currents(self, params, g, r, v):
        """``I_T + I_Ca`` (mA/cm²) at gating ``g`` (``gating(v)``) and T gate ``r``."""
        p = self.name
        drive = v - params[f"{p}_eCa"]
        i_t = params[f"{p}_gT"] * g["a"] ** 3 * self.t_inactivation(r) * drive
        return i_t + params[f"{p}_gCa"] * g["s"] ** 2 * drive

    def update_states(self, states, dt, v, params):
        """Gates n, h, r, then Ca with the new r (the order of the NMODL equivalent)."""
        p, g = self.name, self.gating(v)
        new = {f"{p}_{x}": relax(states[f"{p}_{x}"], dt, g[x], params[f"{p}_phi_{x}"]
                                 / g[f"tau_{x}"]) for x in ("n", "h", "r")}
        k_ca = params[f"{p}_kCa"]
        ca_inf = -UA_PER_MA * self._ca_currents(params, g, new[f"{p}_r"], v) / k_ca
        new[f"{p}_Ca"] = relax(states[f"{p}_Ca"], dt, ca_inf, params[f"{p}_eps"] * k_ca)
        return new

    def compute_current(self, states, v, params):
        """Total intrinsic current minus ``i_app`` (mA/cm², outward positive)."""
        p, g = self.name, self.gating(v)
        n, h, ca = states[f"{p}_n"], states[f"{p}_h"], states[f"{p}_Ca"]
        e_k = params[f"{p}_eK"]
        i_l = params[f"{p}_gL"] * (v - params[f"{p}_eL"])
        i_k = params[f"{p}_gK"] * n ** 4 * (v - e_k)
        i_na = params[f"{p}_gNa"] * g["m"] ** 3 * h * (v - params[f"{p}_eNa"])
        i_ahp = params[f"{p}_gAHP"] * (v - e_k) * ca / (ca + params[f"{p}_k1"])
        i_ca = self._ca_currents(params, g, states[f"{p}_r"], v)
        return i_l + i_k + i_na + i_ca + i_ahp - params[f"{p}_i_app"]

    def init_state(self, states, v, params, delta_t):
        """Gates at their steady state at ``v``; Ca at its steady state given them."""
        p, g = self.name, self.gating(v)
        ca = -UA_PER_MA * self._ca_currents(params, g, g["r"], v) / params[f"{p}_kCa"]
        return {f"{p}_n": g["n"], f"{p}_h": g["h"], f"{p}_r": g["r"],
                f"{p}_Ca": jnp.maximum(ca, 0.0)}
