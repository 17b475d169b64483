"""Extracellular DBS of the RT (2004) network through STN axons (``stn_axon=True``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from simulator import integrate
from simulator.channels import HH
from simulator.models.basal_ganglia import basal_ganglia_network, spike_times
from simulator.models.basal_ganglia.axon_hh import AxonHH
from simulator.models.basal_ganglia.extracellular_dbs import (
    add_dbs_contact,
    biphasic_pulses,
    electrode_position,
)
from simulator.models.basal_ganglia.network import SYNAPSES
from simulator.models.basal_ganglia.stn_axon import AREA_SCALE, AXON_NCOMP

DT = 0.01
#: Contact currents (µA) below and above the antidromic threshold at 100 µm (measured in
#: examples/basal_ganglia_extracellular.py: one soma follows from 50 µA, all from
#: 200 µA; 25 µA leaves every soma untouched).
AMP_BELOW, AMP_ABOVE = 25.0, 400.0


def test_default_network_unchanged_by_the_option():
    """The default is the single-compartment network: one node per cell, the initial
    voltages of the original per-node draw, no axon, HH nowhere."""
    net, cells = basal_ganglia_network(8, "parkinsonian", seed=3)
    explicit, _ = basal_ganglia_network(8, "parkinsonian", seed=3, stn_axon=False)
    n_cells = sum(len(c) for c in cells.values())
    assert len(net.nodes) == n_cells
    v0 = np.random.default_rng(3).uniform(-80.0, -40.0, n_cells)
    np.testing.assert_array_equal(net.nodes["v"].to_numpy(), v0)
    assert not any(c.startswith("HH") for c in net.nodes.columns)
    pd.testing.assert_frame_equal(net.nodes, explicit.nodes, check_exact=True)
    pd.testing.assert_frame_equal(net.edges, explicit.edges, check_exact=True)
    gs = net.edges.loc[net.edges["type"] == "GPe_STN", "GPe_STN_gS"].to_numpy()
    np.testing.assert_array_equal(gs, SYNAPSES["GPe_STN"][2] * 1e-3 * 1e-6 * 1e6)


def test_axon_variant_builds_with_positions_and_scaled_synapses():
    net, cells = basal_ganglia_network(8, "parkinsonian", seed=0, stn_axon=True)
    n_cells = sum(len(c) for c in cells.values())
    assert len(net.nodes) == n_cells + len(cells["STN"]) * AXON_NCOMP
    assert np.all(np.isfinite(net.nodes[["x", "y", "z"]].to_numpy()))
    for i in cells["STN"]:
        axon = net.cell(int(i)).branch(1).nodes
        assert np.all(axon["AxonHH_gNa"] == 0.12) and np.all(np.diff(axon["x"]) > 0)
    gs = net.edges.loc[net.edges["type"] == "GPe_STN", "GPe_STN_gS"].to_numpy()
    # same density on the larger soma: 0.9 mS/cm² × 3,000 µm² (rounding only: 1e-12)
    np.testing.assert_allclose(gs, 0.9e-3 * 1e-6 * 1e6 * AREA_SCALE, rtol=1e-12)
    assert AREA_SCALE == pytest.approx(30.0, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axon_hh_is_hh_with_scaled_rates_and_shifted_voltage(dtype, request):
    """phi 1, shift 0: HH itself; shift δ: HH at v − δ; phi: the HH step of dt · phi."""
    if dtype == np.float64:
        request.getfixturevalue("x64")
    hh, ax = HH(), AxonHH()
    v = jnp.asarray(np.linspace(-90.0, 40.0, 27), dtype)
    states = {f"{c.name}_{g}": jnp.full_like(v, 0.3) for c in (hh, ax) for g in "mhn"}
    p_hh = {k: jnp.asarray(x, dtype) for k, x in hh.channel_params.items()}
    p_ax = {k: jnp.asarray(x, dtype) for k, x in ax.channel_params.items()}
    for phi, shift in ((1.0, 0.0), (4.5, 5.0)):
        p_ax["AxonHH_phi"] = jnp.asarray(phi, dtype)
        p_ax["AxonHH_v_shift"] = jnp.asarray(shift, dtype)
        got = ax.update_states(states, 0.01, v + shift, p_ax)
        want = hh.update_states(states, 0.01 * phi, v, p_hh)
        eps = np.finfo(dtype).eps  # same arithmetic up to rounding: measured ≤ 1 eps
        for g in "mhn":
            np.testing.assert_allclose(got[f"AxonHH_{g}"], want[f"HH_{g}"], rtol=4 * eps)
        np.testing.assert_allclose(ax.compute_current(states, v + shift, p_ax),
                                   hh.compute_current(states, v, p_hh), rtol=4 * eps)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="distance_um"):
        electrode_position(-5.0)
    with pytest.raises(ValueError, match="amplitude_uA"):
        biphasic_pulses(10.0, DT, np.nan)
    with pytest.raises(ValueError, match="frequency_hz"):
        biphasic_pulses(10.0, DT, 1.0, frequency_hz=0.0)


def test_biphasic_pulses_are_cathodic_first_and_charge_balanced():
    wave = biphasic_pulses(20.0, DT, 500.0, onset_ms=1.0)
    assert np.all(wave[100:110] == -500.0) and np.all(wave[110:120] == 500.0)
    assert wave[99] == 0.0 and wave[120] == 0.0
    assert wave.sum() == 0.0  # equal phases: zero net charge


def _stn_spikes(amplitudes, t_max: float = 100.0, onset: float = 20.0) -> np.ndarray:
    """(n_amplitudes, n_stn) STN soma spike counts in [onset + 20, t_max) ms under 130 Hz
    biphasic pulses of each amplitude (µA) from a contact 100 µm from the axon bundle."""
    net, cells = basal_ganglia_network(8, "parkinsonian", seed=0, stn_axon=True)
    add_dbs_contact(net, 100.0)
    for i in cells["STN"]:
        net.cell(int(i)).branch(0).comp(0).record("v", verbose=False)
    wave = jnp.asarray(biphasic_pulses(t_max, DT, 1.0, onset_ms=onset))

    def run(amplitude):
        data = net.data_stimulate_extracellular("dbs", amplitude * wave)
        return integrate(net, data_stimuli=data, delta_t=DT, t_max=t_max, solver="fwd_euler")

    v = np.asarray(jax.jit(jax.vmap(run))(jnp.asarray(amplitudes)))
    start = int(round((onset + 20.0) / DT))
    return np.array([[len(spike_times(x[start:], DT, -20.0)) for x in run_v] for run_v in v])


@pytest.mark.slow
def test_extracellular_pulses_drive_stn_at_the_pulse_rate_above_threshold():
    """Above threshold (AMP_ABOVE µA, 100 µm from the axons) every STN soma fires once per
    pulse (antidromic invasion); below it (AMP_BELOW µA) the somata spike exactly as
    without stimulation."""
    none, below, above = _stn_spikes([0.0, AMP_BELOW, AMP_ABOVE])
    pulses = 60.0 / (1000.0 / 130.0)  # pulses in the 60 ms window: 7.8
    assert np.all(np.abs(above - pulses) <= 1.0)  # one spike per pulse (7 or 8 in the window)
    np.testing.assert_array_equal(below, none)
    # without DBS the somata fire their own bursts (measured 0-4 spikes in the window)
    assert none.sum() < above.sum() / 2
