"""Extracellular signals in any task's observation: :class:`ObserveLFP`.

A device senses extracellular potentials, not membrane voltages. ``ObserveLFP(task, ...)``
wraps any :class:`~neuroenv.tasks.base.Task` and appends, per recorded contact, either the
raw potential at the end of the control period (µV, ``kind="raw"``) or its band power
(µV², ``kind="band_power"``, a causal Butterworth band-pass and envelope:
:class:`~neuroenv.extracellular_obs.BandPower`), optionally delayed by a sensing latency.
The wrapped task is unchanged otherwise: its reward, termination, drive, targets and
observation entries come first. Combine it with ``observe="none"`` for a device that
senses only the LFP, or keep the recorded states (``observe="all"``/``"mean"``)::

    net.add_electrode(point_contacts([[0, -60, 0]]), name="rec")
    net.record_extracellular("rec")
    env = NeuronEnv(net, [soma], ObserveLFP(VoltageTarget(), n_contacts=1), observe="none")
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from neuroenv.extracellular_obs import BandPower
from neuroenv.tasks.base import Task
from neuroenv.validation import positive_int

#: The observation kinds: the potential at the end of the period, or its band power.
KINDS = ("raw", "band_power")
#: Bound (µV or µV²) of an observed entry: values beyond are clipped (e.g. a recording
#: contact beside a stimulating one).
LIMIT = 1e6
#: Task-state keys of the wrapper (prefixed, so that they never shadow the task's).
_SENSOR, _OBS = "lfp_sensor", "lfp_obs"


class ObserveLFP(Task):
    """``task`` with its recorded contacts' LFP appended to the observation.

    Args:
        task: the task to wrap.
        n_contacts: recorded contacts of the env's module (the last ``n_contacts`` columns of
            the trace the env hands to tasks, µV; ``NeuronEnv.n_lfp``).
        kind: ``"raw"`` (µV at the end of the period, ``delay_ms`` earlier) or
            ``"band_power"`` (µV² in ``band``).
        delta_t: solver step (ms) the LFP is sampled at (the env's ``delta_t``).
        band: ``(low, high)`` band edges (Hz) for ``"band_power"``.
        delay_ms: sensing delay (ms, whole solver steps); for ``"raw"`` shorter than the
            control period.
        scale: the physical value (µV or µV²) that scales to 1 in ``obs_units="scaled"``.
    """

    def __init__(self, task: Task, n_contacts: int, kind: str = "raw",
                 delta_t: float = 0.025, band=(13.0, 30.0), delay_ms: float = 0.0,
                 scale: float = 100.0) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"task must be a neuroenv Task, got {type(task).__name__}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if not (float(scale) > 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be a finite value > 0 (µV or µV²), got {scale!r}")
        self.task, self.kind, self.scale = task, kind, float(scale)
        self.n_contacts = positive_int("n_contacts", n_contacts)
        self.sensor = BandPower(float(delta_t), *band, delay_ms=float(delay_ms))
        self.delay = self.sensor.chain.delay  # checks delay_ms: whole solver steps, >= 0
        self.n_extra_obs = task.n_extra_obs + self.n_contacts
        self.param_order = task.param_order
        self.target_range = task.target_range

    def check_env(self, env) -> None:
        """The env records at least ``n_contacts`` contacts and samples at ``delta_t``."""
        self.task.check_env(env)
        if self.n_contacts > env.n_lfp:
            raise ValueError(f"n_contacts={self.n_contacts} but the env's module records"
                             f" {env.n_lfp} extracellular contacts (record_extracellular)")
        if abs(env.delta_t - self.sensor.delta_t) > 1e-12:
            raise ValueError(f"ObserveLFP's delta_t={self.sensor.delta_t} ms differs from the"
                             f" env's delta_t={env.delta_t} ms: pass delta_t=env's step")

    def default_params(self) -> dict:
        return self.task.default_params()

    def param_ranges(self):
        return self.task.param_ranges()

    def reset(self, key, params):
        state = self.task.reset(key, params)
        clash = {_SENSOR, _OBS} & set(state)
        if clash:
            raise ValueError(f"task state keys {sorted(clash)} are reserved by ObserveLFP")
        sensor = self.sensor.init(self.n_contacts) if self.kind == "band_power" else ()
        return {**state, _SENSOR: sensor, _OBS: jnp.zeros(self.n_contacts, jnp.float32)}

    def drive(self, task_state, key, params, substeps, delta_t):
        inner, currents = self.task.drive(self._inner(task_state), key, params, substeps,
                                          delta_t)
        return {**task_state, **inner}, currents

    def step(self, task_state, trace, current, params, period_ms):
        inner, reward, done = self.task.step(self._inner(task_state), trace, current, params,
                                             period_ms)
        lfp = trace[:, trace.shape[1] - self.n_contacts:]
        if self.kind == "band_power":
            sensor, obs = self.sensor.step(task_state[_SENSOR], lfp)
        else:
            if self.delay >= trace.shape[0]:
                raise ValueError(f"delay_ms of a raw LFP observation must be shorter than"
                                 f" the control period ({trace.shape[0]} solver steps),"
                                 f" got {self.delay} steps")
            sensor, obs = (), lfp[trace.shape[0] - 1 - self.delay]
        new = {**inner, _SENSOR: sensor, _OBS: obs.astype(jnp.float32)}
        return new, reward, done

    def extra_obs(self, task_state, params):
        own = self.task.extra_obs(self._inner(task_state), params).astype(jnp.float32)
        low = 0.0 if self.kind == "band_power" else -LIMIT
        return jnp.concatenate([own, jnp.clip(task_state[_OBS], low, LIMIT)])

    def extra_obs_bounds(self):
        low, high = self.task.extra_obs_bounds()
        lo = 0.0 if self.kind == "band_power" else -LIMIT
        return [*low, *[lo] * self.n_contacts], [*high, *[LIMIT] * self.n_contacts]

    def extra_obs_scaling(self):
        offset, scale = self.task.extra_obs_scaling()
        return [*offset, *[0.0] * self.n_contacts], [*scale, *[self.scale] * self.n_contacts]

    def render_info(self, traces, task_state, params):
        return self.task.render_info(traces, self._inner(task_state), params)

    @staticmethod
    def _inner(task_state: dict) -> dict:
        return {k: v for k, v in task_state.items() if k not in (_SENSOR, _OBS)}
