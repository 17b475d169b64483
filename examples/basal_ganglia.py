"""Reproduction of Rubin & Terman (2004): TC relay fidelity, firing rates and beta power of
the basal ganglia–thalamus network in health, parkinsonism and parkinsonism with STN DBS.

Each condition simulates ``basal_ganglia_network(16, state, seed)`` (16 STN, GPe and GPi
cells, 2 TC cells) with the sensorimotor pulse train into every TC cell (5 µA/cm², 5 ms,
every 50 ms) and, where given, monophasic DBS pulses (0.6 ms) into every STN cell, with
forward Euler at Δt = 0.01 ms in float64 (So et al. 2012's scheme; the linearised implicit
step is unstable for the pallidal cells at this Δt, see docs/basal_ganglia.md). The first
300 ms are discarded. Per condition and seed it measures

* the firing rate of each nucleus (upward crossings of −20 mV, mean over the nucleus' cells),
* the TC error index (So et al. 2012: misses, bad = bursts, spurious spikes; pulses after
  300 ms),
* the relative beta power (13–30 Hz power over 1–100 Hz power, Welch PSD) of the STN
  population spike train (1 ms bins) and of the summed GPi → TC synaptic variable,
* the mean of that synaptic variable per TC cell (Σ s over its 8 GPi inputs: the level of
  inhibition a TC cell receives) and its coefficient of variation (how much it fluctuates),

plus the authors' own EI counter (RT's XPP file: 20 ms windows from each pulse onset, a
good response crosses −10 mV; errors = misses + extra −40 mV crossings in the windows), and
prints a markdown table of mean ± std over the seeds. The DBS train starts at a random phase
per seed (onset uniform in [0, period), seeded), so each frequency's EI averages over the
phase between the strictly periodic SM and DBS trains. Two ablation rows run healthy and
parkinsonian with So et al. (2012)'s TC T-gate kinetics (3 seeds). It also sweeps the DBS
frequency at a fixed amplitude (``--irregular`` repeats the sweep with So 2012-style
irregular SM input: gamma intervals, 20 Hz mean, CV 0.2; 3 seeds) and writes three
figures: traces (``basal_ganglia_traces.png``), EI against DBS frequency
(``basal_ganglia_ei_frequency.png``) and PSDs (``basal_ganglia_psd.png``).

Run: ``python examples/basal_ganglia.py [--quick] [--seeds 5] [--t-max 2000] [--out-dir docs]
[--no-plot] [--irregular]``. ``--quick`` is one seed, 600 ms, healthy / parkinsonian /
130 Hz DBS only.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import numpy as np
from scipy.signal import welch

from simulator import integrate
from simulator.models.basal_ganglia import (
    NUCLEI,
    basal_ganglia_network,
    dbs_current,
    error_index,
    irregular_sensorimotor_input,
    sensorimotor_input,
    spike_times,
)
from simulator.models.basal_ganglia.thalamus import SO_2012_R_RATE

DT = 0.01  # ms, forward Euler (So et al. 2012)
T_DISCARD = 300.0  # ms of transient left out of every measure
SPIKE_MV = -20.0  # rate threshold (mV)
BETA, BAND = (13.0, 30.0), (1.0, 100.0)  # Hz
AMPLITUDE = 400.0  # µA/cm², the authors' DBS file value
SWEEP_HZ = (10.0, 20.0, 40.0, 80.0, 100.0, 130.0, 167.0, 185.0)
FIGURE_NAMES = ("basal_ganglia_traces.png", "basal_ganglia_ei_frequency.png",
                "basal_ganglia_psd.png")


IRREGULAR = "irregular SM: "  # label prefix of the irregular-input sweep
ABLATION = ", So 2012 TC T-gate"  # label suffix of the TC-kinetics ablation


def conditions(quick: bool, irregular: bool = False) -> dict[str, tuple]:
    """``{label: (state, DBS frequency Hz, DBS amplitude µA/cm², options)}``; options:
    ``sm`` ("periodic" | "irregular"), ``tc`` (TC parameters to set), ``n_seeds`` (cap)."""
    periodic, three = {"sm": "periodic"}, {"sm": "periodic", "n_seeds": 3}
    cases = {"healthy": ("healthy", 0.0, 0.0, periodic),
             "parkinsonian": ("parkinsonian", 0.0, 0.0, periodic),
             "PD + DBS 130 Hz, 400": ("parkinsonian", 130.0, AMPLITUDE, periodic)}
    if quick:
        return cases
    cases["PD + DBS 130 Hz, 200"] = ("parkinsonian", 130.0, 200.0, periodic)
    for f in SWEEP_HZ:
        if f != 130.0:
            cases[f"PD + DBS {f:g} Hz, 400"] = ("parkinsonian", f, AMPLITUDE, periodic)
    tc = {f"ThalamocorticalRT_{k}": x for k, x in SO_2012_R_RATE.items()}
    for state in ("healthy", "parkinsonian"):
        cases[state + ABLATION] = (state, 0.0, 0.0, {**three, "tc": tc})
    if irregular:
        irr = {"sm": "irregular", "n_seeds": 3}
        cases[IRREGULAR + "healthy"] = ("healthy", 0.0, 0.0, irr)
        cases[IRREGULAR + "parkinsonian"] = ("parkinsonian", 0.0, 0.0, irr)
        for f in SWEEP_HZ:
            cases[f"{IRREGULAR}PD + DBS {f:g} Hz, 400"] = ("parkinsonian", f, AMPLITUDE, irr)
    return cases


def dbs_onset(frequency: float, seed: int) -> float:
    """The first DBS pulse time (ms) of ``seed``: uniform in [0, period), seeded."""
    return float(np.random.default_rng([seed, 16]).uniform(0.0, 1000.0 / frequency))


def simulate(state: str, frequency: float, amplitude: float, seed: int, t_max: float,
             options: dict | None = None):
    """One run: ``(voltages (n_cells, n_samples) mV, s_GPi→TC (n_syn, n_samples), cells,
    SM onsets ms)``. Every run has the same array shapes, so the compiled program is reused.
    ``options``: see :func:`conditions`."""
    options = options or {}
    net, cells = basal_ganglia_network(16, state, seed)
    for key, value in options.get("tc", {}).items():
        net.set(key, value)
    net.record("v", verbose=False)
    net.record("GPi_TC_s", verbose=False)
    n_samples = int(round(t_max / DT)) + 1
    if options.get("sm", "periodic") == "irregular":  # 20 Hz mean (RT's rate), CV 0.2 (So)
        sm, onsets = irregular_sensorimotor_input(t_max, DT, seed, 20.0, 0.2, 5.0, 5.0)
    else:
        sm, onsets = sensorimotor_input(t_max, DT)
    stimulus = np.zeros((len(net.nodes), n_samples))
    stimulus[cells["TC"]] = sm
    if frequency > 0:
        stimulus[cells["STN"]] = dbs_current(t_max, DT, frequency, amplitude,
                                             onset_ms=dbs_onset(frequency, seed))
    out = np.asarray(integrate(net, data_stimuli=net.data_stimulate(stimulus), delta_t=DT,
                               t_max=t_max, solver="fwd_euler"))
    n_cells = len(net.nodes)
    return out[:n_cells], out[n_cells:], cells, onsets


def relative_beta(signal: np.ndarray, fs_hz: float) -> tuple[float, np.ndarray, np.ndarray]:
    """``(beta fraction, f Hz, PSD)``: Welch PSD of ``signal`` and the fraction of its
    1–100 Hz power that lies in 13–30 Hz."""
    f, p = welch(signal - signal.mean(), fs=fs_hz, nperseg=min(1024, len(signal)))
    band = (f >= BAND[0]) & (f <= BAND[1])
    beta = (f >= BETA[0]) & (f <= BETA[1])
    return float(p[beta].sum() / max(p[band].sum(), 1e-300)), f, p


def authors_error_index(tc_v: np.ndarray, onsets: np.ndarray, window: float = 20.0) -> float:
    """EI by RT's XPP counters (notes §8): per TC cell, ``good`` = windows [t_p, t_p + 20)
    with a crossing of −10 mV, ``count`` = crossings of −40 mV in the windows; errors =
    (pulses − good) + max(count − good, 0); EI = errors / pulses, mean over cells."""
    end = (tc_v.shape[1] - 1) * DT
    scored = onsets[onsets <= end - window]
    per_cell = []
    for v in tc_v:
        t40, t10 = spike_times(v, DT, -40.0), spike_times(v, DT, -10.0)
        good = sum(np.any((t10 >= t) & (t10 < t + window)) for t in scored)
        count = sum(np.sum((t40 >= t) & (t40 < t + window)) for t in scored)
        per_cell.append(((len(scored) - good) + max(count - good, 0)) / max(len(scored), 1))
    return float(np.mean(per_cell))


def measure(v, s_gpi, cells, onsets, t_max: float) -> dict:
    """Rates (Hz) per nucleus, EI and its counts, relative beta power of STN and GPi."""
    start = int(round(T_DISCARD / DT))
    duration_s = (t_max - T_DISCARD) / 1000.0
    result = {}
    for name in NUCLEI:
        counts = [len(spike_times(v[i, start:], DT, SPIKE_MV)) for i in cells[name]]
        result[f"rate_{name}"] = float(np.mean(counts)) / duration_s
    scored = onsets[onsets >= T_DISCARD]
    result.update(error_index(v[cells["TC"]], DT, scored))
    result["ei_rt"] = authors_error_index(v[cells["TC"]], scored)
    bins = np.arange(T_DISCARD, t_max + 1e-9, 1.0)  # 1 ms bins: fs = 1 kHz
    stn = np.concatenate([spike_times(v[i], DT, SPIKE_MV) for i in cells["STN"]])
    result["beta_STN"], f, result["psd_STN"] = relative_beta(
        np.histogram(stn, bins)[0].astype(float), 1000.0)
    gpi = s_gpi.sum(axis=0)[start::int(round(1.0 / DT))]
    result["s_GPi_TC"] = float(gpi.mean()) / len(cells["TC"])  # summed s per TC cell
    result["cv_GPi_TC"] = float(gpi.std() / max(gpi.mean(), 1e-300))
    result["beta_GPi"], _, result["psd_GPi"] = relative_beta(gpi, 1000.0)
    result["psd_f"] = f
    return result


def run_all(cases: dict, seeds: list[int], t_max: float, log=print) -> dict:
    """``{label: [measure() per seed]}`` plus the traces of seed ``seeds[0]`` under
    ``"_traces"``."""
    results, traces = {}, {}
    for label, (state, frequency, amplitude, options) in cases.items():
        t0, results[label] = time.perf_counter(), []
        for seed in seeds[:options.get("n_seeds", len(seeds))]:
            v, s_gpi, cells, onsets = simulate(state, frequency, amplitude, seed, t_max,
                                               options)
            results[label].append(measure(v, s_gpi, cells, onsets, t_max))
            if seed == seeds[0]:
                traces[label] = (v, cells, onsets)
        log(f"  {label}: {len(results[label])} seed(s) in {time.perf_counter() - t0:.1f} s")
    results["_traces"] = traces
    return results


def summary(runs: list[dict]) -> dict:
    """Mean and std over seeds of every scalar measure."""
    keys = [k for k, x in runs[0].items() if np.ndim(x) == 0]
    return {k: (float(np.mean([r[k] for r in runs])), float(np.std([r[k] for r in runs])))
            for k in keys}


def table(results: dict) -> str:
    """The markdown table of mean ± std over seeds (counts: totals per seed, averaged)."""
    head = ("| condition | seeds | STN Hz | GPe Hz | GPi Hz | TC Hz | EI | EI (RT counter) |"
            " misses | bad | spurious | pulses | β STN | β GPi | Σs GPi→TC | CV Σs |")
    rows = [head, "|" + "---|" * 16]
    for label, runs in results.items():
        if label.startswith("_"):
            continue
        s = summary(runs)
        cell = [f"{s[k][0]:.{d}f} ± {s[k][1]:.{d}f}" for k, d in
                (("rate_STN", 1), ("rate_GPe", 1), ("rate_GPi", 1), ("rate_TC", 1),
                 ("ei", 2), ("ei_rt", 2))]
        cell += [f"{s[k][0]:.1f}" for k in ("misses", "bad", "spurious")]
        cell += [f"{s['pulses'][0]:.0f}"]
        cell += [f"{s[k][0]:.2f} ± {s[k][1]:.2f}" for k in ("beta_STN", "beta_GPi",
                                                            "s_GPi_TC", "cv_GPi_TC")]
        rows.append(f"| {label} | {len(runs)} | " + " | ".join(cell) + " |")
    return "\n".join(rows)


def frequency_curve(results: dict, prefix: str = "", key: str = "ei"):
    """``(frequency Hz, mean, std)`` of measure ``key`` over the parkinsonian runs at the
    sweep amplitude (0 Hz = no DBS); ``prefix`` selects the irregular-input sweep."""
    freqs = [0.0] + [f for f in SWEEP_HZ if f"{prefix}PD + DBS {f:g} Hz, 400" in results]
    labels = [prefix + "parkinsonian"] + [f"{prefix}PD + DBS {f:g} Hz, 400"
                                          for f in freqs[1:]]
    stats = [summary(results[k])[key] for k in labels if k in results]
    return np.asarray(freqs), np.array([m for m, _ in stats]), np.array([s for _, s in stats])


def _plot_traces(plt, results: dict, path: pathlib.Path, window=(300.0, 800.0)) -> None:
    labels = ["healthy", "parkinsonian", "PD + DBS 130 Hz, 400"]
    fig, axes = plt.subplots(4, 3, figsize=(12, 8), sharex=True, sharey="row")
    for col, label in enumerate(labels):
        v, cells, onsets = results["_traces"][label]
        t = np.arange(v.shape[1]) * DT
        keep = (t >= window[0]) & (t <= window[1])
        for row, name in enumerate(NUCLEI):
            ax = axes[row, col]
            ax.plot(t[keep], v[cells[name][0], keep], lw=0.6, color="k")
            if name == "TC":
                for t_p in onsets[(onsets >= window[0]) & (onsets <= window[1])]:
                    ax.axvspan(t_p, t_p + 5.0, color="tab:orange", alpha=0.4, lw=0)
            if col == 0:
                ax.set_ylabel(f"{name} cell 0 (mV)")
        axes[0, col].set_title(label)
        axes[-1, col].set_xlabel("t (ms)")
    fig.suptitle("Rubin & Terman (2004) network: one cell per nucleus; orange = SM pulses")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_ei(plt, results: dict, path: pathlib.Path) -> None:
    healthy = summary(results["healthy"])["ei"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for prefix, name in (("", "periodic SM, 5 seeds"), (IRREGULAR, "irregular SM, 3 seeds")):
        if prefix + "parkinsonian" in results:
            f, mean, std = frequency_curve(results, prefix)
            ax.errorbar(f, mean, yerr=std, marker="o", capsize=3, label=f"PD + DBS, {name}")
    ax.axhspan(healthy[0] - healthy[1], healthy[0] + healthy[1], color="tab:green",
               alpha=0.3, label="healthy (mean ± std)")
    ax.set_xlabel("DBS frequency (Hz; 0 = off), 400 µA/cm², 0.6 ms, random onset")
    ax.set_ylabel("TC error index")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_psd(plt, results: dict, path: pathlib.Path) -> None:
    labels = ["healthy", "parkinsonian", "PD + DBS 130 Hz, 400"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, what in zip(axes, ("STN", "GPi"), strict=True):
        for label in labels:
            runs = results[label]
            f, p = runs[0]["psd_f"], np.mean([r[f"psd_{what}"] for r in runs], axis=0)
            keep = (f >= 1.0) & (f <= 100.0)
            ax.semilogy(f[keep], p[keep], label=label)
        ax.axvspan(*BETA, color="0.85")
        ax.set_xlabel("frequency (Hz)")
        ax.set_title("STN population spike train (spikes/ms)" if what == "STN"
                     else "summed GPi → TC synaptic variable s")
    axes[0].set_ylabel("Welch PSD (per Hz), mean over seeds")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot(results: dict, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write the three figures into ``out_dir``; [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figures")
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in FIGURE_NAMES]
    _plot_traces(plt, results, paths[0])
    if "PD + DBS 10 Hz, 400" in results:
        _plot_ei(plt, results, paths[1])
    else:
        paths[1] = None
    _plot_psd(plt, results, paths[2])
    return [p for p in paths if p is not None]


def main(argv=None) -> dict:
    """Run the reproduction; returns ``{label: [measures per seed]}`` (see :func:`run_all`)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 seed, 600 ms, healthy / parkinsonian / 130 Hz DBS")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5)")
    ap.add_argument("--t-max", type=float, default=None, help="ms per run (default 2000)")
    ap.add_argument("--out-dir", default="docs", help="folder for the figures")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--irregular", action="store_true",
                    help="also sweep DBS frequency with irregular SM input (3 seeds)")
    args = ap.parse_args(argv)
    # The reproduction runs in float64 (fwd_euler at Δt 0.01 ms over 2 s); switched on here,
    # not at import, so that loading this file for its helpers changes no global state.
    jax.config.update("jax_enable_x64", True)
    n_seeds = args.seeds or (1 if args.quick else 5)
    t_max = args.t_max or (600.0 if args.quick else 2000.0)
    if t_max <= T_DISCARD + 100.0 or n_seeds < 1:
        raise ValueError(f"need --t-max > {T_DISCARD + 100:g} ms and --seeds >= 1, got"
                         f" {t_max!r}, {n_seeds!r}")
    print(f"Rubin & Terman (2004), 16 cells per nucleus, fwd_euler Δt {DT} ms, {t_max:g} ms"
          f" per run (first {T_DISCARD:g} ms discarded), seeds 0..{n_seeds - 1}")
    t0 = time.perf_counter()
    results = run_all(conditions(args.quick, args.irregular), list(range(n_seeds)), t_max)
    print(f"simulated in {time.perf_counter() - t0:.0f} s\n")
    print(table(results))
    for prefix in ("", IRREGULAR):
        f, mean, std = frequency_curve(results, prefix)
        if len(f) > 1:
            print(f"\n{prefix or 'periodic SM: '}EI against DBS frequency (parkinsonian,"
                  " 400 µA/cm², random DBS onset):")
            print(", ".join(f"{x:g} Hz {m:.2f} ± {s:.2f}" for x, m, s in
                            zip(f, mean, std, strict=True)))
    if not args.no_plot:
        for path in plot(results, pathlib.Path(args.out_dir)):
            print(f"figure: {path}")
    return results


if __name__ == "__main__":
    main()
