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
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base`; **truncation** after
  ``max_steps_in_episode`` = 200 periods (200 ms).
"""

from __future__ import annotations

import jax.numpy as jnp

from neuroenv.cells import soma_env
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.tracking import ERROR_CAP, TargetAndIntegralObservation


class VoltageTarget(TargetAndIntegralObservation, Task):
    """Hold recording 0 at a per-episode target (see the module's task card).

    Task state: ``target`` (mV) and ``err_int`` (mV·ms, the clipped integral of the capped
    error target − v), float32 scalars.
    """

    def default_params(self) -> dict:
        return {"target_low": -75.0, "target_high": -55.0, "charge_penalty": 0.01,
                "error_cap": ERROR_CAP}

    def step(self, task_state, trace, current, params, period_ms):
        error, err_int = self.tracking_terms(task_state, trace[:, 0], params, period_ms)
        reward = -(error + params["charge_penalty"] * charge_pC(current, period_ms))
        return ({**task_state, "err_int": err_int}, reward.astype(jnp.float32),
                jnp.asarray(False))


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA,
    ``max_steps_in_episode`` 200, ``init_v_jitter`` 1 mV)."""
    defaults = {"action_scale": 0.5, "max_steps_in_episode": 200, "init_v_jitter": 1.0}
    return soma_env(VoltageTarget(), **{**defaults, **kwargs})
