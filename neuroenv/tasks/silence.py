"""Silence-v0: keep a Hodgkin–Huxley cell under noisy synaptic drive from spiking.

Task card
---------
- **Neuron**: the three-branch HH cell of VoltageTarget-v0 (:func:`neuroenv.cells.hh_cell`);
  spikes are upward crossings of 0 mV at the soma.
- **Drive** (unobserved): an Ornstein–Uhlenbeck current into the soma (a ``drive_site`` of
  the env, summed with the action) of mean ``drive_mean`` = 0.1 nA, stationary std
  ``drive_std`` = 0.15 nA and correlation time ``drive_tau`` = 5 ms, advanced every solver
  step with the exact OU transition and drawn from its stationary law at reset. Uncontrolled,
  the cell fires irregularly at about 49 Hz (ISI CV about 0.4; measured over 16 × 500 ms).
- **Observation** (float32, shape (window + 1,)): soma voltage at the end of each of the
  last ``window`` (default 5) control periods (clipped to [−150, 100] mV), then the number
  of spikes in the last period. Units (``obs_units``): by default scaled to O(1), voltages
  as (v + 65 mV) / 20 mV (about +5 at a spike's peak), the spike count unscaled (0 or 1);
  with ``obs_units="physical"`` mV and the count.
- **Action** (float32, (1,), [−1, 1]): soma current × ``action_scale`` (default 1 nA), held
  for the control period (``pulse="constant"``).
- **Control period**: 20 × 0.025 ms = 0.5 ms.
- **Reward** per period (O(1): in [−1.03, 0] with at most one spike per 0.5 ms period):
  −(spikes in the period) − ``charge_penalty`` × |I| × period (pC),
  ``charge_penalty`` = 0.05 per pC. Holding the cell hyperpolarised silences it but costs
  charge all the time; the penalty is tuned so that a reactive policy (hyperpolarise only
  when the soma depolarises) clearly beats the best constant current, which beats no current
  (returns over 500 ms: about −25 with no current, −13 with the best constant −0.4 nA, −2.5
  with a rectified P controller).
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base`, plus the drive;
  **truncation** after 1,000 periods (500 ms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neuroenv.cells import hh_cell
from neuroenv.neuron_env import NeuronEnv
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.ou import ou_currents
from neuroenv.tasks.spikes import count_spikes, spike_samples
from neuroenv.validation import Range, positive_int


class Silence(Task):
    """Suppress the spikes that a noisy synaptic drive evokes, spending little charge.

    Task state: ``ou`` ((n_drive,) float32, drive currents in nA), ``v_last`` (float32 mV,
    soma voltage at the end of the last period, for spike detection across periods),
    ``spikes`` (int32, spikes in the last period).

    Args:
        n_drive: number of drive sites (one independent OU process each; must match the
            env's ``drive_sites``).
    """

    n_extra_obs = 1

    def __init__(self, n_drive: int = 2) -> None:
        positive_int("n_drive", n_drive)
        self.n_drive = n_drive

    def param_ranges(self):
        return {"drive_mean": Range(units="nA"), "drive_std": Range(0.0, units="nA"),
                "drive_tau": Range(0.0, low_open=True, units="ms"),
                "charge_penalty": Range(0.0, units="per pC")}

    def default_params(self) -> dict:
        """``drive_mean``/``drive_std`` (nA), ``drive_tau`` (ms), ``charge_penalty`` (1/pC)."""
        return {"drive_mean": 0.1, "drive_std": 0.15, "drive_tau": 5.0,
                "charge_penalty": 0.05}

    def reset(self, key, params):
        ou = params["drive_mean"] + params["drive_std"] * jax.random.normal(
            key, (self.n_drive,), jnp.float32)
        return {"ou": ou.astype(jnp.float32), "v_last": jnp.full((), -65.0, jnp.float32),
                "spikes": jnp.zeros((), jnp.int32)}

    def drive(self, task_state, key, params, substeps, delta_t):
        ou, currents = ou_currents(task_state["ou"], key, params["drive_mean"],
                                   params["drive_std"], params["drive_tau"], substeps, delta_t)
        return {**task_state, "ou": ou.astype(jnp.float32)}, currents

    def step(self, task_state, trace, current, params, period_ms):
        spikes = count_spikes(task_state["v_last"], trace[:, 0])
        charge = charge_pC(current, period_ms)
        reward = -(spikes.astype(jnp.float32) + params["charge_penalty"] * charge)
        new_state = {**task_state, "v_last": trace[-1, 0].astype(jnp.float32),
                     "spikes": spikes}
        return new_state, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        return task_state["spikes"].astype(jnp.float32)[None]

    def extra_obs_bounds(self):
        return [0.0], [10.0]

    def render_info(self, traces, task_state, params):
        """The soma voltage with a red tick at every spike."""
        trace = traces[:, 0]
        return {"trace": trace, "markers": spike_samples(trace)}


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the task's defaults (``action_scale`` 1 nA, ``substeps`` 20 (0.5 ms period),
    ``window`` 5, ``max_steps_in_episode`` 1,000, ``init_v_jitter`` 1 mV).

    The drive enters at the soma: with the same drive at the two dendrite tips (radius 1 µm,
    63 µm² per compartment) already 0.1 nA of noise drove the cell at 55–70 Hz for every
    mean tried (−0.1 to 0.15 nA), near its tonic rate, leaving no fluctuation-driven regime.
    """
    defaults = {"action_scale": 1.0, "substeps": 20, "window": 5,
                "max_steps_in_episode": 1000, "init_v_jitter": 1.0}
    cell, soma = hh_cell()
    sites = [soma]
    return NeuronEnv(cell, [soma], Silence(n_drive=len(sites)), drive_sites=sites,
                     **{**defaults, **kwargs})
