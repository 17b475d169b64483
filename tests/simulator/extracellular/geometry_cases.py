"""Shared geometry for the extracellular tests: segments and contacts (µm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CA1 = Path(__file__).parents[2] / "data" / "swc" / "morph_ca1_n120.swc"


def ball_and_stick() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A soma (one 20 µm segment, diameter 20) and a 400 µm dendrite in 8 segments along +x,
    then a 100 µm oblique branch in 2 segments: starts, ends (n, 3), diameters (n,)."""
    soma = ([-10.0, 0, 0], [10.0, 0, 0])
    xs = np.linspace(10.0, 410.0, 9)
    dend = [([a, 0, 0], [b, 0, 0]) for a, b in zip(xs[:-1], xs[1:], strict=True)]
    tip = np.array([410.0, 0, 0])
    step = 50.0 * np.array([0.6, 0.8, 0.0])
    oblique = [(tip, tip + step), (tip + step, tip + 2 * step)]
    pairs = [soma, *dend, *oblique]
    starts = np.array([p[0] for p in pairs], dtype=float)
    ends = np.array([p[1] for p in pairs], dtype=float)
    diameters = np.array([20.0] + [2.0] * 8 + [1.0] * 2)
    return starts, ends, diameters


def contacts_for(starts: np.ndarray, ends: np.ndarray, diameters: np.ndarray) -> np.ndarray:
    """Contacts (n, 3) µm: generic ones, one on the axis line of segment 1 beyond its end,
    one on it before its start, one on segment 2's axis inside it (closer than its radius),
    one 0.3 µm off segment 3's axis (closer than its radius), and far ones."""
    axis = ends - starts
    return np.array([
        [100.0, 50.0, 0.0],
        [0.0, 100.0, 0.0],
        [250.0, -30.0, 40.0],
        ends[1] + 2.5 * axis[1],
        starts[1] - 1.5 * axis[1],
        starts[2] + 0.5 * axis[2],
        starts[3] + 0.4 * axis[3] + [0.0, 0.3, 0.0],
        [-400.0, 300.0, -200.0],
        [2000.0, 10.0, 5.0],
    ])
