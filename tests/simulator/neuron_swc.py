"""The same SWC cell in NEURON (Import3d, nseg = ncomp) and here, for voltage comparisons."""

from __future__ import annotations

import numpy as np

import simulator as jx
from simulator.channels import HH

DT, V_INIT, RA = 0.025, -65.0, 100.0


def _key(first, last):
    return tuple(np.round(np.concatenate([first, last]), 2))


def neuron_cell(fname: str, ncomp: int):
    """Instantiate ``fname`` in NEURON; returns (sections, key -> section)."""
    from neuron import h

    h.load_file("stdlib.hoc")
    h.load_file("import3d.hoc")
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(fname)
    h.Import3d_GUI(reader, False).instantiate(None)
    sections = list(h.allsec())
    by_key = {}
    for sec in sections:
        n = sec.n3d()
        first = [sec.x3d(0), sec.y3d(0), sec.z3d(0)]
        last = [sec.x3d(n - 1), sec.y3d(n - 1), sec.z3d(n - 1)]
        by_key[_key(first, last)] = sec
        sec.nseg = ncomp
        sec.Ra, sec.cm = RA, 1.0
        sec.insert("hh")
    return sections, by_key


def farthest_branch(cell) -> int:
    """Branch whose distal end is farthest (Euclidean) from the soma centre."""
    soma = cell.xyzr[0][:, :3].mean(axis=0)
    ends = np.array([x[-1, :3] for x in cell.xyzr])
    return int(np.argmax(np.linalg.norm(ends - soma, axis=1)))


def compare(fname: str, ncomp: int, amp: float = 0.5, t_max: float = 20.0):
    """Voltages at the soma centre and the farthest distal end: (ours, NEURON), (2, T)."""
    from neuron import h

    cell = jx.read_swc(fname, ncomp, backend="neuron")
    cell.set("axial_resistivity", RA)
    cell.insert(HH())
    cell.set("v", V_INIT)
    cell.init_states()
    far = farthest_branch(cell)
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, t_max, amp, DT, t_max), verbose=False)
    cell.branch(0).loc(0.5).record(verbose=False)
    cell.branch(far).loc(1.0).record(verbose=False)
    ours = np.asarray(jx.integrate(cell, t_max=t_max, delta_t=DT))

    _, by_key = neuron_cell(fname, ncomp)
    soma = by_key[_key(cell.xyzr[0][0, :3], cell.xyzr[0][-1, :3])]
    distal = by_key[_key(cell.xyzr[far][0, :3], cell.xyzr[far][-1, :3])]
    site = int(cell.branch(0).loc(0.5).nodes["global_comp_index"].iloc[0])  # branch 0 starts at 0
    stim = h.IClamp(soma((site + 0.5) / ncomp))
    stim.delay, stim.dur, stim.amp = 1.0, t_max, amp
    recs = []
    for seg in (soma((site + 0.5) / ncomp), distal((ncomp - 0.5) / ncomp)):
        vec = h.Vector()
        vec.record(seg._ref_v)
        recs.append(vec)
    h.usetable_hh = 0
    h.celsius = 6.3
    h.dt = DT
    h.secondorder = 0
    h.finitialize(V_INIT)
    for _ in range(ours.shape[1] - 1):
        h.fadvance()
    theirs = np.array([np.array(v) for v in recs])
    area_ours = float(cell.nodes["area"].sum())
    area_theirs = float(sum(seg.area() for sec in h.allsec() for seg in sec))
    return ours, theirs, area_ours, area_theirs
