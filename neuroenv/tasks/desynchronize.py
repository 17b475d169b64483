"""Desynchronize-v0: suppress the collective oscillation of a network of coupled HH cells.

The deep-brain-stimulation analogue of Krylov et al. (2020) and DBS-Gym: a population of
globally coupled oscillating neurons produces a large mean-field oscillation (the LFP-like
signal); the agent observes the mean field and injects current at a single site so as to
desynchronise the population (flatten the mean field) with little charge.

Task card
---------
- **Network** (:func:`desync_network`): ``n_cells`` = 20 single-compartment HH cells
  (radius 10 µm, length 10 µm: 628 µm², 6.3 pF; 1 µA/cm² = 6.3 pA) and one passive hub
  compartment (radius 1 µm, length 10 µm, leak only). Every cell is joined to the hub by a
  symmetric gap junction of ``coupling`` = 0.003 µS (≈ 0.48 mS/cm² of cell membrane). The hub
  settles within a solver step at the average of the cells' voltages, so each cell feels
  g · (X − v_i), a diffusive coupling to the mean field X — the global coupling of
  Kuramoto-type ensembles.
- **Drive** (per cell, at every cell, via ``Task.drive``): a constant bias drawn per episode
  uniformly in [``bias_low``, ``bias_high``] = [0.05, 0.09] nA (8–14 µA/cm²: tonic firing at
  different rates, measured 32–82 Hz uncoupled) plus Ornstein–Uhlenbeck current noise of std
  ``noise_std`` = 0.01 nA and correlation time ``noise_tau`` = 2 ms, independent per cell.
  Uncoupled, the cells fire asynchronously (mean-field std 5.9 mV, order parameter R 0.23);
  coupled, they lock into one population rhythm (60–75 Hz; std 21.9 mV, R 0.96).
- **Stimulation** (few sites): one site, the hub. Its current spreads through the gap
  junctions, about 1/``n_cells`` of it into each cell (a global stimulus, as the DBS-Gym
  stimulus acts on the whole ensemble). (Injected into two of the cells instead, the same
  feedback reaches the rest only through those cells' junctions: S 1.6 instead of 3.6.)
- **Observation** (float32, shape (``window``,) = (40,)): the mean field X (the average
  soma voltage of the ``n_cells`` cells; not the hub) at the end of each of the last 40
  control periods (20 ms), oldest first, clipped to [−150, 100] mV, plus ``obs_noise_std``
  measurement noise (mV, default 0). Units (``obs_units``): by default scaled to O(1),
  (X + 65 mV) / 20 mV (the synchronised oscillation spans about −0.5 to +3); with
  ``obs_units="physical"`` mV.
- **Action** (float32, shape (1,), in [−1, 1]): hub current × ``action_scale`` (default
  1 nA), held for the period (``pulse="constant"``) or charge-balanced (``pulse="biphasic"``:
  +I for the first half of the period, −I for the second).
- **Control period**: ``substeps`` × ``delta_t`` = 20 × 0.025 ms = 0.5 ms.
- **Reward** per period (O(1): about −1.2 per period uncontrolled, −0.2 under delayed
  feedback): −mean over the period's solver steps of (X − ⟨X⟩)² /
  ``sync_scale``² − ``charge_penalty`` × |I| × period (nA·ms = pC), with ⟨X⟩ a running mean
  of X (bias-corrected exponential average, time constant ``mean_tau`` = 50 ms),
  ``sync_scale`` = 20 mV (≈ the std of the uncontrolled mean field, so doing nothing scores
  about −1 per period) and ``charge_penalty`` = 0.2 per pC.
- **Termination**: numerical blow-up only (see :mod:`neuroenv.tasks.base`); **truncation**
  after ``max_steps_in_episode`` = 400 periods (200 ms).
- **Noise**: drive noise above; initial voltages jittered by ``init_v_jitter`` = 5 mV per
  compartment; ``obs_noise_std`` (default 0; 2 mV in DesynchronizeNoisy-v0).
- **Synchrony measures** (task state, not observed): ``dev2`` (mV², the period's mean
  squared deviation of X from ⟨X⟩), ``x_mean`` (⟨X⟩, mV) and ``order`` (Kuramoto order
  parameter R in [0, 1] of the cells' spike phases, see :meth:`Desynchronize.step`).
- **Literature metric**: the suppression ratio S = std(X uncontrolled) / std(X controlled)
  (:func:`suppression_ratio`); :func:`delayed_feedback` is the Rosenblum–Pikovsky baseline
  controller I = −K · (X(t − τ) − ⟨X⟩).
- **Baselines** (returns of 400-period episodes, mean ± std over 5 seeds; S and R over the
  last 150 ms): zero current −490 ± 4 (S 1, R 0.96); best constant current (−1 nA, which
  silences the slowest cells) −283 ± 79 (S 1.6 ± 0.3, R 0.87); delayed feedback with
  K = 0.1 nA/mV on the newest sample (τ = 0.5–1 ms) −88 ± 10 (S 3.6 ± 0.4, R 0.33, mean
  |I| 0.47 nA). Longer delays (1–4 ms) do worse (S 1.2–1.5).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import simulator as jx
from neuroenv.neuron_env import V_SCALE, NeuronEnv
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.ou import ou_currents
from neuroenv.tasks.spikes import upward_crossings
from neuroenv.validation import Range
from simulator.channels import HH, Leak
from simulator.synapses.synapse import Synapse

#: Radius and length (µm) of a network cell and of the hub.
CELL_GEOMETRY = (10.0, 10.0)
HUB_GEOMETRY = (1.0, 10.0)


class GapJunction(Synapse):
    """Electrical synapse, one direction: I = gS · (v_post − v_pre) out of the post
    compartment (nA; ``gS`` in µS, default 0.001). Connect it both ways for a symmetric
    junction."""

    elementwise = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self.synapse_params = {f"{self.name}_gS": 1e-3}
        self.synapse_states = {}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        return params[f"{self.name}_gS"] * (post_voltage - pre_voltage)

    def linear_current(self, states, pre_voltage, params):
        g = params[f"{self.name}_gS"]
        return g, -g * pre_voltage


def desync_network(n_cells: int = 20, coupling: float = 0.003):
    """The task's network: ``n_cells`` HH point cells gap-junction-coupled through a hub.

    Args:
        n_cells: number of HH cells (cells 0 … n_cells − 1; the hub is cell ``n_cells``).
        coupling: conductance of each cell–hub gap junction (µS).

    Returns:
        the :class:`simulator.Network`, with every HH cell's voltage recorded (in cell
        order) and the states at rest (−65 mV).
    """
    if not isinstance(n_cells, int) or isinstance(n_cells, bool) or n_cells < 2:
        raise ValueError(f"n_cells must be an int >= 2, got {n_cells!r}")
    if not (np.isfinite(coupling) and coupling >= 0):
        raise ValueError(f"coupling must be a finite conductance >= 0 (µS), got {coupling!r}")
    net = jx.Network([jx.Cell()] * (n_cells + 1))  # one build; the network copies it
    cells, hub = net.cell(list(range(n_cells))), net.cell(n_cells)
    cells.set("radius", CELL_GEOMETRY[0])
    cells.set("length", CELL_GEOMETRY[1])
    hub.set("radius", HUB_GEOMETRY[0])
    hub.set("length", HUB_GEOMETRY[1])
    cells.insert(HH())
    hub.insert(Leak())
    gap = GapJunction()
    jx.fully_connect(cells, hub, gap)
    jx.fully_connect(hub, cells, gap)
    net.set("GapJunction_gS", float(coupling))
    net.set("v", -65.0)
    net.init_states()
    for i in range(n_cells):
        net.cell(i).record(verbose=False)
    return net


class Desynchronize(Task):
    """Reward a flat mean field; drive every cell with its bias and noise (see the card).

    Args:
        n_cells: number of recorded cells, which are also the drive sites (static).
    """

    n_extra_obs = 0

    def __init__(self, n_cells: int = 20) -> None:
        self.n_cells = int(n_cells)

    param_order = (("bias_low", "bias_high"),)

    def param_ranges(self):
        return {"bias_low": Range(units="nA"), "bias_high": Range(units="nA"),
                "noise_std": Range(0.0, units="nA"),
                "noise_tau": Range(0.0, low_open=True, units="ms"),
                "mean_tau": Range(0.0, low_open=True, units="ms"),
                "sync_scale": Range(0.0, low_open=True, units="mV"),
                "charge_penalty": Range(0.0, units="per pC")}

    def default_params(self) -> dict:
        """``bias_low``/``bias_high`` (nA), ``noise_std`` (nA), ``noise_tau`` (ms),
        ``mean_tau`` (ms), ``sync_scale`` (mV), ``charge_penalty`` (1/pC)."""
        return {"bias_low": 0.05, "bias_high": 0.09, "noise_std": 0.01, "noise_tau": 2.0,
                "mean_tau": 50.0, "sync_scale": 20.0, "charge_penalty": 0.2}

    def reset(self, key, params):
        """Draw the cells' biases (n_cells,) nA and the noise's initial values.

        State: ``bias``, ``noise`` (n_cells,) nA; ``x_ema``, ``ema_weight`` (running-mean
        accumulators); ``x_mean`` (mV), ``dev2`` (mV²), ``order``; ``t`` (ms since reset);
        ``v_last`` (n_cells,) mV; ``t_spike`` (n_cells,) ms of the last spike; ``isi``
        (n_cells,) ms of the last inter-spike interval.
        """
        k_bias, k_noise = jax.random.split(key)
        n = self.n_cells
        f32 = jnp.float32
        bias = jax.random.uniform(k_bias, (n,), f32, params["bias_low"], params["bias_high"])
        noise = params["noise_std"] * jax.random.normal(k_noise, (n,), f32)
        zero = jnp.zeros((), f32)
        return {"bias": bias, "noise": noise.astype(f32), "x_ema": zero, "ema_weight": zero,
                "x_mean": jnp.full((), -65.0, f32), "dev2": zero, "order": zero, "t": zero,
                "v_last": jnp.full((n,), -65.0, f32), "t_spike": jnp.zeros((n,), f32),
                "isi": jnp.full((n,), 14.0, f32)}

    def drive(self, task_state, key, params, substeps, delta_t):
        """Bias plus exact Ornstein–Uhlenbeck noise at each solver step: (substeps, n_cells) nA."""
        noise, path = ou_currents(task_state["noise"], key, 0.0, params["noise_std"],
                                  params["noise_tau"], substeps, delta_t)
        currents = task_state["bias"][None, :] + path
        return {**task_state, "noise": noise.astype(jnp.float32)}, currents

    def step(self, task_state, trace, current, params, period_ms):
        """Synchrony penalty of the period, charge penalty, and the synchrony measures.

        ``order`` is the Kuramoto order parameter R = |mean_i exp(iφ_i)| at the end of the
        period, with the phase of cell i φ_i = 2π · min((t − t_spike_i) / isi_i, 1) from its
        last spike time and last inter-spike interval (a cell silent for longer than its
        last interval sits at φ = 2π).
        """
        substeps = trace.shape[0]
        dt = period_ms / substeps
        f32 = jnp.float32
        x = jnp.mean(trace, axis=1)  # (substeps,) mean field, mV
        decay = jnp.exp(-period_ms / params["mean_tau"])
        x_ema = decay * task_state["x_ema"] + (1.0 - decay) * jnp.mean(x)
        weight = decay * task_state["ema_weight"] + (1.0 - decay)
        x_mean = x_ema / weight
        dev2 = jnp.mean((x - x_mean) ** 2)
        # The last spike of each cell in this period (at most one at 0.5 ms periods).
        up = upward_crossings(task_state["v_last"], trace)  # (substeps, n_cells)
        spiked = jnp.any(up, axis=0)
        last = substeps - 1 - jnp.argmax(up[::-1], axis=0)
        t0 = task_state["t"]
        t_new = t0 + (last + 1).astype(f32) * dt
        isi = jnp.where(spiked, t_new - task_state["t_spike"], task_state["isi"])
        t_spike = jnp.where(spiked, t_new, task_state["t_spike"])
        t1 = t0 + period_ms
        phase = 2.0 * jnp.pi * jnp.clip((t1 - t_spike) / jnp.maximum(isi, dt), 0.0, 1.0)
        order = kuramoto_order(phase)
        charge = charge_pC(current, period_ms)
        reward = -(dev2 / params["sync_scale"] ** 2 + params["charge_penalty"] * charge)
        new_state = {**task_state, "x_ema": x_ema.astype(f32), "ema_weight": weight.astype(f32),
                     "x_mean": x_mean.astype(f32), "dev2": dev2.astype(f32),
                     "order": order.astype(f32), "t": jnp.asarray(t1, f32),
                     "v_last": trace[-1].astype(f32), "t_spike": t_spike.astype(f32),
                     "isi": isi.astype(f32)}
        return new_state, reward.astype(f32), jnp.asarray(False)

    def render_info(self, traces, task_state, params):
        """The mean field, its running mean ⟨X⟩ (red line) and a bar of the order parameter
        R (blue, on [0, 1])."""
        info = {"trace": np.mean(traces, axis=1) if traces.size else traces[:, :1].ravel(),
                "v_range": (-90.0, 50.0), "rate": float(task_state.get("order", 0.0)),
                "rate_max": 1.0, "rate_label": "R"}
        if "x_mean" in task_state:
            info["target"] = float(task_state["x_mean"])
        return info


def suppression_ratio(mean_field_off, mean_field_on, axis: int = -1):
    """The DBS literature's S = std(X uncontrolled) / std(X controlled).

    Args:
        mean_field_off: mean-field samples without control (mV), any shape.
        mean_field_on: mean-field samples under control (mV), same layout.
        axis: the time axis (std is taken along it; other axes are kept).

    Returns:
        S (> 1: the controller suppresses the oscillation), a NumPy float or array.
    """
    off = np.std(np.asarray(mean_field_off, np.float64), axis=axis)
    on = np.std(np.asarray(mean_field_on, np.float64), axis=axis)
    return off / on


def kuramoto_order(phases, axis: int = -1):
    """R = |mean exp(iφ)| of phases (rad) along ``axis``: 1 in phase, ~1/√N at random."""
    phases = jnp.asarray(phases)
    return jnp.hypot(jnp.mean(jnp.cos(phases), axis=axis), jnp.mean(jnp.sin(phases), axis=axis))


def delayed_feedback(obs, gain, delay: int = 0, action_scale=1.0, obs_units: str = "scaled"):
    """Rosenblum–Pikovsky delayed linear feedback from a Desynchronize observation.

    I = −gain · (X(t − τ) − ⟨X⟩), with X(t − τ) the observed mean field ``delay`` periods
    before the newest sample and ⟨X⟩ the mean of the observation window.

    Args:
        obs: (window,) observation; ``delay`` must be < window (static).
        gain: K (nA/mV, traceable).
        delay: τ in control periods (int, may be traced).
        action_scale: the env's nA per unit action.
        obs_units: the env's ``obs_units``: ``"scaled"`` (default; (X + 65 mV) / 20 mV) or
            ``"physical"`` (mV).

    Returns:
        (1,) float32 action in [−1, 1].
    """
    if obs_units not in ("scaled", "physical"):
        raise ValueError(f"obs_units must be 'scaled' or 'physical', got {obs_units!r}")
    obs = jnp.asarray(obs, jnp.float32)
    mv_per_unit = V_SCALE if obs_units == "scaled" else 1.0
    current = -gain * mv_per_unit * (obs[-1 - delay] - jnp.mean(obs))
    return jnp.clip(current / action_scale, -1.0, 1.0).reshape(1).astype(jnp.float32)


def rollout_mean_field(env, params, key, n_steps: int, policy):
    """Run one episode segment without auto-reset and return what S and R need.

    Args:
        env: a Desynchronize env (:func:`make_env`).
        params: its ``EnvParams``.
        key: PRNG key.
        n_steps: control periods (static).
        policy: ``obs -> (1,) action`` (pure JAX).

    Returns:
        ``(mean_field, rewards, order, current)``: (n_steps · substeps,) mean field at every
        solver step (mV), (n_steps,) rewards, (n_steps,) order parameters, (n_steps, 1)
        hub currents (nA). Jit and vmap it freely.
    """
    k_reset, k_steps = jax.random.split(key)
    obs, state = env.reset_env(k_reset, params)

    def body(carry, k):
        obs, state = carry
        obs, state, reward, _, info = env.step_env(k, state, policy(obs), params)
        out = (jnp.mean(state.last_trace, axis=1), reward, state.task["order"],
               info["current_nA"])
        return (obs, state), out

    _, (x, rewards, order, current) = jax.lax.scan(body, (obs, state),
                                                   jax.random.split(k_steps, n_steps))
    return x.reshape(-1), rewards, order, current


def make_env(n_cells: int = 20, coupling: float = 0.003, **kwargs):
    """The registered environment.

    Args:
        n_cells: number of HH cells (static; observation and reward use their mean field).
        coupling: cell–hub gap-junction conductance (µS).
        **kwargs: :class:`~neuroenv.NeuronEnv` arguments overriding the task's defaults
            (``action_scale`` 1 nA, ``substeps`` 20, ``window`` 40, ``observe`` "mean",
            ``max_steps_in_episode`` 400, ``init_v_jitter`` 5 mV).
    """
    net = desync_network(n_cells, coupling)
    cells = [net.cell(i) for i in range(n_cells)]
    defaults = {"action_scale": 1.0, "substeps": 20, "window": 40, "observe": "mean",
                "max_steps_in_episode": 400, "init_v_jitter": 5.0}
    return NeuronEnv(net, [net.cell(n_cells)], Desynchronize(n_cells), drive_sites=cells,
                     **{**defaults, **kwargs})
