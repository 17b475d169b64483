"""DendriteControl-v0: depolarise a distal dendrite of a CA1 pyramidal cell, not its soma.

A spatial-control task on a reconstructed morphology: four electrodes (soma, proximal apical
trunk, mid apical trunk, a basal dendrite) must drive the tip of the apical tuft, 913 µm from
the soma along the cable, to a target voltage while the soma stays at rest and does not
spike.

Task card
---------
- **Neuron**: rat CA1 pyramidal cell NeuroMorpho n120 (Turner 1998; shipped as
  ``neuroenv/data/morph_ca1_n120.swc``), read with ``simulator.morphology.read_swc`` at
  ``ncomp`` = 1 compartment per branch: 156 compartments (2 soma, 53 apical, 101 basal).
  Soma (the two SWC soma sections): Hodgkin–Huxley with gNa doubled to 0.24 S/cm² (the
  reconstruction has no axon; with HH's 0.12 S/cm² the soma, loaded by ~30,000 µm² of
  dendrite, fires one onset spike and then accommodates) and the HH leak reversal set to
  −58.5 mV so that rest is exactly −65 mV. Dendrites: passive, ``Leak`` with
  g = 5·10⁻⁵ S/cm² (Rm = 20 kΩ·cm², τ = 20 ms), E = −65 mV. Everywhere: Cm = 1 µF/cm²,
  Ra = 150 Ω·cm. The cell starts at rest (−65 mV everywhere, gates at steady state).
- **Stimulation sites** (path distance of the compartment centre from the soma centre):

  ====  ==================  ======  ========  =====================
  site  name                branch  distance  distance to target
  ====  ==================  ======  ========  =====================
  0     soma                0       0 µm      913 µm
  1     proximal apical     1       97 µm     815 µm
  2     mid apical trunk    11      507 µm    406 µm (nearest)
  3     basal dendrite      98      315 µm    1,228 µm
  ====  ==================  ======  ========  =====================

- **Target compartment**: the most distal compartment of the cell (apical tuft branch 26,
  radius 0.24 µm), 913 µm from the soma.
- **Recordings** (``trace`` columns, in this order): target, soma, proximal apical, mid apical
  trunk, basal dendrite (membrane voltage, mV).
- **Observation** (float32, shape (5 · ``window`` + 2,), default ``window`` = 2 → (12,)):
  the five recorded voltages (clipped to [−150, 100] mV) at the end of each of the last
  ``window`` control periods (oldest first), the episode's target, then the integral of the
  target compartment's error ∫(target − v_target) dt since the episode's start (mV·ms;
  per-sample error capped at ±``error_cap`` = 20 mV, integral clipped to ±100 mV·ms).
  Units (``obs_units``): by default scaled to O(1), voltages and target as
  (v + 65 mV) / 20 mV (targets in [0.25, 1]), the integral as integral / 50 mV·ms (in
  [−2, 2]); with ``obs_units="physical"`` mV and mV·ms (the first 5 · window + 1 entries
  are then the observation of the earlier versions).
- **Action** (float32, shape (4,), in [−1, 1]): the current at each site × ``action_scale``
  (default 0.5 nA), held for one control period.
- **Control period**: ``substeps`` × ``delta_t`` = 40 × 0.025 ms = 1 ms.
- **Reward** per period (weights in ``params.task``)::

      − mean min(|v_target − target|, error_cap) / 10 mV     (error_cap 20 mV)
      − soma_weight · mean min(|v_soma − v_rest|, error_cap) / 10 mV
                                                         (soma_weight 0.5, v_rest −65 mV)
      − spike_penalty · (somatic spikes in the period)    (spike_penalty 1; upward 0-mV crossings)
      − charge_penalty · Σ_sites |I| · period             (charge_penalty 0.01 per pC)

  The caps keep the voltage terms in [−3, 0] (a somatic spike no longer costs ~5 per
  period through the voltage terms; it still costs ``spike_penalty``); below 20 mV of
  error, which covers the baselines below, the terms are the uncapped ones.
- **Target**: drawn per episode uniformly in [``target_low``, ``target_high``] = [−60, −45] mV
  (5–20 mV above rest, so every episode needs current).
- **Termination, noise**: the defaults of :mod:`neuroenv.tasks.base` (the initial jitter
  independent per compartment); **truncation** after ``max_steps_in_episode`` = 200
  periods (200 ms).

The trade-off
-------------
Current spreads from a distal site towards the soma with strong attenuation, but from the
soma outwards into the sealed dendritic tips with little, so which site is used matters.
Steady-state depolarisation per 0.1 nA (measured on this model at 0.02 nA), target / soma:
soma 2.0 / 5.8 mV, proximal apical 2.4 / 5.6 mV, mid apical trunk 10.8 / 3.7 mV, basal
0.9 / 2.6 mV. The soma fires repetitively from 0.2 nA at the soma or the proximal apical
site (one onset spike at 0.15 nA), so those sites cannot move the target by more than a few
mV without spikes. Through the mid apical trunk, −45 mV at the target takes about 0.19 nA
and leaves the soma ~6 mV depolarised, just below firing (0.25 nA gives an onset spike,
0.3 nA repetitive firing): the soma penalty costs about 0.3 per period. Better policies add
a hyperpolarising current at the soma (or the basal site) to cancel that somatic
depolarisation, at the price of more charge, and anticipate the 10–20 ms lag between the
trunk current and the tuft voltage.

Baselines
---------
Return per 200-period episode, mean ± std over 5 seeds of 32 episodes each (measured before
the 20 mV error cap, which changes only periods with a somatic spike)
(``pytest tests/neuroenv/tasks/test_dendrite_control.py -m slow -s -k baselines``):

===============================================================  ==============  ===========
policy                                                           return          spikes/ep.
===============================================================  ==============  ===========
zero current                                                     −257.1 ± 17.0   0
best constant (11 × 11 grid over soma × mid-trunk action, steps  −107.8 ± 10.0   0
of 0.05 nA): soma −0.05 nA, mid trunk +0.1 nA
P at the nearest site (:func:`p_controller`, gain 0.2/mV,        −59.0 ± 3.6     0.84
feedforward 0.02/mV)
the same plus a soma loop (``soma_gain`` 0.1/mV)                 −25.2 ± 1.4     0
===============================================================  ==============  ===========

The P controller holds the target within about 0.2 mV but pays ~0.15 per period for the
somatic depolarisation and fires an onset spike in most episodes (its first action is
clipped to the full 0.5 nA); cancelling the soma with a second site removes most of that
cost.

Cost: 156 compartments; one control period (40 solver steps) takes about 0.8 ms for one
env and 235 ms for 1,024 vmapped envs on 2 CPU cores (compile ~3–7 s).
"""

