"""BetaSuppression-v0: suppress the beta-band LFP of a population through a distant electrode.

A closed-loop DBS analogue with the physics of the device: the agent never touches a cell; it
drives an extracellular contact and senses the local field potential.

Task card
---------
- **Population** (:func:`beta_population`): ``n_cells`` = 12 ball-and-stick cells (soma
  20 µm long, radius 10 µm; stick 4 × 50 µm, radius 1 µm; HH everywhere), aligned
  along x, somata placed uniformly in a 100 µm cube around the origin (seeded layout).
- **Drive** (unobserved, at every soma, via ``Task.drive``): a common beta oscillation
  ``beta_amp`` × sin(2π f t + φ) (``beta_amp`` = 0.2 nA; f uniform in [``f_low``,
  ``f_high``] = [15, 25] Hz and φ uniform, per episode), a bias ``bias`` = 0.05 nA and
  independent Ornstein–Uhlenbeck noise (std ``noise_std`` = 0.05 nA, τ ``noise_tau`` = 5 ms)
  per cell: the cells fire locked to the beta cycle and the LFP carries beta power.
- **Electrodes** (σ = 0.3 S/m, point contacts): ``stim`` at (``stim_distance`` = 200 µm,
  0, 0) (along the sticks' axis) and ``rec`` at (0, −60 µm, 0), recorded (µV).
- **Action** (float32, (1,), [−1, 1]): amplitude of charge-balanced biphasic pulses at the
  stim contact, × ``max_current`` = 5,000 µA (cathodic first: negative action), 0.1 ms per
  phase at 130 Hz (129.87 Hz on the 0.025 ms grid), held for the control period.
- **Control period**: 400 × 0.025 ms = 10 ms.
- **Observation** (float32, (1,)): the beta band power (13–30 Hz, µV², 2nd-order
  Butterworth on the LFP block-averaged to 1 kHz, 4 Hz power low-pass) of the rec contact,
  delayed by ``delay`` = 5 ms (a device's sensing latency), at the end of the period;
  scaled by ``power_ref`` (``obs_units="physical"``: µV²). No membrane voltage is observed
  (``observe="none"``).
- **Reward** per period: −(undelayed beta power / ``power_ref``) − ``charge_penalty`` ×
  charge per pulse phase (nC = |I| µA × 0.1 ms), ``power_ref`` = 30 µV² (≈ the uncontrolled
  power: doing nothing scores about −1 per period), ``charge_penalty`` = 1e-4 per nC (0.05
  per period at 5 mA).
- **Physics (measured, 4 seeds, power over the last 0.5 s)**: uncontrolled 29.8 µV²; 130 Hz
  at 2.5 mA 29.75 µV² (no effect); at 5 mA 24.7 µV² (−17 %). At 300 µm even 1 mA changed
  nothing (29.75 µV²): a distant contact acts only through the sticks' ends.
- **Termination, noise**: defaults of :mod:`neuroenv.tasks.base`; **truncation** after 100
  periods (1 s).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.electrodes import ElectrodeActuator, charge_per_pulse_nC
from neuroenv.extracellular_obs import BandPower
from neuroenv.neuron_env import NeuronEnv
from neuroenv.tasks.base import Task
from neuroenv.tasks.ou import ou_currents
from neuroenv.validation import Range, positive_int
from simulator import Branch, Cell, Compartment, Network
from simulator.channels import HH
from simulator.extracellular import point_contacts

#: Pulse width of one phase (ms).
PULSE_WIDTH = 0.1


def _ball_and_stick():
    soma = Branch(Compartment(), ncomp=1)
    dend = Branch(Compartment(), ncomp=4)
    cell = Cell([soma, dend], parents=[-1, 0])
    cell.branch(0).set("length", 20.0)
    cell.branch(0).set("radius", 10.0)
    cell.branch(1).set("length", 50.0)
    cell.branch(1).set("radius", 1.0)
    return cell


def beta_population(n_cells: int = 12, stim_distance: float = 300.0, seed: int = 0):
    """The task's network, electrodes ``stim`` and ``rec`` (recorded), somata recorded.

    Returns:
        ``(net, somas)``: the :class:`simulator.Network` and each cell's soma view.
    """
    positive_int("n_cells", n_cells)
    if not (np.isfinite(stim_distance) and stim_distance > 0):
        raise ValueError(f"stim_distance must be a finite distance > 0 (µm), got"
                         f" {stim_distance!r}")
    net = Network([_ball_and_stick() for _ in range(n_cells)])
    net.compute_xyz()
    offsets = np.random.default_rng(seed).uniform(-50.0, 50.0, (n_cells, 3))
    for i, offset in enumerate(offsets):
        net.cell(i).move(*offset)
    net.insert(HH())
    net.set("v", -65.0)
    net.init_states()
    net.add_electrode(point_contacts([[stim_distance, 0.0, 0.0]]), name="stim")
    net.add_electrode(point_contacts([[0.0, -60.0, 0.0]]), name="rec")
    net.record_extracellular("rec")
    somas = [net.cell(i).branch(0).comp(0) for i in range(n_cells)]
    for soma in somas:
        soma.record(verbose=False)
    return net, somas


class BetaSuppression(Task):
    """Minimise the LFP's beta power with little charge (see the card).

    Task state: ``t`` (ms since reset), ``freq`` (Hz), ``phase`` (rad), ``ou`` ((n_cells,)
    nA), ``sensed``/``true`` (sensor states, delayed and undelayed), ``power_obs`` and
    ``power`` (µV²).

    Args:
        n_cells: drive sites (one per cell, static).
        delta_t: solver step (ms) the sensors sample at.
    """

    n_extra_obs = 1
    param_order = (("f_low", "f_high"),)

    def __init__(self, n_cells: int = 12, delta_t: float = 0.025) -> None:
        self.n_cells = positive_int("n_cells", n_cells)
        self.sensed = BandPower(delta_t, delay_ms=5.0)
        self.true = BandPower(delta_t)

    def param_ranges(self):
        nA, hz = Range(units="nA"), Range(0.0, low_open=True, units="Hz")
        return {"bias": nA, "beta_amp": Range(0.0, units="nA"), "f_low": hz, "f_high": hz,
                "noise_std": Range(0.0, units="nA"),
                "noise_tau": Range(0.0, low_open=True, units="ms"),
                "power_ref": Range(0.0, low_open=True, units="µV²"),
                "charge_penalty": Range(0.0, units="per nC")}

    def default_params(self) -> dict:
        return {"bias": 0.05, "beta_amp": 0.2, "f_low": 15.0, "f_high": 25.0,
                "noise_std": 0.05, "noise_tau": 5.0, "power_ref": 30.0,
                "charge_penalty": 1e-4}

    def reset(self, key, params):
        k_f, k_phi, k_ou = jax.random.split(key, 3)
        zero = jnp.zeros((), jnp.float32)
        return {"t": zero,
                "freq": jax.random.uniform(k_f, (), jnp.float32, params["f_low"],
                                           params["f_high"]),
                "phase": jax.random.uniform(k_phi, (), jnp.float32, 0.0, 2 * np.pi),
                "ou": params["noise_std"] * jax.random.normal(k_ou, (self.n_cells,)),
                "sensed": self.sensed.init(1), "true": self.true.init(1),
                "power_obs": zero, "power": zero}

    def drive(self, task_state, key, params, substeps, delta_t):
        ou, noise = ou_currents(task_state["ou"], key, 0.0, params["noise_std"],
                                params["noise_tau"], substeps, delta_t)
        t = task_state["t"] + delta_t * jnp.arange(substeps, dtype=jnp.float32)
        beta = params["beta_amp"] * jnp.sin(
            2 * np.pi * task_state["freq"] * t / 1000.0 + task_state["phase"])
        currents = params["bias"] + beta[:, None] + noise
        new = {**task_state, "ou": ou.astype(jnp.float32), "t": t[-1] + delta_t}
        return new, currents

    def step(self, task_state, trace, current, params, period_ms):
        lfp = trace[:, -1:]
        sensed, power_obs = self.sensed.step(task_state["sensed"], lfp)
        true, power = self.true.step(task_state["true"], lfp)
        charge = charge_per_pulse_nC(current[-1], PULSE_WIDTH)
        reward = -(power[0] / params["power_ref"]) - params["charge_penalty"] * charge
        new = {**task_state, "sensed": sensed, "true": true, "power_obs": power_obs[0],
               "power": power[0]}
        return new, reward.astype(jnp.float32), jnp.asarray(False)

    def extra_obs(self, task_state, params):
        return task_state["power_obs"][None]

    def extra_obs_bounds(self):
        return [0.0], [1e6]

    def extra_obs_scaling(self):
        return [0.0], [1.0]

    def render_info(self, traces, task_state, params):
        return {"trace": traces[:, 0]}


def make_env(**kwargs):
    """The registered environment; keyword arguments of :class:`~neuroenv.NeuronEnv`
    override the defaults (``substeps`` 400, ``max_steps_in_episode`` 100,
    ``init_v_jitter`` 1 mV, ``observe="none"``)."""
    defaults = {"substeps": 400, "max_steps_in_episode": 100, "init_v_jitter": 1.0,
                "observe": "none"}
    distance = kwargs.pop("stim_distance", 200.0)  # µm
    net, somas = beta_population(stim_distance=distance)
    max_current = kwargs.pop("max_current", 5000.0)  # µA
    actuator = ElectrodeActuator("stim", shape="biphasic", max_current=max_current,
                                 pulse_width=PULSE_WIDTH, rate=130.0)
    return NeuronEnv(net, [], BetaSuppression(len(somas)), drive_sites=somas,
                     electrodes=[actuator], **{**defaults, **kwargs})
