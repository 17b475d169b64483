"""The figure of docs/extracellular.md: morphology, electrodes, V_e field and recorded LFP.

Run: ``python examples/extracellular.py [--out docs/extracellular.png]`` (about 30 s on two
CPU cores). Left: BetaSuppression-v0's population (x–y plane), the stimulating contact and the
field V_e (mV) of a 2 mA cathodic phase in σ = 0.3 S/m; right: the LFP (µV) at the recording
contact over 0.3 s without stimulation and with open-loop 130 Hz, 2 mA pulses (the stimulus
artifact included).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from neuroenv.tasks.beta_suppression import beta_population, make_env, stim_position  # noqa: E402

SIGMA = 0.3  # S/m
CURRENT = -2000.0  # µA


def lfp_trace(action: float, periods: int = 30) -> np.ndarray:
    """(periods × substeps,) µV at the rec contact for a constant ``action``."""
    env = make_env()
    params = env.default_params

    def period(state, key):
        _, state, *_ = env.step_env(key, state, jnp.asarray([action]), params)
        return state, state.last_trace[:, -1]

    _, state = env.reset(jax.random.key(0), params)
    _, lfp = jax.lax.scan(period, state, jax.random.split(jax.random.key(1), periods))
    return np.asarray(lfp).reshape(-1)


def draw(out: str) -> None:
    net, _ = beta_population()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    stim = np.asarray(stim_position(200.0))
    x, y = np.meshgrid(np.linspace(-600, 300, 300), np.linspace(-350, 150, 200))
    r = np.maximum(np.hypot(x - stim[0], y - stim[1]), 10.0)  # µm
    v_e = CURRENT * 1e3 / (4 * np.pi * SIGMA * r)  # mV = nA / (4π σ[S/m] r[µm])
    levels = -np.geomspace(300.0, 30000.0, 11)[::-1]
    field = ax.contourf(x, y, v_e, levels=levels, cmap="Blues_r", extend="both")
    fig.colorbar(field, ax=ax, label="V_e (mV), 2 mA cathodic phase")
    for points in net.xyzr:
        ax.plot(points[:, 0], points[:, 1], color="k", lw=max(0.5, points[0, 3] / 3))
    ax.plot(*stim[:2], "rv", ms=9, label="stim contact")
    ax.plot(0.0, -60.0, "g^", ms=9, label="rec contact")
    ax.set(xlabel="x (µm)", ylabel="y (µm)", aspect="equal",
           title="12 HH cells (soma, dendrite +x, axon −x)")
    ax.legend(loc="upper right", fontsize=8)
    for action, label in ((0.0, "no stimulation"), (-1.0, "130 Hz, 2 mA (open loop)")):
        lfp = lfp_trace(action)
        t = np.arange(lfp.size) * 0.025
        bx.plot(t, lfp, lw=0.6, label=label)
    bx.set(xlabel="time (ms)", ylabel="LFP at rec (µV)", ylim=(-150, 150),
           title="recorded LFP (beta loop and its suppression)")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/extracellular.png")
    draw(parser.parse_args(argv).out)


if __name__ == "__main__":
    main()