from __future__ import annotations

from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.neuron_env import V_OFFSET, V_SCALE, NeuronEnv
from neuroenv.tasks.base import Task, charge_pC
from neuroenv.tasks.spikes import count_spikes, spike_samples
from neuroenv.tasks.tracking import ERROR_CAP, TargetAndIntegralObservation, capped_abs_error
from neuroenv.validation import Range, positive_int
from simulator.channels import HH, Leak
from simulator.channels.hh import h_rates, m_rates, n_rates
from simulator.morphology.swc import read_swc

#: Reconstruction shipped in ``neuroenv/data`` (see its README for provenance).
SWC_FILE = "morph_ca1_n120.swc"
#: Compartments per branch of the default cell.
NCOMP = 1
#: Resting potential of the cell (mV): the initial voltage everywhere.
V_REST = -65.0
#: Passive dendrites: leak conductance (S/cm²), reversal (mV); axial resistivity (Ω·cm).
DENDRITE_G_LEAK = 5e-5
DENDRITE_E_LEAK = V_REST
AXIAL_RESISTIVITY = 150.0
#: Somatic Na conductance (S/cm²): twice HH's 0.12, standing in for the missing axon.
SOMA_G_NA = 0.24
#: Branch of the target compartment (its most distal compartment is the target).
TARGET_BRANCH = 26
#: Stimulation sites: (name, branch); the site is the compartment at the branch's middle.
SITES = (("soma", 0), ("proximal_apical", 1), ("mid_apical_trunk", 11), ("basal", 98))
#: Path distances (µm) from the soma centre at ``ncomp`` = 1, as stated in the task card.
SITE_DISTANCES_UM = (0.0, 97.2, 506.7, 315.1)
TARGET_DISTANCE_UM = 912.6
#: Index (into SITES) of the site nearest to the target along the cable.
NEAREST_SITE = 2
#: Voltage range (mV) of ``render()`` frames.
RENDER_V_RANGE = (-80.0, 0.0)


