"""The task contract: what a neuron-control task defines (one file per task).

A task turns the neuron's recorded trace over one control period into a reward and
termination, draws its per-episode variables (targets) at reset, and may add entries to the
observation (e.g. the target), inject its own currents (``drive``: noisy synaptic input at
the env's ``drive_sites``) and say what ``render()`` draws. A task's observation entries are
computed in physical units (mV, Hz, ms, ...); ``extra_obs_scaling`` gives the affine map
``(x − offset) / scale`` that :class:`~neuroenv.NeuronEnv` applies to them for its default
``obs_units="scaled"`` observations (O(1) entries). Everything numeric is in
``params`` (a dict of float32 arrays, part of ``EnvParams``); everything per-episode is in the
task state (a dict of arrays).

Each task's module docstring is its task card. By default episodes terminate only on a
"numerical blow-up": the env's numerical guard (:mod:`neuroenv.neuron_env`: |v| > 1 V or a
non-finite value) ends them with ``info["numerical_error"]`` and reward −10; the default
noise is ``obs_noise_std`` (mV, default 0) on the observation and ``init_v_jitter``
(mV, default 1) on the initial voltages.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.validation import Range


def charge_pC(current, period_ms):
    """Charge (pC) of one control period, which ``charge_penalty`` (per pC) multiplies:
    Σ |amplitude| (nA, (n_sites,)) × period (ms)."""
    return jnp.sum(jnp.abs(current)) * period_ms


class Task:
    """Base class of tasks.

    Attributes:
        n_extra_obs: number of task entries appended to the observation.
    """

    n_extra_obs: int = 0
    #: Pairs ``(low, high)`` of parameter names whose values must satisfy low <= high.
    param_order: tuple[tuple[str, str], ...] = ()
    #: Valid values of the per-episode ``target`` (task state) that
    #: ``NeuronGymEnv.reset(options={"target": ...})`` may set; ``None``: no target.
    target_range: Range | None = None

    def default_params(self) -> dict:
        """Task parameters (float32 scalars): targets' ranges, penalty weights, ..."""
        return {}

    def param_ranges(self) -> dict[str, Range]:
        """The valid values of each task parameter (:class:`~neuroenv.validation.Range`);
        a parameter not named here must be finite. Every path into ``EnvParams`` enforces
        them (:mod:`neuroenv.params_validation`)."""
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
            current: (n_sites,) amplitude of the injected current during the period (nA).
            params: task parameters.
            period_ms: control period (ms).

        Returns:
            ``(task_state, reward, terminated)``, reward a float32 scalar.
        """
        raise NotImplementedError

    def drive(self, task_state: dict, key: jax.Array, params: dict, substeps: int,
              delta_t: float) -> tuple[dict, jax.Array]:
        """Currents the task injects at the env's ``drive_sites`` during the next period.

        Called before the period's solver steps only when the env has drive sites.

        Returns:
            ``(task_state, currents)``, currents (substeps, n_drive_sites) in nA.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no drive currents")

    def extra_obs(self, task_state: dict, params: dict) -> jax.Array:
        """(n_extra_obs,) float32 entries appended to the observation."""
        return jnp.zeros((0,), jnp.float32)

    def extra_obs_bounds(self) -> tuple[list[float], list[float]]:
        """``(low, high)``: bounds of the ``n_extra_obs`` entries in physical units."""
        return [], []

    def extra_obs_scaling(self) -> tuple[list[float], list[float]]:
        """``(offset, scale)`` of each of the ``n_extra_obs`` entries (physical units,
        scale > 0): the scaled observation is ``(x − offset) / scale``, of order 1.

        By default the entries are not scaled (offset 0, scale 1).
        """
        return [0.0] * self.n_extra_obs, [1.0] * self.n_extra_obs

    def check_env(self, env) -> None:
        """``ValueError`` naming the value if the task cannot run in ``env`` (its
        ``delta_t``, ``substeps``, recordings, ...); called by :class:`~neuroenv.NeuronEnv`
        once it is built. By default every env is accepted."""

    def render_info(self, traces: np.ndarray, task_state: dict, params: dict) -> dict:
        """Keyword arguments of :func:`neuroenv.render.render_trace` for a frame.

        Args:
            traces: (T, n_recordings) recorded values of the last periods (NumPy).
            task_state, params: the current task state and parameters (NumPy values).

        Returns:
            at least ``{"trace": (T,) values}``; by default the first recording, with the
            task's scalar ``target`` (mV) drawn as a line when it has one. Other keys:
            ``v_range``, ``markers``, ``rate``/``rate_target``/``rate_max``/``rate_label``
            (see ``render_trace``) and ``"morphology": {"target_recording": i}``, which
            makes :func:`neuroenv.render.render_env_frame` add a panel of the cell with the
            stimulation sites and recording ``i`` as the target. The env adds the time
            axis and the injected current.
        """
        info = {"trace": traces[:, 0]}
        target = task_state.get("target")
        if target is not None and np.ndim(target) == 0:
            info["target"] = float(target)
        return info
