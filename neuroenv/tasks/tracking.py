"""Voltage-tracking terms shared by the tasks that drive a voltage to a target.

The per-sample error is capped (``error_cap``, mV) so that a spike (≈ 100 mV away from any
subthreshold target for ≈ 2 ms) costs a few units of reward rather than tens: per-period
rewards stay O(1). The same capped error is integrated (``integral``, mV·ms, clipped to
±``integral_clip``: anti-windup) and observed, so that a memoryless policy can act like an
integral controller and remove the steady-state offset that proportional feedback leaves.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neuroenv.neuron_env import V_BOUNDS, V_OFFSET, V_SCALE
from neuroenv.validation import Range

#: Default cap (mV) of the per-sample |v − target| in rewards and in the error integral.
ERROR_CAP = 20.0
#: Default clip (mV·ms) of the error integral.
INTEGRAL_CLIP = 100.0
#: The error integral is observed (scaled units) as integral / INTEGRAL_SCALE (mV·ms): ±2 at
#: the clip.
INTEGRAL_SCALE = 50.0
#: Valid voltages of targets and voltage parameters (mV): the observation's bounds.
VOLTAGE_RANGE = Range(V_BOUNDS[0], V_BOUNDS[1], units="mV")
#: Valid error caps (mV).
ERROR_CAP_RANGE = Range(0.0, low_open=True, units="mV")


def capped_abs_error(v, target, cap):
    """Mean over samples of min(|v − target|, cap) (mV).

    Args:
        v: (T,) voltages (mV).
        target: scalar or (T,) target voltages (mV).
        cap: cap of the per-sample error (mV).

    Returns:
        float32 scalar (mV).
    """
    return jnp.mean(jnp.minimum(jnp.abs(v - target), cap)).astype(jnp.float32)


def integrate_error(integral, v, target, cap, period_ms, clip):
    """The error integral after one control period.

    ``clip(integral + mean(clip(target − v, ±cap)) · period_ms, ±clip)``: positive when the
    voltage sits below the target (more current is needed).

    Args:
        integral: () integral so far (mV·ms).
        v: (T,) voltages during the period (mV).
        target: scalar or (T,) targets (mV).
        cap: cap of the per-sample error (mV).
        period_ms: control period (ms).
        clip: bound of the integral (mV·ms).

    Returns:
        float32 scalar (mV·ms).
    """
    error = jnp.mean(jnp.clip(target - v, -cap, cap))
    return jnp.clip(integral + error * period_ms, -clip, clip).astype(jnp.float32)


class TargetAndIntegralObservation:
    """A task holding recording 0 at a per-episode target (mixed into a
    :class:`~neuroenv.tasks.base.Task`): the target drawn uniformly in [``target_low``,
    ``target_high``] (mV), the state's ``target`` (mV) and ``err_int`` (mV·ms, the clipped
    integral of the capped error target − v), and the task entries ``[target, err_int]``
    of the observation: the target like a voltage, (x + 65 mV) / 20 mV scaled, the integral
    / 50 mV·ms.
    """

    n_extra_obs = 2
    param_order = (("target_low", "target_high"),)
    #: A target must keep the observation in its bounds (V_BOUNDS).
    target_range = VOLTAGE_RANGE

    def param_ranges(self):
        return {"target_low": VOLTAGE_RANGE, "target_high": VOLTAGE_RANGE,
                "charge_penalty": Range(0.0, units="per pC"), "error_cap": ERROR_CAP_RANGE}

    def reset(self, key, params):
        target = jax.random.uniform(key, (), jnp.float32, params["target_low"],
                                    params["target_high"])
        return {"target": target, "err_int": jnp.zeros((), jnp.float32)}

    def tracking_terms(self, task_state, v, params, period_ms):
        """``(error, err_int)``: the period's mean capped |v − target| / 10 mV (float32
        scalar) and the updated error integral (mV·ms) for the (T,) voltages ``v`` (mV)."""
        target, cap = task_state["target"], params["error_cap"]
        err_int = integrate_error(task_state["err_int"], v, target, cap, period_ms,
                                  INTEGRAL_CLIP)
        return capped_abs_error(v, target, cap) / 10.0, err_int

    def extra_obs(self, task_state, params):
        return jnp.stack([task_state["target"], task_state["err_int"]]).astype(jnp.float32)

    def extra_obs_bounds(self):
        return [V_BOUNDS[0], -INTEGRAL_CLIP], [V_BOUNDS[1], INTEGRAL_CLIP]

    def extra_obs_scaling(self):
        return [V_OFFSET, 0.0], [V_SCALE, INTEGRAL_SCALE]