def morphology_path():
    """A context manager yielding a filesystem path of the shipped SWC file."""
    return resources.as_file(resources.files("neuroenv") / "data" / SWC_FILE)


def hh_leak_reversal(v_rest: float = V_REST, g_na: float = SOMA_G_NA) -> float:
    """HH leak reversal (mV) that makes ``v_rest`` (mV) the soma's resting potential.

    Solves ``gNa m∞³ h∞ (v − eNa) + gK n∞⁴ (v − eK) + gLeak (v − eLeak) = 0`` at ``v_rest``
    with HH's other defaults, so that the whole cell (dendritic leak reversal ``v_rest``)
    starts in its exact resting state.
    """
    defaults = HH().channel_params
    v = np.float64(v_rest)
    m, h, n = (a / (a + b) for a, b in (np.asarray(f(v), np.float64)
                                        for f in (m_rates, h_rates, n_rates)))
    i_na = g_na * m**3 * h * (v - defaults["HH_eNa"])
    i_k = defaults["HH_gK"] * n**4 * (v - defaults["HH_eK"])
    return float(v + (i_na + i_k) / defaults["HH_gLeak"])


def ca1_cell(ncomp: int = NCOMP):
    """The CA1 cell of the task card: HH soma, passive dendrites, gates at rest.

    Args:
        ncomp: compartments per branch (positive int; 1 gives 156 compartments).

    Returns:
        ``(cell, sites, target)``: the cell with the target, the soma and the dendritic sites
        recorded (in that order, see the task card), the site views (one compartment each,
        order of :data:`SITES`) and the target view.
    """
    positive_int("ncomp", ncomp)
    with morphology_path() as path:
        cell = read_swc(path, ncomp=ncomp, backend="neuron")
    cell.set("axial_resistivity", AXIAL_RESISTIVITY)
    cell.set("capacitance", 1.0)
    cell.soma.insert(HH())
    cell.soma.set("HH_gNa", SOMA_G_NA)
    cell.soma.set("HH_eLeak", hh_leak_reversal(V_REST, SOMA_G_NA))
    for dendrites in (cell.apical, cell.basal):
        dendrites.insert(Leak())
        dendrites.set("Leak_gLeak", DENDRITE_G_LEAK)
        dendrites.set("Leak_eLeak", DENDRITE_E_LEAK)
    cell.set("v", V_REST)
    cell.init_states()
    sites = [cell.branch(b).loc(0.5) for _, b in SITES]
    target = cell.branch(TARGET_BRANCH).loc(1.0)
    for view in (target, sites[0], *sites[1:]):
        view.record("v", verbose=False)
    return cell, sites, target


