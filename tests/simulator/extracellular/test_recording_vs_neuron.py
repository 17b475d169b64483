"""Extracellular recording: LFP = M @ i_m against NEURON's i_membrane_ (float64), its
gradients, and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from geometry_cases import CA1
from neuron_extracellular import (
    DT,
    ball_and_stick,
    ca1,
    float32_swc,
    neuron_ball_and_stick,
    neuron_ca1,
    run_neuron_imem,
)

import simulator as jx
from simulator.extracellular import electrode_matrix, module_segments, point_contacts

N_STEPS = 400
LEAD = point_contacts([[0.0, 100.0, 0.0], [200.0, -80.0, 10.0]])


def _cell_with_lead(amp=0.5):
    cell = ball_and_stick(8, True)
    cell.add_electrode(LEAD, name="lead")
    cell.record_extracellular("lead")
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 5.0, amp, DT, (N_STEPS - 1) * DT),
                                     verbose=False)
    return cell


def _lfp_error(cell, sections, lead, amp, t_max):
    """max |LFP − 1000 · M @ i_membrane_| / max |1000 · M @ i_membrane_| (µV) for a step
    current of ``amp`` nA from 1 to 6 ms at compartment 0 (the soma)."""
    ours = np.asarray(jx.integrate(cell, t_max=t_max, delta_t=DT))[-lead.n_contacts:]
    imem = run_neuron_imem(sections, 0, amp, ours.shape[1] - 1)
    theirs = 1e3 * np.asarray(electrode_matrix(module_segments(cell), lead)) @ imem
    assert np.abs(theirs).max() > 1.0  # spikes give µV-scale signals
    return np.abs(ours - theirs).max() / np.abs(theirs).max()


def test_lfp_equals_matrix_times_neuron_i_membrane(x64):
    pytest.importorskip("neuron")
    cell = _cell_with_lead()
    rel = _lfp_error(cell, neuron_ball_and_stick(8, True), LEAD, 0.5, (N_STEPS - 1) * DT)
    print("ball-and-stick LFP rel", rel)
    assert rel <= 1e-8  # measured 7.7e-12 (µV-scale LFP from -65 mV voltages)


def test_ca1_lfp_equals_matrix_times_neuron_i_membrane(x64, tmp_path):
    pytest.importorskip("neuron")
    fname = float32_swc(CA1, tmp_path)
    cell = ca1(fname, 1)
    lead = point_contacts([[30.0, 80.0, 0.0], [-150.0, 200.0, 40.0], [100.0, -250.0, -20.0]])
    cell.add_electrode(lead, name="lead")
    cell.record_extracellular("lead")
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 5.0, 1.0, DT, 10.0), verbose=False)
    rel = _lfp_error(cell, neuron_ca1(fname, 1, cell), lead, 1.0, 10.0)
    print("CA1 LFP rel", rel)
    assert rel <= 1e-6  # measured 2.1e-7 (156 compartments, spikes)


def _lfp_energy(cell, shift, gna):
    lead = point_contacts([[0.0, 100.0, 0.0], [200.0, -80.0, 10.0]])
    positions = lead.positions + shift
    params = [{"HH_gNa": gna}]
    lfp = jx.integrate(cell, params=params, t_max=(N_STEPS - 1) * DT, delta_t=DT,
                       electrodes={"lead": {"positions": positions}})
    return jnp.sum(lfp**2)


def test_lfp_gradients_match_finite_differences(x64):
    cell = _cell_with_lead()
    cell.branch(0).make_trainable("HH_gNa", verbose=False)
    shift, gna = jnp.array([3.0, -2.0, 1.0]), jnp.array([0.12])
    grads = jax.grad(_lfp_energy, argnums=(1, 2))(cell, shift, gna)
    for arg, grad in zip((1, 2), grads, strict=True):
        base = [shift, gna]
        for k in range(grad.shape[0]):
            h = 1e-4 * (1.0 if arg == 1 else 0.12)
            up, down = [b for b in base], [b for b in base]
            up[arg - 1] = base[arg - 1].at[k].add(h)
            down[arg - 1] = base[arg - 1].at[k].add(-h)
            fd = (_lfp_energy(cell, *up) - _lfp_energy(cell, *down)) / (2 * h)
            rel = abs(fd - grad[k]) / abs(fd)
            print("grad", arg, k, float(rel))
            assert rel <= 1e-5


def test_bad_input_names_the_value():
    cell = _cell_with_lead()
    with pytest.raises(ValueError, match="'nope'"):
        cell.stimulate_extracellular("nope", np.zeros(10))
    with pytest.raises(ValueError, match=r"\(2, T\)"):
        cell.stimulate_extracellular("lead", np.zeros(10))
    with pytest.raises(ValueError, match="'c9'"):
        cell.stimulate_extracellular("lead", np.zeros(10), contacts="c9")
    with pytest.raises(ValueError, match=r"\(2, T\)"):
        cell.data_stimulate_extracellular("lead", jnp.zeros((3, 10)))
