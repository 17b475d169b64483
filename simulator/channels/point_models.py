"""Non-capacitive and simplified point-neuron models.

These "channels" carry no membrane current (``compute_current`` returns zeros); instead their
:meth:`update_states` returns a new voltage under the key ``"v"``. The simulator applies it at
the start of the step, before the implicit voltage solve of the same step, so other channels
(e.g. a :class:`~simulator.channels.Leak` next to :class:`Fire`), stimuli and axial currents
still act on top of it through the membrane capacitance.

Spike indicators are stored as floating-point 0/1 states (our channel contract requires float
states). Threshold resets use ``jnp.where``, so the gradient through a reset is zero (no
surrogate gradients).

Names and order of operations follow jaxley:

* :class:`Fire`: reset when ``v > vth`` (strict).
* :class:`Izhikevich`: ``u`` is advanced first (exponential Euler towards ``b v`` with time
  constant ``1/a``); the forward-Euler voltage step uses the *new* ``u``; the threshold
  ``30 mV`` is tested on the *new* voltage.
* :class:`AdEx`: ``w`` is advanced first (exponential Euler towards ``a (v - E_L)`` with time
  constant ``tau_w``); the forward-Euler voltage step uses the *new* ``w`` and the compartment
  ``capacitance`` as ``C_m``; the exponential's argument is clipped at 10; the threshold is
  tested on the *new* voltage.
"""

import warnings

import jax.numpy as jnp

from simulator.channels.channel import Channel
from simulator.param_ranges import ANY, RATE, TIME_CONSTANT, Range
from simulator.solvers.gates import exponential_euler, save_exp

__all__ = ["Fire", "Izhikevich", "Rate", "AdEx"]

#: Izhikevich spike cut-off (mV).
IZHIKEVICH_PEAK = 30.0
#: Upper clip of the exponential's argument in AdEx.
ADEX_EXP_CLIP = 10.0
#: Range of the float 0/1 spike indicators.
SPIKE_FLAG = Range(0.0, 1.0, what="spike indicator (0 or 1)")


class _VoltageModel(Channel):
    """A channel that sets ``v`` in ``update_states`` and carries no membrane current."""

    elementwise = True

    def compute_current(self, states, v, params):
        """No current: zeros of the shape of ``v``."""
        return jnp.zeros_like(v)

    def linear_current(self, states, params):
        """No current: slope and intercept 0."""
        return 0.0, 0.0


class Fire(_VoltageModel):
    """Integrate-and-fire reset (combine with :class:`~simulator.channels.Leak`).

    If ``v > vth``: ``v <- vreset`` and ``spikes = 1``, else ``spikes = 0``.
    Parameters: ``{name}_vth`` (mV, default -50), ``{name}_vreset`` (mV,
    default -70). State: ``{name}_spikes`` (float 0/1, default 0). Carries no
    current; the current name is ``f"{name}_fire"`` (fixed at construction).
    """

    param_ranges = {"spikes": SPIKE_FLAG}

    own_params = {"vth": -50.0, "vreset": -70.0}
    own_states = {"spikes": 0.0}
    current_template = "{name}_fire"

    def update_states(self, states, dt, v, params):
        """Reset ``v`` above threshold; returns ``{"v", spikes}``."""
        p = self.name
        spike = v > params[f"{p}_vth"]
        return {
            "v": jnp.where(spike, params[f"{p}_vreset"], v),
            f"{p}_spikes": spike.astype(v.dtype),
        }


class Izhikevich(_VoltageModel):
    """Izhikevich (2003) neuron, forward Euler in ``v``, exponential Euler in ``u``.

    ``u <- u + (1 - exp(-dt a)) (b v - u)``;
    ``v <- v + dt (0.04 v^2 + 5 v + 140 - u)``;
    if ``v >= 30``: ``v <- c``, ``u <- u + d``.
    Parameters ``{name}_a`` (1/ms, 0.02), ``{name}_b`` (0.2), ``{name}_c``
    (mV, -65), ``{name}_d`` (8). State ``{name}_u`` (default 0; ``init_state``
    sets ``u = b v``). The membrane capacitance does not enter the update.
    Current name ``f"{name}_izhikevich"`` (no current).
    """

    # u is a recovery variable, not a gate; a is a rate (u's time constant is 1/a).
    param_ranges = {"a": RATE, "u": ANY}

    own_params = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0}
    own_states = {"u": 0.0}
    current_template = "{name}_izhikevich"

    def update_states(self, states, dt, v, params):
        """One step of ``u`` then ``v`` (with the new ``u``), then the reset."""
        p = self.name
        a, b = params[f"{p}_a"], params[f"{p}_b"]
        u = exponential_euler(states[f"{p}_u"], dt, b * v, 1.0 / a)
        v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u)
        spike = v_new >= IZHIKEVICH_PEAK
        return {
            "v": jnp.where(spike, params[f"{p}_c"], v_new),
            f"{p}_u": jnp.where(spike, u + params[f"{p}_d"], u),
        }

    def init_state(self, states, v, params, delta_t):
        """``u = b v`` (the ``u`` nullcline) at voltage ``v`` (mV)."""
        p = self.name
        return {f"{p}_u": params[f"{p}_b"] * v}


