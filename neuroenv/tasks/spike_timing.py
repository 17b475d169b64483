"""SpikeTiming-v0: make a Hodgkin–Huxley cell spike at requested times, and only then.

Task card
---------
- **Neuron**: the three-branch HH cell of VoltageTarget-v0; a spike is an upward crossing of
  0 mV at the soma, timed at solver-step resolution (linear interpolation between the two
  solver steps around the crossing).
- **Requests**: per episode, n spike times, n uniform in {``requests_low``, …,
  ``requests_high``} = {3, …, 6} (at most ``max_requests`` = 6, a static size; unused slots
  are padded and never requested), drawn uniformly in [``t_first``, ``t_last``] = [10, 190] ms
  given a minimum separation of ``min_separation`` = 20 ms (after a spike, a 1 ms pulse evokes
  the next one from a 12 ms gap at 0.5 nA, 15 ms at 0.35 nA); drawn as sorted uniforms in the
  leftover span plus i × separation, i.e. uniform over all admissible sets.
- **Observation** (float32, shape (window + 2,), default (7,)): soma voltage (mV) at the end
  of each of the last ``window`` = 5 control periods (clipped to [−150, 100]), then the time
  until the next open request (ms, the request minus now, clipped to [−10, 50]; 50 when none
  is left; it goes down to −``tolerance`` while a just-passed request can still be hit), then
  the time since the last spike (ms, clipped to [0, 50]; 50 before the first one). Units
  (``obs_units``): by default scaled to O(1), voltages as (v + 65 mV) / 20 mV (about +5 at
  a spike's peak), both times as t / 10 ms (in [−1, 5] and [0, 5]); with
  ``obs_units="physical"`` mV, ms, ms.
- **Action** (float32, (1,), [−1, 1]): soma current × ``action_scale`` (default 0.5 nA), held
  for one control period. From rest, a 1 ms pulse of 0.5 nA evokes a spike ≈ 1.4 ms after
  its onset, 0.35 nA ≈ 1.9 ms, 0.25 nA ≈ 2.8 ms: the amplitude sets the spike time within
  the period, so the ±1 ms tolerance is met by choosing when and how hard to pulse.
- **Control period**: 40 × 0.025 ms = 1 ms.
- **Reward** per period: +1 for each spike within ±``tolerance`` = 1 ms of a request that is
  not yet hit (a spike serves the earliest such request), −``extra_penalty`` = 1 for every
  other spike, − ``charge_penalty`` × |I| × period (pC; default 0.002). A request that passes
  by more than the tolerance unhit is missed (no penalty, the +1 is lost). The best return of
  an episode is its number of requests (3–6); doing nothing returns 0.
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base`; **truncation** after
  ``max_steps_in_episode`` = 200 periods (200 ms).
- **Baselines** (return per 200 ms episode, mean ± std over 64 episodes; 4.64 requests per
  episode on average): zero current 0.0 ± 0.0 (also the best constant current; tonic firing
  at ≥ 0.2 nA returns ≈ −11); a full-strength 1 ms pulse when the next request is 0.9–1.9 ms
  away 4.64 ± 1.14 (every request hit, no extra spike). That rule relies on a fixed latency:
  with randomised conductances it drops to 4.50 ± 1.73, with drift to 4.12 ± 1.81.
- **Task state**: ``request_ms`` (max_requests,) float32 requested times (padded slots at
  1e6 ms), ``pending`` (max_requests,) bool open requests, ``hit`` (max_requests,) bool hit
  requests, ``n_requests`` () int32, ``n_spikes`` () int32 spikes so far, ``last_spike_ms``
  () time of the last spike (−1e4 before the first), ``v_last`` () soma voltage at the end of
  the last period (mV), ``t_ms`` () time at the end of the last period, ``dt_ms`` () sample
  interval of the traces (0 before the first step), ``step`` () int32 periods elapsed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.spikes import SPIKE_THRESHOLD, crosses_up
from neuroenv.validation import Range, positive_int

#: Clip range (ms) of the observed time until the next request.
UNTIL_NEXT_BOUNDS = (-10.0, 50.0)
#: Clip range (ms) of the observed time since the last spike.
SINCE_LAST_BOUNDS = (0.0, 50.0)
#: Time (ms) given to padded request slots: never reached.
PADDED_MS = 1e6
#: Time (ms) of the "last spike" before the first one.
NO_SPIKE_MS = -1e4
#: Scaled observations show the two times (ms) as t / TIME_SCALE.
TIME_SCALE = 10.0


def crossing_times(v_previous, trace, t0, dt):
    """Upward crossings of SPIKE_THRESHOLD in (v_previous, trace...).

    Args:
        v_previous: () voltage (mV) at time ``t0`` (the end of the previous period).
        trace: (T,) voltages (mV) at times t0 + dt, …, t0 + T dt.
        t0, dt: times (ms).

    Returns:
        ``(crossed, times)``: (T,) bool, True where the voltage crossed between the previous
        sample and this one, and (T,) float32 crossing times (ms, linear interpolation;
        meaningful only where ``crossed``).
    """
    v = jnp.concatenate([jnp.asarray(v_previous, trace.dtype)[None], trace])
    before, after = v[:-1], v[1:]
    crossed = crosses_up(before, after)
    rise = jnp.where(crossed, after - before, 1.0)
    fraction = jnp.clip((SPIKE_THRESHOLD - before) / rise, 0.0, 1.0)
    index = jnp.arange(trace.shape[0], dtype=jnp.float32)
    return crossed, (t0 + (index + fraction) * dt).astype(jnp.float32)


class SpikeTiming(Task):
    """Spike at the per-episode requested times (see the module's task card).

    Args:
        max_requests: static number of request slots (the most requests an episode can have).
    """

    n_extra_obs = 2

    def __init__(self, max_requests: int = 6) -> None:
        positive_int("max_requests", max_requests)
        self.max_requests = max_requests

    param_order = (("requests_low", "requests_high"), ("t_first", "t_last"))

    def param_ranges(self):
        return {"requests_low": Range(1.0, units="spike requests"),
                "requests_high": Range(1.0, units="spike requests"),
                "t_first": Range(0.0, units="ms"), "t_last": Range(0.0, units="ms"),
                "min_separation": Range(0.0, units="ms"),
                "tolerance": Range(0.0, low_open=True, units="ms"),
                "extra_penalty": Range(0.0, units="per extra spike"),
                "charge_penalty": Range(0.0, units="per pC")}

    def default_params(self) -> dict:
        return {"requests_low": 3.0, "requests_high": 6.0, "t_first": 10.0, "t_last": 190.0,
                "min_separation": 20.0, "tolerance": 1.0, "extra_penalty": 1.0,
                "charge_penalty": 0.002}

    def reset(self, key, params):
        k_n, k_t = jax.random.split(key)
        m = self.max_requests
        low = jnp.clip(jnp.round(params["requests_low"]), 1, m).astype(jnp.int32)
        high = jnp.clip(jnp.round(params["requests_high"]), low, m).astype(jnp.int32)
        n = jax.random.randint(k_n, (), low, high + 1, jnp.int32)
        sep = params["min_separation"]
        slot = jnp.arange(m, dtype=jnp.int32)
        used = slot < n
        # Uniform over separated sets: sorted uniforms in the leftover span, + i × sep.
        span = jnp.maximum(params["t_last"] - params["t_first"]
                           - (n - 1).astype(jnp.float32) * sep, 0.0)
        u = jax.random.uniform(k_t, (m,), jnp.float32, 0.0, 1.0) * span
        u = jnp.sort(jnp.where(used, u, jnp.inf))
        times = params["t_first"] + u + slot.astype(jnp.float32) * sep
        request = jnp.where(used, times, PADDED_MS).astype(jnp.float32)
        f32 = jnp.float32
        return {"request_ms": request, "pending": used, "hit": jnp.zeros((m,), bool),
                "n_requests": n, "n_spikes": jnp.zeros((), jnp.int32),
                "last_spike_ms": jnp.full((), NO_SPIKE_MS, f32),
                "v_last": jnp.full((), -65.0, f32), "t_ms": jnp.zeros((), f32),
                "dt_ms": jnp.zeros((), f32), "step": jnp.zeros((), jnp.int32)}

    def step(self, task_state, trace, current, params, period_ms):
        v = trace[:, 0].astype(jnp.float32)
        dt = period_ms / v.shape[0]
        crossed, times = crossing_times(task_state["v_last"], v, task_state["t_ms"], dt)
        request = task_state["request_ms"]
        tolerance = params["tolerance"]

        def match(carry, event):
            pending, hit, n_hits, n_extra, last = carry
            is_spike, t = event
            open_ = pending & (jnp.abs(t - request) <= tolerance) & is_spike
            first = jnp.argmax(open_)  # the earliest open request (requests are sorted)
            scored = jnp.any(open_)
            taken = open_ & (jnp.arange(request.shape[0]) == first)
            return (pending & ~taken, hit | taken, n_hits + scored.astype(jnp.int32),
                    n_extra + (is_spike & ~scored).astype(jnp.int32),
                    jnp.where(is_spike, t, last)), None

        zero = jnp.zeros((), jnp.int32)
        carry = (task_state["pending"], task_state["hit"], zero, zero,
                 task_state["last_spike_ms"])
        (pending, hit, n_hits, n_extra, last), _ = jax.lax.scan(match, carry, (crossed, times))
        step = task_state["step"] + 1
        t_ms = (step.astype(jnp.float32) * period_ms).astype(jnp.float32)
        pending = pending & (request + tolerance >= t_ms)  # passed unhit: missed
        reward = (n_hits.astype(jnp.float32) - params["extra_penalty"] * n_extra
                  - params["charge_penalty"] * charge_pC(current, period_ms))
        n_spikes = task_state["n_spikes"] + jnp.sum(crossed).astype(jnp.int32)
        new_state = {**task_state, "pending": pending, "hit": hit, "n_spikes": n_spikes,
                     "last_spike_ms": last.astype(jnp.float32), "v_last": v[-1], "t_ms": t_ms,
                     "dt_ms": jnp.asarray(dt, jnp.float32), "step": step}
        return new_state, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        now = task_state["t_ms"]
        next_ms = jnp.min(jnp.where(task_state["pending"], task_state["request_ms"], jnp.inf))
        until = jnp.where(jnp.isfinite(next_ms), next_ms - now, UNTIL_NEXT_BOUNDS[1])
        since = now - task_state["last_spike_ms"]
        return jnp.stack([jnp.clip(until, *UNTIL_NEXT_BOUNDS),
                          jnp.clip(since, *SINCE_LAST_BOUNDS)]).astype(jnp.float32)

    def extra_obs_bounds(self):
        return [UNTIL_NEXT_BOUNDS[0], SINCE_LAST_BOUNDS[0]], [UNTIL_NEXT_BOUNDS[1],
                                                              SINCE_LAST_BOUNDS[1]]

    def extra_obs_scaling(self):
        """Both times (ms) observed as t / 10 ms."""
        return [0.0, 0.0], [TIME_SCALE, TIME_SCALE]

    def render_info(self, traces, task_state, params):
        """The soma voltage with a tick at every requested time inside the shown window (the
        last sample is the end of the last period, ``t_ms``; samples ``dt_ms`` apart)."""
        trace = np.asarray(traces)[:, 0]
        info = {"trace": trace}
        if not task_state or trace.size == 0:
            return info
        dt = float(task_state["dt_ms"])
        request = np.asarray(task_state["request_ms"], np.float64)
        request = request[request < PADDED_MS]
        if dt > 0:
            index = trace.size - 1 - (float(task_state["t_ms"]) - request) / dt
            info["markers"] = index[(index >= 0) & (index <= trace.size - 1)]
        return info


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 0.5 nA, ``max_steps_in_episode`` 200,
    ``window`` 5, ``init_v_jitter`` 1 mV); ``max_requests`` sizes the request slots."""
    from neuroenv.cells import soma_env

    task_kwargs = {k: kwargs.pop(k) for k in ("max_requests",) if k in kwargs}
    defaults = {"action_scale": 0.5, "max_steps_in_episode": 200, "window": 5,
                "init_v_jitter": 1.0}
    return soma_env(SpikeTiming(**task_kwargs), **{**defaults, **kwargs})
