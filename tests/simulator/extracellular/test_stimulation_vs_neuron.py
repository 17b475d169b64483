"""Extracellular stimulation against NEURON's ``extracellular`` mechanism (float64)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from neuron_extracellular import (
    DT,
    applied_potentials,
    ball_and_stick,
    biphasic,
    neuron_ball_and_stick,
    run_neuron,
)

import simulator as jx
import simulator.extracellular

pytest.importorskip("neuron")
N_STEPS = 400
POSITION = [0.0, 0.0, 0.0]


def _ours(cell, current, solver):
    cell.add_electrode(jx.extracellular.point_contacts([POSITION]), name="lead")
    cell.stimulate_extracellular("lead", current)
    cell.record("v", verbose=False)
    return np.asarray(jx.integrate(cell, t_max=(N_STEPS - 1) * DT, delta_t=DT, solver=solver))


@pytest.mark.parametrize(("solver", "secondorder"), [("bwd_euler", 0)])
@pytest.mark.parametrize("hh_dendrite", [False, True])
def test_ball_and_stick_matches_neuron(solver, secondorder, hh_dendrite):
    jax.config.update("jax_enable_x64", True)
    cell = ball_and_stick(8, hh_dendrite)
    mid = np.asarray(cell.xyzr[1])[:, :3].mean(axis=0)
    POSITION[:] = (mid + np.array([0.0, 100.0, 0.0])).tolist()  # 100 µm from the dendrite
    current = biphasic(N_STEPS, 40.0)
    v_e = applied_potentials(cell, POSITION, current)
    ours = _ours(cell, current, solver)
    theirs = run_neuron(neuron_ball_and_stick(8, hh_dendrite), v_e, secondorder)
    assert np.ptp(ours[1:]) > 1.0  # the stimulus does something
    err = np.abs(ours - theirs[:, : ours.shape[1]]).max()
    print(solver, hh_dendrite, err)
    assert err <= 1e-6