class DendriteControl(TargetAndIntegralObservation, Task):
    """Drive recording 0 (distal target) to a target while recording 1 (soma) stays at rest.

    Task state: ``target`` (mV, float32), ``v_soma_last`` (mV, float32: the soma voltage at
    the end of the last period, for spike detection), ``spikes`` (int32: somatic spikes so
    far in the episode), ``err_int`` (mV·ms, float32: the clipped integral of the capped
    error target − v_target).
    """

    def param_ranges(self):
        return {**super().param_ranges(), "v_rest": self.target_range,
                "soma_weight": Range(0.0, units="weight"),
                "spike_penalty": Range(0.0, units="per spike")}

    def default_params(self) -> dict:
        return {"target_low": -60.0, "target_high": -45.0, "v_rest": V_REST,
                "soma_weight": 0.5, "spike_penalty": 1.0, "charge_penalty": 0.01,
                "error_cap": ERROR_CAP}

    def reset(self, key, params):
        return {**super().reset(key, params), "spikes": jnp.zeros((), jnp.int32),
                "v_soma_last": jnp.asarray(params["v_rest"], jnp.float32)}

    def step(self, task_state, trace, current, params, period_ms):
        v_target, v_soma = trace[:, 0], trace[:, 1]
        error, err_int = self.tracking_terms(task_state, v_target, params, period_ms)
        soma = params["soma_weight"] * capped_abs_error(v_soma, params["v_rest"],
                                                        params["error_cap"]) / 10.0
        spikes = count_spikes(task_state["v_soma_last"], v_soma)
        reward = -(error + soma + params["spike_penalty"] * spikes.astype(jnp.float32)
                   + params["charge_penalty"] * charge_pC(current, period_ms))
        new_state = {"target": task_state["target"],
                     "v_soma_last": v_soma[-1].astype(jnp.float32),
                     "spikes": (task_state["spikes"] + spikes).astype(jnp.int32),
                     "err_int": err_int}
        return new_state, reward.astype(jnp.float32), jnp.asarray(False)

    def render_info(self, traces, task_state, params):
        """The target compartment's voltage (plot range −80 to 0 mV) with the target line;
        red ticks mark somatic spikes (upward 0-mV crossings of recording 1); a side panel
        shows the morphology with the four sites and the target compartment (recording 0)."""
        soma = np.asarray(traces[:, 1], np.float64)
        return {"trace": traces[:, 0], "target": float(task_state["target"]),
                "markers": spike_samples(soma), "v_range": RENDER_V_RANGE,
                "morphology": {"target_recording": 0}}


def p_controller(obs: jax.Array, gain: float = 0.2, feedforward: float = 0.02,
                 soma_gain: float = 0.0, window: int = 2,
                 obs_units: str = "scaled") -> jax.Array:
    """A hand-written baseline: proportional control of the target with the nearest site.

    ``action[nearest] = feedforward · (target − V_REST) + gain · (target − v_target)`` and,
    with ``soma_gain`` > 0, ``action[soma] = −soma_gain · (v_soma − V_REST)`` (a second loop
    that cancels the somatic depolarisation); gains are per mV, actions clipped to [−1, 1],
    zero at the other sites. ``feedforward`` = 0.02 is about the steady-state action per mV
    at the target (1 / (0.5 nA × 108 mV/nA)).

    Args:
        obs: an observation, (5 · window + 2,) or batched (..., 5 · window + 2): the newest
            target and soma voltages are ``obs[..., 5 · (window − 1)]`` and the entry after
            it, the target is ``obs[..., 5 · window]``.
        window: the env's ``window``.
        obs_units: the env's ``obs_units``, ``"scaled"`` (default) or ``"physical"``.

    Returns:
        (..., 4) float32 actions.
    """
    if obs_units not in ("scaled", "physical"):
        raise ValueError(f"obs_units must be 'scaled' or 'physical', got {obs_units!r}")
    obs = jnp.asarray(obs, jnp.float32)
    if obs_units == "scaled":  # voltages and target back to mV
        obs = obs * V_SCALE + V_OFFSET
    newest = 5 * (window - 1)
    target, v_target, v_soma = (obs[..., 5 * window], obs[..., newest],
                                obs[..., newest + 1])
    u = feedforward * (target - V_REST) + gain * (target - v_target)
    action = jnp.zeros(obs.shape[:-1] + (len(SITES),), jnp.float32)
    action = action.at[..., NEAREST_SITE].set(jnp.clip(u, -1.0, 1.0))
    return action.at[..., 0].set(jnp.clip(-soma_gain * (v_soma - V_REST), -1.0, 1.0))


def make_env(ncomp: int = NCOMP, **kwargs):
    """The registered environment.

    Args:
        ncomp: compartments per branch of the cell (default 1; the distances in the task
            card hold for 1).
        **kwargs: keyword arguments of :class:`~neuroenv.NeuronEnv`, overriding the task's
            defaults (``action_scale`` 0.5 nA, ``window`` 2, ``max_steps_in_episode`` 200,
            ``init_v_jitter`` 1 mV).
    """
    cell, sites, _ = ca1_cell(ncomp)
    defaults = {"action_scale": 0.5, "window": 2, "max_steps_in_episode": 200,
                "init_v_jitter": 1.0}
    return NeuronEnv(cell, sites, DendriteControl(), **{**defaults, **kwargs})
