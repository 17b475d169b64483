"""VoltageTrack-v0: make the soma of a Hodgkin–Huxley cell follow a moving target voltage.

Task card
---------
- **Neuron**: the three-branch HH cell of VoltageTarget-v0 (soma = branch 0, compartment 0,
  30 pF: 0.1 nA moves it by about 3 mV/ms), gates at rest (−65 mV).
- **Target**: a multisine drawn per episode,
  ``target(t) = center + Σₖ aₖ sin(2π fₖ t + φₖ)`` (t in ms from the episode start, fₖ in
  kHz = Hz / 1000) with ``n_sines`` = 3 components: frequencies log-uniform in
  [``freq_low``, ``freq_high``] = [2, 40] Hz (both > 0), phases uniform, weights uniform in
  [0.05, 1] and normalised so that Σₖ aₖ = A, the peak excursion, uniform in
  [``amp_low``, ``amp_high``] = [2, 8] mV, and ``center`` uniform in
  [``v_low`` + A, ``v_high`` − A]. The target therefore stays in [``v_low``, ``v_high``] =
  [−75, −55] mV (from hyperpolarised to just above the cell's current-clamp spiking onset at
  ≈ −61 mV, where the controller must hold the sodium current back) and changes by at most
  2π·40 Hz·8 mV ≈ 2 mV/ms, well inside the ≈ 16 mV/ms the action range can drive. Only the
  10 numbers of the waveform are stored (no sampled array).
- **Observation** (float32, shape (window + n_preview + 1,), default (7,)): soma voltage at
  the end of each of the last ``window`` control periods (clipped to [−150, 100] mV), then
  the target now and ahead: ``target(t + d)`` for d in ``preview_ms`` = (0, 1, 2, 5, 10) ms,
  t the end of the last period (entry 0 is the current target, entry 1 the target at the end
  of the next period), then the integral of the tracking error ∫(target − v) dt since the
  episode's start (mV·ms; per-sample error capped at ±``error_cap`` = 20 mV, integral
  clipped to ±100 mV·ms), with which a memoryless policy can remove a steady offset.
  Units (``obs_units``): by default scaled to O(1), voltages and targets as
  (v + 65 mV) / 20 mV (targets in [−0.5, 0.5]), the integral as integral / 50 mV·ms (in
  [−2, 2]); with ``obs_units="physical"`` mV and mV·ms (the first window + n_preview
  entries are then the observation of the earlier versions).
- **Action** (float32, shape (1,), in [−1, 1]): current into the soma, × ``action_scale``
  (default 0.5 nA), held for one control period.
- **Control period**: ``substeps`` × ``delta_t`` = 40 × 0.025 ms = 1 ms.
- **Reward** per period: −mean min(|v(tᵢ) − target(tᵢ)|, ``error_cap``) / 10 mV over the
  period's solver steps tᵢ (the target is evaluated at every solver step)
  − ``charge_penalty`` × |I| × period (nA·ms = pC; default weight 0.01). ``error_cap`` =
  20 mV keeps every period's reward in [−2.01, 0]: an evoked spike (≈ 100 mV for ≈ 2 ms)
  costs about 4 over the periods it spans; errors below the cap are not changed.
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base` (the observation noise
  on the voltages only, the target is exact); **truncation** after ``max_steps_in_episode``
  = 200 periods (200 ms).
- **Baselines** (return per 200 ms episode, mean ± std over 64 episodes; measured before
  the 20 mV error cap, which changes only periods with a spike): zero current
  −63.0 ± 25.7 (also the best constant current); P + feedforward on the 1 ms preview,
  ``a = 0.08 (target(t+1) − v) + 0.04 (target(t+1) + 65)``, −14.2 ± 12.7 (mean |error|
  ≈ 0.7 mV; 14 % of its episodes contain a spike). Gains above ≈ 0.11 oscillate.
- **Task state**: ``center`` () mV, ``amp`` (n_sines,) mV, ``freq`` (n_sines,) Hz,
  ``phase`` (n_sines,) rad, ``t_ms`` () time at the end of the last period, ``dt_ms`` ()
  sample interval of the traces (0 before the first step), ``target`` () the target at
  ``t_ms`` (mV), ``step`` () int32 periods elapsed, ``err_int`` () the error integral
  (mV·ms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.neuron_env import V_OFFSET, V_SCALE
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.tracking import (
    ERROR_CAP,
    INTEGRAL_CLIP,
    INTEGRAL_SCALE,
    VOLTAGE_RANGE,
    capped_abs_error,
    integrate_error,
)
from neuroenv.validation import Range, positive_int

#: Preview offsets (ms after the end of the last period) of the target in the observation.
DEFAULT_PREVIEW_MS = (0.0, 1.0, 2.0, 5.0, 10.0)


def target_at(task_state: dict, t_ms) -> jax.Array:
    """The episode's target voltage (mV) at times ``t_ms`` (ms, any shape; same shape out)."""
    t = jnp.asarray(t_ms, jnp.float32)[..., None]
    omega = 2.0 * jnp.pi * task_state["freq"] / 1000.0  # rad/ms
    waves = task_state["amp"] * jnp.sin(omega * t + task_state["phase"])
    return (task_state["center"] + jnp.sum(waves, axis=-1)).astype(jnp.float32)


