"""The task contract: what a neuron-control task defines (one file per task).

A task turns the neuron's recorded trace over one control period into a reward and
termination, draws its per-episode variables (targets) at reset, and may add entries to the
observation (e.g. the target). Everything numeric is in ``params`` (a dict of float32
arrays, part of ``EnvParams``); everything per-episode is in the task state (a dict).
"""

from __future__ import annotations

import jax


class Task:
    """Base class of tasks.

    Attributes:
        n_extra_obs: number of task entries appended to the observation.
    """

    n_extra_obs: int = 0

    def default_params(self) -> dict:
        """Task parameters (float32 scalars): targets' ranges, penalty weights, ..."""
        return {}

    def reset(self, key: jax.Array, params: dict) -> dict:
        """Per-episode task state (e.g. ``{"target": ...}``)."""
        return {}

    def step(self, task_state: dict, trace: jax.Array, current: jax.Array, params: dict,
             period_ms: float) -> tuple[dict, jax.Array, jax.Array]:
        """Advance the task over one control period.

        Args:
            task_state: from ``reset`` or the previous step.
            trace: (substeps, n_recordings) recorded values during the period (mV for v).
            current: (n_sites,) injected current during the period (nA).
            params: task parameters.
            period_ms: control period (ms).

        Returns:
            ``(task_state, reward, terminated)``, reward a float32 scalar.
        """
        raise NotImplementedError

    def extra_obs(self, task_state: dict, params: dict) -> jax.Array:
        """(n_extra_obs,) float32 entries appended to the observation."""
        import jax.numpy as jnp

        return jnp.zeros((0,), jnp.float32)

    def extra_obs_bounds(self) -> tuple[list[float], list[float]]:
        return [], []
