"""The same cells in NEURON (``insert extracellular``, e_extracellular assigned per segment
before every fadvance) and here (``add_electrode`` + ``stimulate_extracellular``)."""

from __future__ import annotations

import numpy as np

import simulator as jx
from simulator.channels import HH
from simulator.extracellular import module_segments, point_contacts, stimulation_matrix

DT, V_INIT, RA = 0.025, -65.0, 100.0


def biphasic(n_steps: int, amp: float, start: int = 40, width: int = 4, period: int = 80):
    """(n_steps,) µA: cathodic-first charge-balanced pulses of ``width`` steps per phase."""
    current = np.zeros(n_steps)
    for k in range(start, n_steps - 2 * width, period):
        current[k : k + width] = -amp
        current[k + width : k + 2 * width] = amp
    return current


def ball_and_stick(ncomp: int = 8, hh_dendrite: bool = False):
    """Soma (1 compartment, 20 µm × 20 µm) and a dendrite (``ncomp`` × 50 µm, 1 µm diam)."""
    soma = jx.Branch(jx.Compartment(), ncomp=1)
    dend = jx.Branch(jx.Compartment(), ncomp=ncomp)
    cell = jx.Cell([soma, dend], parents=[-1, 0])
    cell.branch(0).set("length", 20.0)
    cell.branch(0).set("radius", 10.0)
    cell.branch(1).set("length", 400.0 / ncomp)
    cell.branch(1).set("radius", 0.5)
    cell.set("axial_resistivity", RA)
    cell.compute_xyz()
    cell.insert(HH())
    if not hh_dendrite:  # passive: HH without sodium and potassium
        cell.branch(1).set("HH_gNa", 0.0)
        cell.branch(1).set("HH_gK", 0.0)
    cell.set("v", V_INIT)
    cell.init_states()
    return cell


def neuron_ball_and_stick(ncomp: int, hh_dendrite: bool):
    from neuron import h

    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    soma, dend = h.Section(name="soma"), h.Section(name="dend")
    soma.L, soma.diam, soma.nseg = 20.0, 20.0, 1
    dend.L, dend.diam, dend.nseg = 400.0, 1.0, ncomp
    dend.connect(soma(1.0), 0.0)
    for sec in (soma, dend):
        sec.Ra, sec.cm = RA, 1.0
    for sec in (soma, dend):
        sec.insert("hh")
    if not hh_dendrite:
        for seg in dend:
            seg.hh.gnabar, seg.hh.gkbar = 0.0, 0.0
    return [soma, dend]


def run_neuron(sections, v_e, secondorder: int):
    """V_m (n_comps, n_steps + 1) of ``sections`` (segments in our compartment order) with
    e_extracellular = ``v_e`` (n_comps, n_steps) mV assigned before each fadvance; the
    section-end nodes get the value of their last segment."""
    from neuron import h

    h.load_file("stdrun.hoc")
    segs = [seg for sec in sections for seg in sec]
    for sec in sections:
        sec.insert("extracellular")
    vectors = []
    for seg in segs:
        vec = h.Vector()
        vec.record(seg._ref_v)
        vectors.append(vec)
    h.usetable_hh = 0
    h.celsius = 6.3
    h.dt = DT
    h.secondorder = secondorder
    h.finitialize(V_INIT)
    ends = [(sec(1.0), [i for i, s in enumerate(segs) if s.sec == sec][-1]) for sec in sections]
    for k in range(v_e.shape[1]):
        for seg, value in zip(segs, v_e[:, k], strict=True):
            seg.e_extracellular = value
        for end, i in ends:
            end.e_extracellular = v_e[i, k]
        h.fadvance()
    return np.array([np.array(v) for v in vectors])


def applied_potentials(cell, position, current):
    """(n_comps, T) mV: V_e of a point electrode at ``position`` carrying ``current`` µA."""
    matrix = stimulation_matrix(module_segments(cell), point_contacts([position]))
    return np.asarray(matrix) @ np.asarray(current)[None, :]