def target_at_numpy(task_state: dict, t_ms) -> np.ndarray:
    """:func:`target_at` in NumPy (float64) for rendering and analysis."""
    t = np.asarray(t_ms, np.float64)[..., None]
    omega = 2.0 * np.pi * np.asarray(task_state["freq"], np.float64) / 1000.0
    waves = np.asarray(task_state["amp"], np.float64) * np.sin(
        omega * t + np.asarray(task_state["phase"], np.float64))
    return float(task_state["center"]) + waves.sum(axis=-1)


class VoltageTrack(Task):
    """Follow a per-episode multisine target voltage (see the module's task card).

    Args:
        n_sines: number of sinusoidal components of the target (static).
        preview_ms: offsets (ms, ≥ 0) after the end of the last period at which the target
            is shown in the observation (static; sets the observation size).
    """

    def __init__(self, n_sines: int = 3, preview_ms=DEFAULT_PREVIEW_MS) -> None:
        positive_int("n_sines", n_sines)
        preview = tuple(float(d) for d in preview_ms)
        if not preview or not all(np.isfinite(d) and d >= 0 for d in preview):
            raise ValueError(f"preview_ms must be a non-empty sequence of finite offsets >= 0 "
                             f"(ms), got {preview_ms!r}")
        self.n_sines = n_sines
        self.preview_ms = preview
        self.n_extra_obs = len(preview) + 1

    param_order = (("v_low", "v_high"), ("amp_low", "amp_high"), ("freq_low", "freq_high"))

    def param_ranges(self):
        return {"v_low": VOLTAGE_RANGE, "v_high": VOLTAGE_RANGE,
                "amp_low": Range(0.0, units="mV"), "amp_high": Range(0.0, units="mV"),
                "freq_low": Range(0.0, low_open=True, units="Hz"),
                "freq_high": Range(0.0, low_open=True, units="Hz"),
                "charge_penalty": Range(0.0, units="per pC"),
                "error_cap": Range(0.0, low_open=True, units="mV")}

    def default_params(self) -> dict:
        return {"v_low": -75.0, "v_high": -55.0, "amp_low": 2.0, "amp_high": 8.0,
                "freq_low": 2.0, "freq_high": 40.0, "charge_penalty": 0.01,
                "error_cap": ERROR_CAP}

    def reset(self, key, params):
        k_amp, k_weight, k_center, k_freq, k_phase = jax.random.split(key, 5)
        n = self.n_sines
        f32 = jnp.float32
        amp_total = jax.random.uniform(k_amp, (), f32, params["amp_low"], params["amp_high"])
        # Keep the whole excursion inside [v_low, v_high] (amp_total clipped to fit).
        amp_total = jnp.clip(amp_total, 0.0, 0.5 * (params["v_high"] - params["v_low"]))
        weights = jax.random.uniform(k_weight, (n,), f32, 0.05, 1.0)
        amp = amp_total * weights / jnp.sum(weights)
        center = jax.random.uniform(k_center, (), f32, params["v_low"] + amp_total,
                                    params["v_high"] - amp_total)
        log_f = jax.random.uniform(k_freq, (n,), f32, jnp.log(params["freq_low"]),
                                   jnp.log(params["freq_high"]))
        phase = jax.random.uniform(k_phase, (n,), f32, 0.0, 2.0 * jnp.pi)
        state = {"center": center, "amp": amp, "freq": jnp.exp(log_f), "phase": phase,
                 "t_ms": jnp.zeros((), f32), "dt_ms": jnp.zeros((), f32),
                 "step": jnp.zeros((), jnp.int32), "err_int": jnp.zeros((), f32)}
        state["target"] = target_at(state, state["t_ms"])
        return state

    def step(self, task_state, trace, current, params, period_ms):
        substeps = trace.shape[0]
        dt = period_ms / substeps
        t0 = task_state["t_ms"]
        times = t0 + dt * jnp.arange(1, substeps + 1, dtype=jnp.float32)  # each solver step
        v, target = trace[:, 0], target_at(task_state, times)
        error = capped_abs_error(v, target, params["error_cap"]) / 10.0
        reward = -(error + params["charge_penalty"] * charge_pC(current, period_ms))
        err_int = integrate_error(task_state["err_int"], v, target, params["error_cap"],
                                  period_ms, INTEGRAL_CLIP)
        step = task_state["step"] + 1
        t_ms = (step.astype(jnp.float32) * period_ms).astype(jnp.float32)  # no drift
        new_state = {**task_state, "t_ms": t_ms, "dt_ms": jnp.asarray(dt, jnp.float32),
                     "step": step, "target": target_at(task_state, t_ms), "err_int": err_int}
        return new_state, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        ahead = task_state["t_ms"] + jnp.asarray(self.preview_ms, jnp.float32)
        return jnp.concatenate([target_at(task_state, ahead),
                                task_state["err_int"][None].astype(jnp.float32)])

    def extra_obs_bounds(self):
        n = len(self.preview_ms)
        return [-150.0] * n + [-INTEGRAL_CLIP], [100.0] * n + [INTEGRAL_CLIP]

    def extra_obs_scaling(self):
        """Targets like voltages, (x + 65 mV) / 20 mV; the integral / 50 mV·ms."""
        n = len(self.preview_ms)
        return [V_OFFSET] * n + [0.0], [V_SCALE] * n + [INTEGRAL_SCALE]

    def render_info(self, traces, task_state, params):
        """The soma voltage and the target trace at the same samples (the last sample is
        the end of the last period, ``t_ms``; samples ``dt_ms`` apart), zoomed on the target
        range [``v_low`` − 10, ``v_high`` + 15] mV (spikes run off the top edge)."""
        trace = np.asarray(traces)[:, 0]
        if not task_state:
            return {"trace": trace}
        v_range = (float(params.get("v_low", -75.0)) - 10.0,
                   float(params.get("v_high", -55.0)) + 15.0)
        lag = np.arange(trace.size - 1, -1, -1, dtype=np.float64) * float(task_state["dt_ms"])
        times = float(task_state["t_ms"]) - lag  # ms, oldest first
        return {"trace": trace, "target": target_at_numpy(task_state, times),
                "v_range": v_range}


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA, ``max_steps_in_episode`` 200,
    ``init_v_jitter`` 1 mV); ``n_sines`` and ``preview_ms`` configure the task."""
    from neuroenv.cells import soma_env

    task_kwargs = {k: kwargs.pop(k) for k in ("n_sines", "preview_ms") if k in kwargs}
    defaults = {"action_scale": 0.5, "max_steps_in_episode": 200, "init_v_jitter": 1.0}
    return soma_env(VoltageTrack(**task_kwargs), **{**defaults, **kwargs})
