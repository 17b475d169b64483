"""The STN axon's membrane: Hodgkin–Huxley with a temperature factor, :class:`AxonHH`.

NEURON's ``hh`` (:class:`simulator.channels.HH`) has the squid kinetics of 6.3 °C: its
refractory period (several ms) makes an axon follow a 130 Hz pulse train only on every
other pulse. :class:`AxonHH` multiplies every rate by ``phi`` = Q10^((T − 6.3 °C) / 10)
with Q10 = 3 (Hodgkin & Huxley 1952's temperature coefficient; NEURON's ``hh`` uses the same
form when ``celsius`` is raised); the default φ = 3^((20 − 6.3)/10) = 4.50 (20 °C) lets the
axon follow 130 Hz one to one while staying excitable (HH spikes fail well above ~ 30 °C).
Conductances and reversals are ``hh``'s. Exact: the exponential gate update depends on the
rates only through (α + β)·Δt and α / (α + β), so the step with ``dt · phi`` is the step
with every rate × φ.
"""

from __future__ import annotations

from simulator.channels import HH
from simulator.channels.hh import h_rates, m_rates, n_rates
from simulator.param_ranges import Range
from simulator.solvers.gates import solve_gate_exponential

__all__ = ["AxonHH", "PHI_20C"]

#: Rate factor of 20 °C with Q10 = 3 (HH's 6.3 °C rates × 4.50).
PHI_20C = 3.0 ** ((20.0 - 6.3) / 10.0)


class AxonHH(HH):
    """:class:`~simulator.channels.HH` with every rate × ``phi`` (dimensionless, > 0)."""

    param_ranges = {**HH.param_ranges, "phi": Range(0.0, low_open=True, what="rate factor"),
                    "v_shift": Range(units="mV", what="voltage shift")}
    own_params = {**HH.own_params, "phi": PHI_20C, "v_shift": 0.0}
    current_template = "i_{name}"

    def update_states(self, states, dt, v, params):
        """Exponential gate update with rates × phi, frozen at ``v`` (mV)."""
        p = self.name
        step, u = dt * params[f"{p}_phi"], v - params[f"{p}_v_shift"]
        return {f"{p}_{gate}": solve_gate_exponential(states[f"{p}_{gate}"], step, *rates(u))
                for gate, rates in (("m", m_rates), ("h", h_rates), ("n", n_rates))}

    def compute_current(self, states, v, params):
        """HH current (mA/cm²) with every voltage taken relative to ``v_shift``."""
        return super().compute_current(states, v - params[f"{self.name}_v_shift"], params)

    def linear_current(self, states, params):
        """HH's form in ``v − v_shift``: the same slope, the intercept moved by
        ``−slope · v_shift``."""
        slope, intercept = super().linear_current(states, params)
        return slope, intercept - slope * params[f"{self.name}_v_shift"]

    def init_state(self, states, v, params, delta_t):
        """Steady-state gates at ``v − v_shift``."""
        return super().init_state(states, v - params[f"{self.name}_v_shift"], params, delta_t)
