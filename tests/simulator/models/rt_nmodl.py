"""NEURON oracle of the Rubin & Terman (2004) channels and synapse: NMODL sources and a driver.

The NMODL below is written from the equations of :mod:`simulator.models.basal_ganglia`
(``rt_cell.py``, ``stn.py``, ``pallidum.py``, ``thalamus.py``, ``synapse.py``) in the same
units: conductances S/cm², density currents mA/cm² (``NONSPECIFIC_CURRENT``), synaptic
conductance µS and current nA, Ca in RT's dimensionless units (its equation counts currents
in µA/cm², hence the factor 1000).

Integration: ``SOLVE ... METHOD cnexp``. nocmodl turns each ``x' = a + b·x`` of a
DERIVATIVE block into ``x = x + (1 − exp(b·dt))·(−a/b − x)`` in the order the statements
are written, so statements after an equation see its updated state. The Ca equation is
written after the gates and its currents are computed from the updated r, which is the
order of ``RTCell.update_states`` (gates n, h, r, then Ca with the new r). Ca' is linear
in Ca with every other term frozen, so cnexp takes it (b = −ε·kCa, −a/b = Ca∞): the same
exact step as ``relax`` (which computes 1 − exp as −expm1; equal to float64 rounding). The
synapse starts at its steady state s∞ at the presynaptic start voltage (the test sets the
same in ours), as the gates do. The instantaneous gates (m∞, a∞, s∞, p∞) are recomputed in
BREAKPOINT, so NEURON's di/dv (a forward difference of 0.001 mV) sees them.

Run as a script (in a subprocess, to keep NEURON's loaded mechanisms away from other tests)::

    python rt_nmodl.py MOD_DIR CASES.json OUT.npz

``CASES.json``: ``{name: case}`` with case keys ``cells`` (list of ``{"mech", "v0",
"steps": [[delay ms, dur ms, amp nA], ...]}``), ``dt`` (ms), ``n_steps`` and optional
``synapse`` (``{"pre", "post", params of RTsyn}``). ``OUT.npz``: ``{name: (n_cells,
n_steps + 1) mV}``.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

#: Geometry of every cell of the network (``network.py``): 10 µm long, radius 5/π µm.
LENGTH_UM, DIAM_UM = 10.0, 10.0 / math.pi

_RT_CELL = """
NEURON {
    SUFFIX %(suffix)s
    NONSPECIFIC_CURRENT i
    RANGE gL, gK, gNa, gT, gCa, gAHP, eL, eK, eNa, eCa, k1, kCa, eps
    RANGE phi_n, phi_h, phi_r, i_app
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (S) = (siemens)
}
PARAMETER {
%(params)s
}
ASSIGNED {
    v (mV)
    i (mA/cm2)
    minf hinf ninf rinf ainf sinf
    taun (ms) tauh (ms) taur (ms)
    ica_sum (mA/cm2)
}
STATE { n h r Ca }
BREAKPOINT {
    SOLVE states METHOD cnexp
    rates(v)
    i = gL*(v - eL) + gK*n^4*(v - eK) + gNa*minf^3*h*(v - eNa)
        + ca_currents(v, r) + gAHP*(v - eK)*Ca/(Ca + k1) - i_app
}
INITIAL {
    rates(v)
    n = ninf
    h = hinf
    r = rinf
    Ca = -1000*ca_currents(v, r)/kCa
    if (Ca < 0) { Ca = 0 }
}
DERIVATIVE states {
    rates(v)
    n' = phi_n*(ninf - n)/taun
    h' = phi_h*(hinf - h)/tauh
    r' = phi_r*(rinf - r)/taur
    ica_sum = ca_currents(v, r)
    Ca' = eps*(-1000*ica_sum - kCa*Ca)
}
FUNCTION sig(u) {
    sig = 1/(1 + exp(-u))
}
FUNCTION ca_currents(vm (mV), rr) (mA/cm2) {
    ca_currents = (gT*ainf^3*%(t_factor)s + gCa*sinf^2)*(vm - eCa)
}
PROCEDURE rates(vm (mV)) {
%(rates)s
}
"""

_STN = {
    "suffix": "rtstn",
    "params": """    gL = 2.25e-3 (S/cm2)  gK = 45e-3 (S/cm2)  gNa = 37.5e-3 (S/cm2)
    gT = 0.5e-3 (S/cm2)  gCa = 0.5e-3 (S/cm2)  gAHP = 9e-3 (S/cm2)
    eL = -60 (mV)  eK = -80 (mV)  eNa = 55 (mV)  eCa = 140 (mV)
    k1 = 15  kCa = 22.5  eps = 3.75e-5
    phi_n = 0.75  phi_h = 0.75  phi_r = 0.5  i_app = 25e-3 (mA/cm2)""",
    # b∞(r)² with b∞(r) = σ((r − 0.25)/0.07) − σ(−0.25/0.07).
    "t_factor": "(sig((rr - 0.25)/0.07) - sig(-0.25/0.07))^2",
    "rates": """    minf = sig((vm + 30)/15)
    hinf = sig(-(vm + 39)/3.1)
    ninf = sig((vm + 32)/8)
    rinf = sig(-(vm + 67)/2)
    ainf = sig((vm + 63)/7.8)
    sinf = sig((vm + 39)/8)
    taun = 1 + 100*sig(-(vm + 80)/26)
    tauh = 1 + 500*sig(-(vm + 57)/3)
    taur = 7.1 + 17.5*sig(-(vm - 68)/2.2)""",
}

_GP = {
    "suffix": "rtgp",
    "params": """    gL = 0.1e-3 (S/cm2)  gK = 30e-3 (S/cm2)  gNa = 120e-3 (S/cm2)
    gT = 0.5e-3 (S/cm2)  gCa = 0.1e-3 (S/cm2)  gAHP = 30e-3 (S/cm2)
    eL = -55 (mV)  eK = -80 (mV)  eNa = 55 (mV)  eCa = 120 (mV)
    k1 = 30  kCa = 15  eps = 1e-4
    phi_n = 0.1  phi_h = 0.05  phi_r = 1  i_app = 2e-3 (mA/cm2)""",
    "t_factor": "rr",
    "rates": """    minf = sig((vm + 37)/10)
    hinf = sig(-(vm + 58)/12)
    ninf = sig((vm + 50)/14)
    rinf = sig(-(vm + 70)/2)
    ainf = sig((vm + 57)/2)
    sinf = sig((vm + 35)/2)
    taun = 0.05 + 0.27*sig(-(vm + 40)/12)
    tauh = taun
    taur = 30""",
}

_TC = """
NEURON {
    SUFFIX rttc
    NONSPECIFIC_CURRENT i
    RANGE gL, gNa, gK, gT, eL, eNa, eK, eT, phi_r, a_r, i_app
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (S) = (siemens)
}
PARAMETER {
    gL = 0.05e-3 (S/cm2)  gNa = 3e-3 (S/cm2)  gK = 5e-3 (S/cm2)  gT = 5e-3 (S/cm2)
    eL = -70 (mV)  eNa = 50 (mV)  eK = -90 (mV)  eT = 0 (mV)
    phi_r = 5.5  a_r = 0.3  i_app = 0 (mA/cm2)
}
ASSIGNED {
    v (mV)
    i (mA/cm2)
    minf pinf hinf rinf tauh (ms) taur_base (ms)
}
STATE { h r }
BREAKPOINT {
    SOLVE states METHOD cnexp
    rates(v)
    i = gL*(v - eL) + gNa*minf^3*h*(v - eNa) + gK*(0.75*(1 - h))^4*(v - eK)
        + gT*pinf^2*r*(v - eT) - i_app
}
INITIAL {
    rates(v)
    h = hinf
    r = rinf
}
DERIVATIVE states {
    rates(v)
    h' = (hinf - h)/tauh
    r' = phi_r*(rinf - r)/taur_base
}
FUNCTION sig(u) {
    sig = 1/(1 + exp(-u))
}
PROCEDURE rates(vm (mV)) {
    minf = sig((vm + 37)/7)
    pinf = sig((vm + 60)/6.2)
    hinf = sig(-(vm + 41)/4)
    rinf = sig(-(vm + 84)/4)
    tauh = 1/(0.128*exp(-(vm + 46)/18) + 4*sig((vm + 23)/5))
    taur_base = 28 + a_r*exp(-(vm + 25)/10.5)
}
"""

_SYNAPSE = """
NEURON {
    POINT_PROCESS RTsyn
    POINTER vpre
    NONSPECIFIC_CURRENT i
    RANGE gS, e_syn, alpha, beta, theta_g, theta_H, sigma_H
}
UNITS {
    (mV) = (millivolt)
    (nA) = (nanoamp)
    (uS) = (microsiemens)
}
PARAMETER {
    gS = 1e-3 (uS)  e_syn = 0 (mV)  alpha = 5 (/ms)  beta = 1 (/ms)
    theta_g = 30 (mV)  theta_H = -39 (mV)  sigma_H = 8 (mV)
}
ASSIGNED {
    v (mV)
    vpre (mV)
    i (nA)
    hinf
}
STATE { s }
INITIAL {
    release(vpre)
    s = alpha*hinf/(alpha*hinf + beta)
}
BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    i = gS*s*(v - e_syn)
}
DERIVATIVE kinetics {
    release(vpre)
    s' = alpha*hinf*(1 - s) - beta*s
}
PROCEDURE release(vp (mV)) {
    hinf = 1/(1 + exp(-(vp - theta_g - theta_H)/sigma_H))
}
"""

#: File name -> NMODL source.
SOURCES = {"rtstn.mod": _RT_CELL % _STN, "rtgp.mod": _RT_CELL % _GP, "rttc.mod": _TC,
           "rtsyn.mod": _SYNAPSE}


def write_sources(folder) -> None:
    """Write every NMODL file of :data:`SOURCES` into ``folder`` (a pathlib.Path)."""
    for name, text in SOURCES.items():
        (folder / name).write_text(text)


def _cell(h, spec):
    sec = h.Section()
    sec.nseg, sec.L, sec.diam, sec.cm, sec.Ra = 1, LENGTH_UM, DIAM_UM, 1.0, 100.0
    sec.insert(spec["mech"])
    clamps = []
    for delay, dur, amp in spec.get("steps", []):
        clamp = h.IClamp(sec(0.5))
        clamp.delay, clamp.dur, clamp.amp = delay, dur, amp
        clamps.append(clamp)
    return sec, clamps


def run_case(h, case) -> np.ndarray:
    """(n_cells, n_steps + 1) voltages (mV) of one case (keys: see the module)."""
    cells = [_cell(h, spec) for spec in case["cells"]]
    keep = []
    if "synapse" in case:
        spec = dict(case["synapse"])
        pre, post = cells[spec.pop("pre")][0], cells[spec.pop("post")][0]
        syn = h.RTsyn(post(0.5))
        for key, value in spec.items():
            setattr(syn, key, value)
        syn._ref_vpre = pre(0.5)._ref_v
        keep.append(syn)
    vectors = []
    for sec, _ in cells:
        vec = h.Vector()
        vec.record(sec(0.5)._ref_v)
        vectors.append(vec)
    h.dt, h.secondorder = case["dt"], 0
    for (sec, _), spec in zip(cells, case["cells"], strict=True):
        sec.v = spec["v0"]
    h.finitialize()
    for _ in range(case["n_steps"]):
        h.fadvance()
    return np.array([np.array(vec) for vec in vectors])


def main(mod_dir: str, cases_json: str, out: str) -> None:
    import neuron
    from neuron import h

    neuron.load_mechanisms(mod_dir)
    h.load_file("stdrun.hoc")
    h.usetable_hh = 0
    h.celsius = 6.3
    with open(cases_json) as f:
        cases = json.load(f)
    np.savez(out, **{name: run_case(h, case) for name, case in cases.items()})


if __name__ == "__main__":
    main(*sys.argv[1:4])
