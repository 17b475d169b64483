"""VoltageTarget-v0: hold the soma of a Hodgkin–Huxley cell at a target voltage.

Task card
---------
- **Neuron**: three-branch HH cell (branches of 4 compartments; soma branch radius 10 µm,
  dendrites 1 µm; soma = branch 0, compartment 0), gates at rest (−65 mV).
- **Observation** (float32, shape (window + 1,)): soma voltage (mV) at the end of each of the
  last ``window`` control periods (clipped to [−150, 100]), then the target (mV).
- **Action** (float32, shape (1,), in [−1, 1]): current into the soma, × ``action_scale``
  (default 0.5 nA), held for one control period.
- **Control period**: ``substeps`` × ``delta_t`` = 40 × 0.025 ms = 1 ms.
- **Reward** per period: −mean |v − target| / 10 mV over the period's solver steps
  − ``charge_penalty`` × |I| × period (nA·ms = pC), weights in ``params.task``.
- **Target**: drawn per episode uniformly in [``target_low``, ``target_high``] = [−75, −55] mV
  (from hyperpolarised to just above the HH soma's spiking onset: under a steady current
  the cell has no stable rest above about −61 mV and fires repetitively, so holding it
  between −61 and −55 mV takes feedback within the 1 ms control period; higher targets
  cannot be held without spikes at this control rate).
- **Termination**: numerical blow-up only (``info["numerical_error"]``); **truncation** after
  ``max_steps_in_episode`` = 200 periods (200 ms).
- **Noise**: ``obs_noise_std`` (mV, default 0), ``init_v_jitter`` (mV, default 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neuroenv.tasks.base import Task


class VoltageTarget(Task):
    n_extra_obs = 1

    def default_params(self) -> dict:
        return {"target_low": -75.0, "target_high": -55.0, "charge_penalty": 0.01}

    def reset(self, key, params):
        target = jax.random.uniform(key, (), jnp.float32, params["target_low"],
                                    params["target_high"])
        return {"target": target}

    def step(self, task_state, trace, current, params, period_ms):
        error = jnp.mean(jnp.abs(trace[:, 0] - task_state["target"])) / 10.0
        charge = jnp.sum(jnp.abs(current)) * period_ms
        reward = -(error + params["charge_penalty"] * charge)
        return task_state, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        return task_state["target"][None].astype(jnp.float32)

    def extra_obs_bounds(self):
        return [-150.0], [100.0]


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA,
    ``max_steps_in_episode`` 200, ``init_v_jitter`` 1 mV)."""
    from neuroenv.cells import soma_env

    defaults = {"action_scale": 0.5, "max_steps_in_episode": 200, "init_v_jitter": 1.0}
    return soma_env(VoltageTarget(), **{**defaults, **kwargs})
