"""Identical HH models built in NEURON (the oracle) and in this package.

Each builder returns (neuron_traces, our_module) for the same morphology, channel
parameters, stimulus and recording sites. NEURON uses exact rate functions
(``usetable_hh = 0``), 6.3 °C, ``finitialize(V_INIT)`` and one ``fadvance`` per step.
"""

from __future__ import annotations

import numpy as np

import simulator as jx
from simulator.channels import HH

DT = 0.025
T_MAX = 10.0
N_STEPS = int(T_MAX // DT + 1)
V_INIT = -62.0
STIM = dict(delay=3.0, dur=2.0)  # ms, ms


def run_neuron(sections_spec, stim_site, amp, record_sites, secondorder: int) -> np.ndarray:
    """Simulate in NEURON and return (n_sites, N_STEPS + 1) voltages (mV)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    sections = []
    for spec in sections_spec:
        sec = h.Section()
        sec.nseg, sec.L, sec.diam = spec["nseg"], spec["L"], spec["diam"]
        sec.Ra, sec.cm = spec["Ra"], spec["cm"]
        sec.insert("hh")
        for seg in sec:
            seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl, seg.hh.el = 0.12, 0.036, 0.0003, -54.3
        sec.ena, sec.ek = 50.0, -77.0
        if spec["parent"] >= 0:
            sec.connect(sections[spec["parent"]](1.0), 0.0)
        sections.append(sec)
    h.usetable_hh = 0
    h.celsius = 6.3
    sec_i, x = stim_site
    stim = h.IClamp(sections[sec_i](x))
    stim.delay, stim.dur, stim.amp = STIM["delay"], STIM["dur"], amp
    vectors = []
    for sec_i, x in record_sites:
        vec = h.Vector()
        vec.record(sections[sec_i](x)._ref_v)
        vectors.append(vec)
    h.dt = DT
    h.secondorder = secondorder
    h.finitialize(V_INIT)
    for _ in range(N_STEPS):
        h.fadvance()
    traces = np.array([np.array(v) for v in vectors])
    del stim, vectors, sections
    return traces


def build_ours(ncomps, parents, radius, length, axial_resistivity, capacitance, stim_site, amp,
               record_sites):
    """The same model here: branch b has ncomps[b] compartments of ``length`` µm each."""
    branches = [jx.Branch(jx.Compartment(), n) for n in ncomps]
    cell = jx.Cell(branches, parents)
    cell.set("radius", radius)
    cell.set("length", length)
    cell.set("axial_resistivity", axial_resistivity)
    cell.set("capacitance", capacitance)
    cell.insert(HH())
    cell.set("v", V_INIT)
    cell.init_states()
    b, x = stim_site
    cell.branch(b).loc(x).stimulate(
        jx.step_current(STIM["delay"], STIM["dur"], amp, DT, T_MAX), verbose=False
    )
    for b, x in record_sites:
        cell.branch(b).loc(x).record(verbose=False)
    return cell


MODELS = {
    # name: (ncomps per branch, parents, radius µm, comp length µm, Ra Ω·cm, cm µF/cm²,
    #        stimulus site (branch, x), amplitude nA, recording sites)
    "compartment": ([1], [-1], 10.0, 10.0, 1000.0, 5.0, (0, 0.5), 1.0, [(0, 0.5)]),
    "branch10": ([10], [-1], 3.0, 10.0, 1000.0, 1.0, (0, 0.05), 1.0,
                 [(0, 0.05), (0, 0.55), (0, 0.95)]),
    # The reference's own NEURON comparison cell; 8 nA makes it fire.
    "cell3x8": ([8, 8, 8], [-1, 0, 0], 5.0, 10.0, 1000.0, 7.0, (1, 0.0625), 8.0,
                [(0, 0.0625), (0, 0.9375), (1, 0.0625), (2, 0.9375)]),
}


def model_pair(name: str, secondorder: int):
    ncomps, parents, r, length, ra, cm, stim, amp, recs = MODELS[name]
    spec = [
        dict(nseg=n, L=n * length, diam=2 * r, Ra=ra, cm=cm, parent=p)
        for n, p in zip(ncomps, parents, strict=True)
    ]
    traces = run_neuron(spec, stim, amp, recs, secondorder)
    return traces, build_ours(ncomps, parents, r, length, ra, cm, stim, amp, recs)
