"""The same cells in NEURON (``insert extracellular``, e_extracellular assigned per segment
before every fadvance; ``i_membrane_`` recorded) and here (``add_electrode`` +
``stimulate_extracellular``): a ball-and-stick cell and the CA1 morphology."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neuron_swc import _key, neuron_cell

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

    h.load_file("stdrun.hoc")
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


def float32_swc(source: Path, folder: Path) -> str:
    """A copy of the SWC file ``source`` in ``folder`` with coordinates and radii rounded
    to float32, which is how NEURON stores 3-D points: both simulators then read the same
    numbers (without it the geometries differ by ~1e-7 relative, ~3e-6 mV in V_m)."""
    lines = []
    for line in Path(source).read_text().splitlines():
        fields = line.split()
        if line.startswith("#") or len(fields) != 7:
            lines.append(line)
            continue
        values = [repr(float(np.float32(float(v)))) for v in fields[2:6]]
        lines.append(" ".join([*fields[:2], *values, fields[6]]))
    path = Path(folder) / Path(source).name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def ca1(fname: str, ncomp: int):
    """The CA1 cell (HH everywhere, as ``neuron_swc.neuron_cell``) read from ``fname``."""
    cell = jx.read_swc(fname, ncomp, backend="neuron")
    cell.set("axial_resistivity", RA)
    cell.insert(HH())
    cell.set("v", V_INIT)
    cell.init_states()
    return cell


def neuron_ca1(fname: str, ncomp: int, cell):
    """NEURON's sections of ``fname`` (Import3d) in the branch order of ``cell``."""
    _, by_key = neuron_cell(fname, ncomp)
    return [by_key[_key(x[0, :3], x[-1, :3])] for x in cell.xyzr]


def _setup(secondorder: int):
    from neuron import h

    h.load_file("stdrun.hoc")
    h.usetable_hh = 0
    h.celsius = 6.3
    h.dt = DT
    h.secondorder = secondorder
    h.finitialize(V_INIT)


def _recorded(segs, ref: str):
    from neuron import h

    vectors = []
    for seg in segs:
        vec = h.Vector()
        vec.record(getattr(seg, ref))
        vectors.append(vec)
    return vectors


def run_neuron_imem(sections, site: int, amp: float, n_steps: int, delay: float = 1.0,
                    dur: float = 5.0):
    """i_membrane_ (n_comps, n_steps + 1) nA of ``sections`` (segments in our compartment
    order) with ``cvode.use_fast_imem(1)`` and an IClamp of ``amp`` nA at segment ``site``."""
    from neuron import h

    segs = [seg for sec in sections for seg in sec]
    for sec in sections:
        sec.insert("extracellular")
    stim = h.IClamp(segs[site])
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    h.CVode().use_fast_imem(1)
    vectors = _recorded(segs, "_ref_i_membrane_")
    _setup(0)
    for _ in range(n_steps):
        h.fadvance()
    out = np.array([np.array(v) for v in vectors])
    h.CVode().use_fast_imem(0)
    return out


def run_neuron(sections, v_e, secondorder: int):
    """V_m (n_comps, n_steps + 1) of ``sections`` (segments in our compartment order) with
    e_extracellular = ``v_e`` (n_comps, n_steps) mV assigned before each fadvance; the
    section-end nodes get the value of their last segment."""
    from neuron import h

    segs = [seg for sec in sections for seg in sec]
    for sec in sections:
        sec.insert("extracellular")
    vectors = _recorded(segs, "_ref_v")
    _setup(secondorder)
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
