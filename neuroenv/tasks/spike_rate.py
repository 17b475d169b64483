"""SpikeRate-v0: make a Hodgkin–Huxley cell fire at a target rate.

Task card
---------
- **Neuron**: the three-branch HH cell of VoltageTarget-v0; spikes are upward crossings of
  0 mV at the soma.
- **Observation** (float32, shape (window + 2,)): soma voltage at the end of the last
  ``window`` control periods (clipped to [−150, 100] mV), the running firing-rate estimate,
  the target rate. Units (``obs_units``): by default scaled to O(1), the voltage as
  (v + 65 mV) / 20 mV (about +5 at a spike's peak), rates as rate / 100 Hz (targets in
  [0.2, 1]); with ``obs_units="physical"`` mV, Hz, Hz.
- **Action** (float32, (1,), [−1, 1]): soma current × ``action_scale`` (default 0.5 nA).
- **Control period**: 40 × 0.025 ms = 1 ms.
- **Rate estimate**: exponential moving average of spikes per period with time constant
  ``rate_tau`` = 50 ms, in Hz.
- **Reward** per period: −|rate − target| / ``target_high`` − ``charge_penalty`` × |I| ×
  period (pC): in [−1, 0] for rates up to twice ``target_high`` (O(1)).
- **Target**: uniform in [``target_low``, ``target_high``] = [20, 100] Hz per episode.
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base`; **truncation** after
  300 periods (300 ms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neuroenv.cells import soma_env
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.spikes import count_spikes
from neuroenv.validation import Range

#: Scaled observations show rates (Hz) as rate / RATE_SCALE.
RATE_SCALE = 100.0


class SpikeRate(Task):
    n_extra_obs = 2

    param_order = (("target_low", "target_high"),)
    #: A target rate must keep the observation in its bounds ([0, 1000] Hz).
    target_range = Range(0.0, 1000.0, units="Hz")

    def param_ranges(self):
        return {"target_low": Range(0.0, 1000.0, units="Hz"),
                "target_high": Range(0.0, 1000.0, low_open=True, units="Hz"),
                "rate_tau": Range(0.0, low_open=True, units="ms"),
                "charge_penalty": Range(0.0, units="per pC")}

    def default_params(self) -> dict:
        return {"target_low": 20.0, "target_high": 100.0, "rate_tau": 50.0,
                "charge_penalty": 0.002}

    def reset(self, key, params):
        target = jax.random.uniform(key, (), jnp.float32, params["target_low"],
                                    params["target_high"])
        return {"target": target, "rate": jnp.zeros((), jnp.float32),
                "v_last": jnp.full((), -65.0, jnp.float32)}

    def step(self, task_state, trace, current, params, period_ms):
        spikes = count_spikes(task_state["v_last"], trace[:, 0]).astype(jnp.float32)
        decay = jnp.exp(-period_ms / params["rate_tau"])
        instantaneous = spikes * 1000.0 / period_ms  # Hz
        rate = decay * task_state["rate"] + (1.0 - decay) * instantaneous
        error = jnp.abs(rate - task_state["target"]) / params["target_high"]
        reward = -(error + params["charge_penalty"] * charge_pC(current, period_ms))
        new_state = {"target": task_state["target"], "rate": rate.astype(jnp.float32),
                     "v_last": trace[-1, 0].astype(jnp.float32)}
        return new_state, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        return jnp.stack([task_state["rate"], task_state["target"]]).astype(jnp.float32)

    def extra_obs_bounds(self):
        return [0.0, 0.0], [1000.0, 1000.0]

    def extra_obs_scaling(self):
        """Rates (Hz) observed as rate / 100 Hz."""
        return [0.0, 0.0], [RATE_SCALE, RATE_SCALE]

    def render_info(self, traces, task_state, params):
        """The soma voltage and a bar of the rate estimate against the target (Hz)."""
        rate, target = float(task_state["rate"]), float(task_state["target"])
        high = float(params.get("target_high", target))
        return {"trace": traces[:, 0], "rate": rate, "rate_target": target,
                "rate_max": 1.25 * max(high, rate, target)}


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA,
    ``max_steps_in_episode`` 300, ``init_v_jitter`` 1 mV)."""
    defaults = {"action_scale": 0.5, "max_steps_in_episode": 300, "init_v_jitter": 1.0}
    return soma_env(SpikeRate(), **{**defaults, **kwargs})
