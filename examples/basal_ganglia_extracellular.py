"""Extracellular DBS of the Rubin & Terman (2004) network through STN axons.

Run: ``python examples/basal_ganglia_extracellular.py [--seeds 0 1 2] [--t-max 1500]``.
The network is built with ``stn_axon=True`` (each STN soma carries a 1 mm HH axon along +x,
:mod:`simulator.models.basal_ganglia.stn_axon`); a point contact (σ 0.3 S/m) beside the
middle of the axons drives 130 Hz charge-balanced cathodic-first pulses (0.1 ms per phase).

Prints (1) per contact distance (µm from the axon bundle's axis; the 8 STN axons lie
40 µm apart on a 3 × 3 grid, so 60–146 µm from a contact at 100 µm) the lowest amplitude
(µA, on a ×√2 grid) at which one / every STN soma follows the 130 Hz pulses (≥ 120 Hz,
100–200 ms after DBS onset, parkinsonian, 8 cells per nucleus, seed 0) and the mean STN
rate per amplitude, and (2) the TC relay error index (So et al. 2012) of the parkinsonian
network (8 per nucleus) without DBS and with extracellular DBS at ``--relay-ua``, per seed,
with the STN rates (fwd_euler, Δt 0.01 ms, first 300 ms discarded).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from simulator import integrate
from simulator.models.basal_ganglia import (
    basal_ganglia_network,
    error_index,
    sensorimotor_input,
    spike_times,
)
from simulator.models.basal_ganglia.extracellular_dbs import (
    add_dbs_contact,
    biphasic_pulses,
)

DT, SPIKE_MV, DISCARD = 0.01, -20.0, 300.0
AMPLITUDES = tuple(25.0 * 2.0 ** (k / 2.0) for k in range(17))  # 25 µA to 6.4 mA, ×√2
LOCKED_HZ = 120.0  # a soma "follows" the 130 Hz pulses at ≥ 120 Hz
DISTANCES = (100.0, 200.0, 400.0)  # µm


def _network(seed: int, distance: float | None, n: int = 8, axon: bool = True):
    net, cells = basal_ganglia_network(n, "parkinsonian", seed, stn_axon=axon)
    if axon:
        add_dbs_contact(net, distance)
    for i in range(len(net.cells)):
        net.cell(i).branch(0).comp(0).record("v", verbose=False)
    return net, cells


def _runner(net, t_max: float, wave, stimulus=None):
    """jit(vmap over amplitudes (µA)) -> soma voltages (n_amp, n_cells, n_samples);
    ``wave`` None: no electrode (the amplitude is ignored)."""
    def run(amp):
        data = None
        if wave is not None:
            data = net.data_stimulate_extracellular("dbs", amp * jnp.asarray(wave))
        if stimulus is not None:
            data = net.data_stimulate(stimulus, data)
        return integrate(net, data_stimuli=data, delta_t=DT, t_max=t_max, solver="fwd_euler")
    return jax.jit(jax.vmap(run))


def stn_rates(v, cells, start_ms: float, end_ms: float) -> np.ndarray:
    """(n_stn,) STN soma rates (Hz) in [start, end) ms."""
    a, b = int(round(start_ms / DT)), int(round(end_ms / DT))
    counts = [len(spike_times(v[i, a:b], DT, SPIKE_MV)) for i in cells["STN"]]
    return np.asarray(counts, float) / ((end_ms - start_ms) / 1000.0)


def rates(v, cells, start_ms: float, end_ms: float) -> float:
    """Mean STN soma rate (Hz) in [start, end) ms."""
    return float(np.mean(stn_rates(v, cells, start_ms, end_ms)))


def threshold_table(distances, amplitudes, onset: float = 100.0, t_max: float = 300.0):
    """``{distance: (n_amplitudes, n_stn) STN rates (Hz)}`` 100–200 ms after DBS onset
    (parkinsonian, seed 0)."""
    wave = biphasic_pulses(t_max, DT, 1.0, onset_ms=onset)
    table = {}
    for d in distances:
        net, cells = _network(0, d)
        v = np.asarray(_runner(net, t_max, wave)(jnp.asarray(amplitudes)))
        table[d] = np.stack([stn_rates(x, cells, onset + 100.0, t_max) for x in v])
    return table


def _first(amplitudes, mask) -> str:
    k = np.flatnonzero(mask)
    return f"{amplitudes[k[0]]:.0f}" if k.size else f"> {amplitudes[-1]:.0f}"


def print_thresholds(table: dict, amplitudes) -> None:
    """Per distance: the lowest amplitude (µA) at which one / all STN somata follow the
    pulses (≥ LOCKED_HZ), and the mean rate at each amplitude."""
    print("| distance (µm) | first soma follows (µA) | all follow (µA) | mean STN rate (Hz)"
          " per amplitude |\n|---|---|---|---|")
    for d, r in table.items():
        locked = r >= LOCKED_HZ
        row = ", ".join(f"{a:.0f}: {m:.0f}" for a, m in zip(amplitudes, r.mean(1),
                                                            strict=True))
        print(f"| {d:g} | {_first(amplitudes, locked.any(1))} |"
              f" {_first(amplitudes, locked.all(1))} | {row} |", flush=True)


def _sm_stimulus(net, cells, t_max: float):
    sm, onsets = sensorimotor_input(t_max, DT)
    stimulus = np.zeros((len(net.nodes), len(sm)))
    cell_of_node = net.nodes["global_cell_index"].to_numpy()
    stimulus[[int(np.flatnonzero(cell_of_node == i)[0]) for i in cells["TC"]]] = sm
    return stimulus, onsets[onsets >= DISCARD]


def relay(seed: int, amplitude: float, distance: float, t_max: float, n: int = 16) -> dict:
    """``{label: (EI, STN Hz)}``: the single-compartment network and the axon variant
    without DBS, and the axon variant with extracellular DBS at ``amplitude`` µA."""
    out = {}
    net, cells = _network(seed, None, n, axon=False)
    stimulus, scored = _sm_stimulus(net, cells, t_max)
    v = np.asarray(_runner(net, t_max, None, stimulus)(jnp.zeros(1)))[0]
    out["point STN"] = (error_index(v[cells["TC"]], DT, scored)["ei"],
                        rates(v, cells, DISCARD, t_max))
    net, cells = _network(seed, distance, n)
    stimulus, scored = _sm_stimulus(net, cells, t_max)
    wave = biphasic_pulses(t_max, DT, 1.0)
    v = np.asarray(_runner(net, t_max, wave, stimulus)(jnp.asarray([0.0, amplitude])))
    for label, x in zip(("no DBS", "DBS"), v, strict=True):
        out[label] = (error_index(x[cells["TC"]], DT, scored)["ei"],
                      rates(x, cells, DISCARD, t_max))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--t-max", type=float, default=1500.0)
    parser.add_argument("--relay-ua", type=float, default=400.0)
    parser.add_argument("--relay-um", type=float, default=100.0)
    parser.add_argument("--skip-thresholds", action="store_true")
    args = parser.parse_args(argv)
    # float64 (fwd_euler at Δt 0.01 ms); set here, not at import, so that loading this file
    # for its helpers changes no global state.
    jax.config.update("jax_enable_x64", True)
    if not args.skip_thresholds:
        print_thresholds(threshold_table(DISTANCES, AMPLITUDES), AMPLITUDES)
    labels = ("point STN", "no DBS", "DBS")
    print("| seed | EI: point STN, axon STN, axon STN + DBS | STN Hz: same |\n|---|---|---|")
    for seed in args.seeds:
        r = relay(seed, args.relay_ua, args.relay_um, args.t_max)
        print(f"| {seed} | " + ", ".join(f"{r[k][0]:.3f}" for k in labels) + " | "
              + ", ".join(f"{r[k][1]:.1f}" for k in labels) + " |", flush=True)


if __name__ == "__main__":
    main()
