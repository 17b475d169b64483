"""BasalGangliaDBS-v0: restore thalamic relay in the parkinsonian Rubin & Terman network with
as little DBS charge as possible.

The field's reference model of DBS (Rubin & Terman 2004; :mod:`simulator.models.basal_ganglia`):
in the parkinsonian state, bursty, synchronised GPi inhibition makes thalamocortical (TC)
cells miss or distort the sensorimotor pulses they should relay; high-frequency STN
stimulation regularises GPi and restores relay. The agent is the DBS device.

Task card
---------
- **Network**: :func:`~simulator.models.basal_ganglia.basal_ganglia_network` with 16 STN,
  16 GPe, 16 GPi and 2 TC cells, parkinsonian (GPe applied current −2.2 µA/cm², no GPe → GPe
  inhibition); initial voltages of seed 0 plus ``init_v_jitter`` = 5 mV per episode.
  ``fwd_euler`` at Δt = 0.01 ms (the pallidal cells' instantaneous Na activation makes the
  linearised implicit step unstable above ≈ 0.003 ms; So et al. 2012 use this scheme).
- **Sensorimotor input** (unobserved, ``Task.drive`` into both TC cells): 5 µA/cm² for 5 ms
  every 50 ms (20 Hz), on the episode clock.
- **Action** (float32, (1,), [−1, 1]): the DBS amplitude (a + 1)/2 × 400 µA/cm² (0 at
  a = −1, 0.4 nA per cell at a = 1: the authors' DBS file) of monophasic, depolarising
  0.6 ms pulses at 130 Hz into every STN cell (a unipolar
  :class:`~neuroenv.electrodes.CurrentActuator`; pulses on the global step grid).
- **Control period**: 1,000 × 0.01 ms = 10 ms.
- **Observation** (float32, (1,)): the beta-band (13–30 Hz) power of an STN local field
  potential proxy, sensed with a 5 ms delay (µV²; divided by ``POWER_REF`` = 5e-3 µV² with
  ``obs_units="scaled"``:
  measured ≈ 0.02 µV² at the peak of the initial transient, ≈ 1e-3 µV² untreated later,
  ≈ 0 under 130 Hz DBS at full amplitude). The proxy is the
  point-source potential (σ = 0.3 S/m) of the STN cells' GPe → STN synaptic currents at a
  contact 200 µm from the STN cells (placed on a 4 × 4 grid of 100 µm spacing in the plane
  of the contact): the synaptic-current LFP proxy of Mazzoni et al. (2008) — a point
  neuron's own transmembrane currents sum to zero and radiate no field. No voltage is
  observed (``observe="none"``).
- **Reward** per period: −(relay errors in the period) / (number of TC cells) −
  ``charge_penalty`` × (amplitude / 400 µA/cm²). Relay errors follow the error index of
  So et al. (2012) (:func:`~simulator.models.basal_ganglia.error_index`): a miss (no TC
  spike within 25 ms of a pulse onset) or a bad response (more than one) counts when the
  window closes, every TC spike outside the windows counts at once. Untreated, the errors
  cost ≈ 0.1 per period (EI ≈ 0.45); ``charge_penalty`` = 0.03 per period at full
  amplitude.
- **Termination, noise**: defaults of :mod:`neuroenv.tasks.base`; **truncation** after 100
  periods (1 s; the first ≈ 200 ms include the network's transient from its initial state).
  Variants: ``BasalGangliaDBSNoisy-v0``, ``-Drift-v0``, ``-Randomized-v0``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.electrodes import CurrentActuator
from neuroenv.extracellular_obs import BandPower
from neuroenv.neuron_env import NeuronEnv
from neuroenv.tasks.base import Task
from neuroenv.validation import Range, positive_int

#: Imported by the env's first reset (the beta band-pass design, unless neuroenv's disk cache
#: holds it): ``gymnasium.make`` imports it while waiting for its space probe.
FIRST_RESET_IMPORTS = ("scipy.signal",)

#: Sensorimotor pulses (ms): period, width; the relay window after each onset (ms).
SM_PERIOD, SM_WIDTH, WINDOW = 50.0, 5.0, 25.0
#: Spike threshold of the relay errors (mV, So et al. 2012).
SPIKE_MV = -40.0
#: DBS: µA/cm² at action 1, pulse width (ms), rate (Hz).
DBS_MAX, DBS_WIDTH, DBS_RATE = 400.0, 0.6, 130.0
#: The LFP proxy: conductivity (S/m), contact distance (µm), STN grid spacing (µm).
SIGMA, CONTACT_UM, GRID_UM = 0.3, 200.0, 100.0
#: Beta power (µV²) that scales to 1 in the default observation units.
POWER_REF = 5e-3


def lfp_weights(n_stn: int) -> np.ndarray:
    """(n_stn,) µV per nA of synaptic current into each STN cell: the point-source potential
    1 / (4π σ r) (:func:`simulator.extracellular.point_source.point_source_matrix`) with the
    cells on a square grid of ``GRID_UM`` spacing centred under a contact ``CONTACT_UM``
    away."""
    from simulator.extracellular.point_source import point_source_matrix

    side = int(np.ceil(np.sqrt(n_stn)))
    ij = np.stack(np.divmod(np.arange(n_stn), side), axis=1) - (side - 1) / 2.0
    cells = np.concatenate([ij * GRID_UM, np.zeros((n_stn, 1))], axis=1)
    with jax.enable_x64(True):
        matrix = jax.jit(point_source_matrix, static_argnums=(2, 3))  # one program
        mv_per_na = matrix(np.array([[0.0, 0.0, CONTACT_UM]]), cells, SIGMA, 1.0)
        return np.asarray(mv_per_na, np.float64)[0] * 1e3  # mV → µV


class BasalGangliaDBS(Task):
    """Relay the sensorimotor pulses with little DBS charge (see the card).

    Task state: ``step`` (solver steps since reset, int32: an exact pulse clock),
    ``count`` ((n_tc,) TC spikes in the open relay
    window), ``above`` ((n_tc,) bool: above threshold at the last sample), ``sensed``
    (beta sensor) and ``power`` (µV²), ``errors`` (relay errors so far, float32).

    Args:
        n_tc: TC cells (recordings 0..n_tc−1 are their voltages).
        weights: (n_syn,) µV per nA of each recorded GPe → STN synaptic current (the
            recordings after the TC voltages).
        delta_t: solver step (ms).
    """

    n_extra_obs = 1

    def __init__(self, n_tc: int, weights, delta_t: float = 0.01) -> None:
        self.n_tc = positive_int("n_tc", n_tc)
        self.weights = np.asarray(weights, np.float32)
        if self.weights.ndim != 1 or not np.all(np.isfinite(self.weights)):
            raise ValueError(f"weights must be a 1-D array of finite µV/nA, got shape"
                             f" {self.weights.shape}")
        self.delta_t = float(delta_t)
        if not (np.isfinite(self.delta_t) and self.delta_t > 0):
            raise ValueError(f"delta_t must be a finite time step > 0 ms, got {delta_t!r}")
        # The pulse clock in whole solver steps (exact at any episode length).
        self.steps = {}
        for name, ms in (("period", SM_PERIOD), ("width", SM_WIDTH), ("window", WINDOW)):
            n = int(round(ms / self.delta_t))
            if abs(n * self.delta_t - ms) > 1e-9 * ms:
                raise ValueError(f"delta_t must divide the sensorimotor {name} of {ms} ms into"
                                 f" whole solver steps, got {delta_t!r} ms")
            self.steps[name] = n
        self.sensor = BandPower(self.delta_t, delay_ms=5.0)

    def check_env(self, env) -> None:
        """The env's step is the task's, a period holds at most one window close (≤ 50 ms),
        and the recordings are the TC voltages and then the weighted synaptic currents."""
        if abs(env.delta_t - self.delta_t) > 1e-12:
            raise ValueError(f"the env's delta_t={env.delta_t} ms differs from the task's"
                             f" {self.delta_t} ms")
        if env.substeps > self.steps["period"]:
            raise ValueError(f"substeps={env.substeps}: a control period must be at most one"
                             f" sensorimotor period ({self.steps['period']} steps)")
        if env.n_rec != self.n_tc + len(self.weights):
            raise ValueError(f"the env records {env.n_rec} values; the task reads {self.n_tc}"
                             f" TC voltages and {len(self.weights)} synaptic currents")

    def param_ranges(self):
        return {"sm_amplitude": Range(0.0, units="nA"),
                "charge_penalty": Range(0.0, units="per period at full amplitude")}

    def default_params(self) -> dict:
        return {"sm_amplitude": 5e-3, "charge_penalty": 0.03}

    def reset(self, key, params):
        n = self.n_tc
        return {"step": jnp.zeros((), jnp.int32), "count": jnp.zeros(n, jnp.float32),
                "above": jnp.zeros(n, bool), "sensed": self.sensor.init(1),
                "power": jnp.zeros((), jnp.float32), "errors": jnp.zeros((), jnp.float32)}

    def _since(self, task_state, substeps, first: int):
        """(substeps,) int32 solver steps since the last pulse onset at samples ``first``,
        ..., ``first + substeps − 1`` of the period (sample 0: the period's start)."""
        k = task_state["step"] + first + jnp.arange(substeps, dtype=jnp.int32)
        return k % self.steps["period"]

    def drive(self, task_state, key, params, substeps, delta_t):
        on = self._since(task_state, substeps, 0) < self.steps["width"]  # the steps' starts
        amps = on.astype(jnp.float32) * params["sm_amplitude"]
        return task_state, jnp.broadcast_to(amps[:, None], (substeps, self.n_tc))

    def _relay_errors(self, task_state, v):
        """``(errors, count, above)`` of the period's TC samples ``v`` ((substeps, n_tc)
        mV): misses and bad responses of a window that closes in the period, spikes
        outside the windows, and the carried window count and threshold state."""
        above = v >= SPIKE_MV
        # At reset the initial voltage is unknown here: a cell already above threshold at
        # the first sample does not count as a crossing.
        first = jnp.where(task_state["step"] == 0, above[0], task_state["above"])
        prev = jnp.concatenate([first[None], above[:-1]], axis=0)
        spikes = (above & ~prev).astype(jnp.float32)  # (substeps, n_tc)
        since = self._since(task_state, v.shape[0], 1)  # the samples after each step
        inside = since < self.steps["window"]
        step = task_state["step"]
        was_inside = (step > 0) & (step % self.steps["period"] < self.steps["window"])
        closes = jnp.concatenate([was_inside[None], inside[:-1]]) & ~inside
        before = (jnp.cumsum(closes) == 0)[:, None]  # samples up to the window's close
        in_window = spikes * inside[:, None]
        count = task_state["count"] + jnp.sum(in_window * before, axis=0)
        closed = jnp.any(closes)
        window_errors = jnp.where(closed, jnp.sum((count == 0) | (count > 1)), 0)
        count = jnp.where(closed, jnp.sum(in_window * ~before, axis=0), count)
        errors = window_errors + jnp.sum(spikes * ~inside[:, None])
        return errors.astype(jnp.float32), count, above[-1]

    def step(self, task_state, trace, current, params, period_ms):
        errors, count, above = self._relay_errors(task_state, trace[:, :self.n_tc])
        lfp = trace[:, self.n_tc:] @ jnp.asarray(self.weights)
        sensed, power = self.sensor.step(task_state["sensed"], lfp[:, None])
        amplitude = jnp.abs(current[-1]) / (DBS_MAX * 1e-3)  # fraction of full amplitude
        reward = -errors / self.n_tc - params["charge_penalty"] * amplitude
        new = {"step": task_state["step"] + trace.shape[0], "count": count, "above": above,
               "sensed": sensed, "power": power[0], "errors": task_state["errors"] + errors}
        return new, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        return task_state["power"][None]

    def extra_obs_bounds(self):
        return [0.0], [1e6]

    def extra_obs_scaling(self):
        return [0.0], [POWER_REF]

    def render_info(self, traces, task_state, params):
        return {"trace": traces[:, 0]}


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the defaults (``substeps`` 1000, ``delta_t`` 0.01, ``solver`` fwd_euler,
    ``max_steps_in_episode`` 100, ``init_v_jitter`` 5 mV, ``observe="none"``)."""
    from simulator.models.basal_ganglia import basal_ganglia_network

    defaults = {"substeps": 1000, "delta_t": 0.01, "solver": "fwd_euler",
                "max_steps_in_episode": 100, "init_v_jitter": 5.0, "observe": "none"}
    kwargs = {**defaults, **kwargs}
    net, cells = basal_ganglia_network(16, "parkinsonian", seed=0)
    for i in cells["TC"]:
        net.cell(int(i)).record(verbose=False)
    of_type = net.edges["type"] == "GPe_STN"
    net.select(edges=net.edges.index[of_type].to_numpy()).record("i_GPe_STN", verbose=False)
    rec = net.recordings
    within = rec.loc[rec["state"] == "i_GPe_STN", "rec_index"].to_numpy()  # within the type
    post = net.edges.loc[of_type, "post_index"].to_numpy()[within]  # STN cell = node here
    weights = lfp_weights(len(cells["STN"]))[np.searchsorted(cells["STN"], post)]
    dbs = CurrentActuator([net.cell(int(i)) for i in cells["STN"]], shape="monophasic",
                          max_current=DBS_MAX * 1e-3, pulse_width=DBS_WIDTH, rate=DBS_RATE,
                          unipolar=True)
    task = BasalGangliaDBS(len(cells["TC"]), weights, kwargs["delta_t"])
    return NeuronEnv(net, [], task, drive_sites=[net.cell(int(i)) for i in cells["TC"]],
                     electrodes=[dbs], **kwargs)
