"""EnergyEfficientSpike-v0: make a Hodgkin–Huxley cell spike once with the least charge.

Task card
---------
- **Neuron**: the three-branch HH cell of VoltageTarget-v0 (:func:`neuroenv.cells.hh_cell`),
  at rest; a spike is an upward crossing of 0 mV at the soma.
- **Observation** (float32, shape (window,)): soma voltage at the end of each of the
  last ``window`` (default 4) control periods (clipped to [−150, 100] mV). Units
  (``obs_units``): by default scaled to O(1), (v + 65 mV) / 20 mV (0 at rest, about +5 at a
  spike's peak); with ``obs_units="physical"`` mV.
- **Action** (float32, (1,), [−1, 1]): soma current × ``action_scale`` (default 4 nA, enough
  for a biphasic spike). With the default ``pulse="constant"`` it is held for the period
  (monophasic); with ``make_env(pulse="biphasic")`` (or ``neuroenv.make(
  "EnergyEfficientSpike-v0", pulse="biphasic")``) every period is a charge-balanced biphasic
  pulse (+I for the first half, −I for the second; a negative action reverses the order).
- **Control period**: 20 × 0.025 ms = 0.5 ms.
- **Reward** per period (O(1): in [−1.02, 1] at the default weights and ``action_scale``;
  ``charge_penalty`` × 4 nA × 0.5 ms = 1 at full current): ``spike_bonus`` (1) in the
  period of the first spike,
  − ``charge_penalty`` (0.5 per pC) × |I| × period (the absolute charge delivered, pC; both
  phases of a biphasic pulse count), − ``wait_penalty`` (0.02) for every period that ends
  without a spike. No spike by the end costs ``wait_penalty`` × episode length (0.6 by
  default): worse than any sensible spike, so the agent must spike, and cheaply.
- **Termination**: ``terminated`` = True in the period of the first spike (the task is then
  done); numerical blow-up (see :mod:`neuroenv.tasks.base`); **truncation** after 30
  periods (15 ms). There is no hidden
  deadline (a clean alternative to a miss penalty, which the task could only give by
  counting time): the rewards do not depend on time, only on the cell's state.
- **Noise**: the defaults of :mod:`neuroenv.tasks.base`.

Baselines
---------
Strength–duration of single rectangular soma pulses from rest (0.05 ms resolution, no jitter):
rheobase 0.066 nA; chronaxie (threshold = 2 × rheobase) about 1.65 ms; threshold charge
0.190 pC at 0.05 ms, 0.195 pC at 0.5 ms (0.39 nA), 0.203 pC at 1 ms, 0.227 pC at 2 ms,
0.35 pC at 5 ms: the charge falls towards short pulses, so one strong period is cheapest.
A charge-balanced biphasic pulse of one 0.5 ms period (0.25 ms per phase) needs 2.69 nA,
1.35 pC of absolute charge (7 × the monophasic pulse). A hyperpolarising 0.5 ms pulse also
fires, by anode break, from −1.19 nA (0.6 pC).

Returns (16 episodes, 1 mV jitter): no current −0.60; the best constant current held until
the spike (0.15 nA) 0.65 ± 0.03; the best single pulse (0.55 nA for one period) 0.79 ± 0.01,
the target for an agent. Biphasic: no current −0.60, best single pulse (3.0 nA) 0.19 ± 0.02.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from neuroenv.cells import soma_env
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.spikes import count_spikes, spike_samples
from neuroenv.validation import Range


def _spiked(v_previous, trace):
    """Whether ``(v_previous, *trace)`` (mV; scalar and (T,)) has a spike."""
    return count_spikes(v_previous, trace) > 0


class EnergyEfficientSpike(Task):
    """Evoke one spike at the soma, paying for charge and for waiting.

    Task state: ``v_last`` (mV, soma voltage at the end of the last period, for spike
    detection across periods) and ``charge`` (pC, absolute charge delivered so far), float32
    scalars.
    """

    def param_ranges(self):
        return {"spike_bonus": Range(units="reward per spike"),
                "charge_penalty": Range(0.0, units="per pC"),
                "wait_penalty": Range(0.0, units="per period")}

    def default_params(self) -> dict:
        """``spike_bonus``, ``charge_penalty`` (1/pC), ``wait_penalty`` (per period)."""
        return {"spike_bonus": 1.0, "charge_penalty": 0.5, "wait_penalty": 0.02}

    def reset(self, key, params):
        return {"v_last": jnp.full((), -65.0, jnp.float32),
                "charge": jnp.zeros((), jnp.float32)}

    def step(self, task_state, trace, current, params, period_ms):
        spiked = _spiked(task_state["v_last"], trace[:, 0])
        charge = charge_pC(current, period_ms)
        reward = (jnp.where(spiked, params["spike_bonus"], -params["wait_penalty"])
                  - params["charge_penalty"] * charge)
        new_state = {"v_last": trace[-1, 0].astype(jnp.float32),
                     "charge": (task_state["charge"] + charge).astype(jnp.float32)}
        return new_state, reward.astype(jnp.float32), spiked

    def render_info(self, traces, task_state, params):
        """The soma voltage with a red tick at the spike."""
        trace = np.asarray(traces[:, 0])
        return {"trace": trace, "markers": spike_samples(trace)}


def make_env(pulse: str = "constant", **kwargs):
    """The registered environment (monophasic pulses).

    Args:
        pulse: ``"constant"`` (monophasic, registered default) or ``"biphasic"``
            (charge-balanced pulses every period); ``neuroenv.make(
            "EnergyEfficientSpike-v0", pulse="biphasic")`` gives the biphasic version.
        kwargs: keyword arguments of :class:`~neuroenv.NeuronEnv`; they override the task's
            defaults (``action_scale`` 4 nA, ``substeps`` 20 (0.5 ms period), ``window`` 4,
            ``max_steps_in_episode`` 30, ``init_v_jitter`` 1 mV).
    """
    defaults = {"action_scale": 4.0, "substeps": 20, "window": 4,
                "max_steps_in_episode": 30, "init_v_jitter": 1.0}
    return soma_env(EnergyEfficientSpike(), pulse=pulse, **{**defaults, **kwargs})
