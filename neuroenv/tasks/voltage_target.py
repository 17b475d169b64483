"""VoltageTarget-v0: hold the soma of a Hodgkin–Huxley cell at a target voltage.

Task card
---------
- **Neuron**: three-branch HH cell (branches of 4 compartments; soma branch radius 10 µm,
  dendrites 1 µm; soma = branch 0, compartment 0), gates at rest (−65 mV).
- **Observation** (float32, shape (window + 2,)): soma voltage at the end of each of the
  last ``window`` control periods (clipped to [−150, 100] mV), the target, then the
  integral of the tracking error ∫(target − v) dt since the episode's start (mV·ms, the
  per-sample error capped at ±``error_cap`` = 20 mV, the integral clipped to
  ±100 mV·ms, ``tracking.INTEGRAL_CLIP``): with it a memoryless policy can integrate away the
  steady-state offset of proportional feedback.
  Units (``obs_units``): by default scaled to O(1), voltages and target as
  (v + 65 mV) / 20 mV (the target range [−75, −55] mV is [−0.5, 0.5]), the integral as
  integral / 50 mV·ms (in [−2, 2]); with ``obs_units="physical"`` mV, mV and mV·ms (the
  first window + 1 entries are then the observation of the earlier versions, [v, target]).
- **Action** (float32, shape (1,), in [−1, 1]): current into the soma, × ``action_scale``
  (default 0.5 nA), held for one control period.
- **Control period**: ``substeps`` × ``delta_t`` = 40 × 0.025 ms = 1 ms.
- **Reward** per period: −mean min(|v − target|, ``error_cap``) / 10 mV over the period's
  solver steps − ``charge_penalty`` × |I| × period (nA·ms = pC), weights in
  ``params.task``; ``error_cap`` = 20 mV keeps every period's reward in [−2.01, 0] (a spike
  costs about 4 over the periods it spans; below the cap, e.g. with zero current, the
  reward is the uncapped one).
- **Target**: drawn per episode uniformly in [``target_low``, ``target_high``] = [−75, −55] mV
  (from hyperpolarised to just above the HH soma's spiking onset: under a steady current
  the cell has no stable rest above about −61 mV and fires repetitively, so holding it
  between −61 and −55 mV takes feedback within the 1 ms control period; higher targets
  cannot be held without spikes at this control rate).
- **Termination**: numerical blow-up only (the env's numerical guard, see
  :mod:`neuroenv.neuron_env`: |v| > 1 V or a non-finite value; ``info["numerical_error"]``,
  reward −10); **truncation** after
  ``max_steps_in_episode`` = 200 periods (200 ms).
- **Noise**: ``obs_noise_std`` (mV, default 0), ``init_v_jitter`` (mV, default 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neuroenv.tasks.base import Task
from neuroenv.tasks.tracking import (
    ERROR_CAP,
    INTEGRAL_CLIP,
    VOLTAGE_RANGE,
    TargetAndIntegralObservation,
    capped_abs_error,
    integrate_error,
)
from neuroenv.validation import Range


class VoltageTarget(TargetAndIntegralObservation, Task):
    """Hold recording 0 at a per-episode target (see the module's task card).

    Task state: ``target`` (mV) and ``err_int`` (mV·ms, the clipped integral of the capped
    error target − v), float32 scalars.
    """

    param_order = (("target_low", "target_high"),)
    #: A target must keep the observation in its bounds (V_BOUNDS).
    target_range = VOLTAGE_RANGE

    def param_ranges(self):
        return {"target_low": VOLTAGE_RANGE, "target_high": VOLTAGE_RANGE,
                "charge_penalty": Range(0.0, unit="per pC"),
                "error_cap": Range(0.0, low_open=True, unit="mV")}

    def default_params(self) -> dict:
        return {"target_low": -75.0, "target_high": -55.0, "charge_penalty": 0.01,
                "error_cap": ERROR_CAP}

    def reset(self, key, params):
        target = jax.random.uniform(key, (), jnp.float32, params["target_low"],
                                    params["target_high"])
        return {"target": target, "err_int": jnp.zeros((), jnp.float32)}

    def step(self, task_state, trace, current, params, period_ms):
        v, target = trace[:, 0], task_state["target"]
        error = capped_abs_error(v, target, params["error_cap"]) / 10.0
        charge = jnp.sum(jnp.abs(current)) * period_ms
        reward = -(error + params["charge_penalty"] * charge)
        err_int = integrate_error(task_state["err_int"], v, target, params["error_cap"],
                                  period_ms, INTEGRAL_CLIP)
        return ({**task_state, "err_int": err_int}, reward.astype(jnp.float32),
                jnp.asarray(False))


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA,
    ``max_steps_in_episode`` 200, ``init_v_jitter`` 1 mV)."""
    from neuroenv.cells import soma_env

    defaults = {"action_scale": 0.5, "max_steps_in_episode": 200, "init_v_jitter": 1.0}
    return soma_env(VoltageTarget(), **{**defaults, **kwargs})