class Rate(_VoltageModel):
    """Leaky rate unit: ``v <- v exp(-dt / tau)`` (exponential decay to 0).

    Parameter ``{name}_tau`` (ms, default 1); no states. Input (stimuli,
    other currents) acts through the capacitance in the voltage solve.
    Current name ``f"{name}_rate"`` (no current).
    """

    param_ranges = {"tau": TIME_CONSTANT}

    own_params = {"tau": 1.0}
    current_template = "{name}_rate"

    def update_states(self, states, dt, v, params):
        """Exact decay of ``v`` over ``dt``."""
        return {"v": v * jnp.exp(-dt / params[f"{self.name}_tau"])}


class AdEx(_VoltageModel):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    ``w <- w + (1 - exp(-dt / tau_w)) (a (v - E_L) - w)``;
    ``v <- v + dt (-g_L (v - E_L) + g_L delta_T exp(min((v - v_T)/delta_T, 10)) - w) / C_m``
    with ``C_m`` the compartment's ``capacitance`` parameter;
    if ``v >= v_threshold``: ``v <- v_reset``, ``w <- w + b``, ``spikes = 1``.

    Parameters (prefix ``{name}_``, defaults): ``g_L`` 10, ``E_L`` -70,
    ``v_T`` -50, ``delta_T`` 2, ``v_threshold`` 0, ``v_reset`` -58, ``tau_w``
    30, ``a`` 2, ``b`` 0 (units as in jaxley: mV, ms and consistent
    conductance/capacitance units). States ``{name}_w`` (0), ``{name}_spikes``
    (float 0/1, default 0). Current name ``f"i_{name}"`` (no current).
    """

    # w is the adaptation current, not a gate; delta_T divides the exponential's argument.
    param_ranges = {"g_L": Range(0.0, what="leak conductance"),
                    "delta_T": Range(0.0, units="mV", low_open=True, what="slope factor"),
                    "tau_w": TIME_CONSTANT, "w": ANY, "spikes": SPIKE_FLAG}

    own_params = {"g_L": 10.0, "E_L": -70.0, "v_T": -50.0, "delta_T": 2.0, "v_threshold": 0.0,
                  "v_reset": -58.0, "tau_w": 30.0, "a": 2.0, "b": 0.0}
    own_states = {"w": 0.0, "spikes": 0.0}
    current_template = "i_{name}"

    def __init__(self, name: str | None = None, surrogate_warning: bool = True):
        """Args:
        name: channel name (default ``"AdEx"``), the prefix of its parameters and states.
        surrogate_warning: warn (UserWarning, as jaxley) that the gradient through a spike
            reset is zero.
        """
        super().__init__(name)
        if surrogate_warning:
            warnings.warn(f"The {self.name} channel has no surrogate gradient: gradients"
                          " through a spike reset are zero (pass surrogate_warning=False to"
                          " silence this)", UserWarning, stacklevel=2)

    def update_states(self, states, dt, v, params):
        """One step of ``w`` then ``v`` (with the new ``w``), then the reset."""
        p = self.name
        g_l, e_l, delta_t = params[f"{p}_g_L"], params[f"{p}_E_L"], params[f"{p}_delta_T"]
        w = exponential_euler(states[f"{p}_w"], dt, params[f"{p}_a"] * (v - e_l),
                              params[f"{p}_tau_w"])
        exp_term = save_exp((v - params[f"{p}_v_T"]) / delta_t, ADEX_EXP_CLIP)
        dv = (-g_l * (v - e_l) + g_l * delta_t * exp_term - w) / params["capacitance"]
        v_new = v + dt * dv
        spike = v_new >= params[f"{p}_v_threshold"]
        return {
            "v": jnp.where(spike, params[f"{p}_v_reset"], v_new),
            f"{p}_w": jnp.where(spike, w + params[f"{p}_b"], w),
            f"{p}_spikes": spike.astype(v.dtype),
        }
