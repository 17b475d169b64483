"""Models of the ion test (calcium dynamics, pumps, diffusion), buildable with the simulator
*or* the reference.

``build(name, jx, channels, pumps)`` takes the package (``simulator`` or ``jaxley``) and its
``channels`` and ``pumps`` modules and returns a module with stimuli and recordings;
``simulate`` integrates it. Both :mod:`make_ion_traces` (which imports the reference) and
``test_ions.py`` (which does not) use these definitions, so the two always build the same
model.

Parameters keep the models physical: ``eCa`` (the *parameter* the calcium channels read) is
120 mV, so the calcium current is always inward and [Ca] stays positive. (With ``eCa = 0``,
which the reference writes when ``CaNernstReversal`` is inserted after ``CaL``, a large
``CaL_gCaL`` drives [Ca] negative during spikes and the Nernst ``eCa`` state becomes NaN;
see ``test_ions.py::test_negative_calcium_regime``.)
"""

from __future__ import annotations

import numpy as np

DT = 0.025  # ms
T_MAX = 60.0  # ms
#: Keep every SUBSAMPLE-th time point in the stored reference file.
SUBSAMPLE = 20

#: Solvers of the diffusion models ``ca_cell_diffuse_<solver>``.
DIFFUSION_SOLVERS = ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler")

MODELS = (
    "ca_comp",
    "ca_cell",
    *(f"ca_cell_diffuse_{s}" for s in DIFFUSION_SOLVERS),
    "faraday_comp",
    "clamp_ca",
    "diffuse_gate",
)


def _step(jx, amp, delay=5.0, dur=40.0):
    return jx.step_current(i_delay=delay, i_dur=dur, i_amp=amp, delta_t=DT, t_max=T_MAX)


def _record(module, states):
    for state in states:
        module.record(state, verbose=False)


def _cell(jx):
    """Three branches of two compartments (radii 1, 0.5, 0.8 µm), a fork at branch 0's end."""
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 3, parents=[-1, 0, 0])
    cell.branch(1).set("radius", 0.5)
    cell.branch(2).set("radius", 0.8)
    cell.branch(2).set("length", 20.0)
    return cell


def _calcium_channels(module, channels, pumps):
    for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL(), channels.CaT(),
                 pumps.CaPump(), pumps.CaNernstReversal()):
        module.insert(mech)
    module.set("CaL_gCaL", 1e-3)
    module.set("CaT_gCaT", 5e-4)
    module.set("eCa", 120.0)  # the channels' reversal (parameter); the state is Nernst's
    module.set("v", -65.0)


def _ca_comp(jx, channels, pumps):
    """One compartment with the calcium channels and pumps, a 0.02 nA step."""
    module = jx.Compartment()
    _calcium_channels(module, channels, pumps)
    module.stimulate(_step(jx, 0.02), verbose=False)
    _record(module, ["v", "CaCon_i", "eCa", "i_Ca", "i_CaPump", "CaL_q", "CaT_u"])
    return module


def _ca_cell(jx, channels, pumps):
    """The three-branch cell with the calcium channels and pumps, 0.06 nA into the root."""
    module = _cell(jx)
    _calcium_channels(module, channels, pumps)
    module.branch(0).comp(0).stimulate(_step(jx, 0.06), verbose=False)
    _record(module, ["v", "CaCon_i", "i_CaPump"])
    return module


def _ca_cell_diffuse(jx, channels, pumps):
    """The three-branch cell with diffusing calcium (the model of every diffusion solver)."""
    # CaPump only on branches 0 and 1: branch 2 gets calcium by diffusion alone.
    module = _cell(jx)
    for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL(),
                 channels.CaT(), pumps.CaNernstReversal()):
        module.insert(mech)
    module.branch(0).insert(pumps.CaPump())
    module.branch(1).insert(pumps.CaPump())
    module.set("CaL_gCaL", 1e-3)
    module.set("eCa", 120.0)
    module.set("v", -65.0)
    module.diffuse("CaCon_i")
    module.branch(2).set("axial_diffusion_CaCon_i", 0.3)
    module.branch(0).comp(0).set("CaCon_i", 5e-4)
    module.branch(0).comp(0).stimulate(_step(jx, 0.06), verbose=False)
    _record(module, ["v", "CaCon_i", "eCa"])
    return module


def _faraday_comp(jx, channels, pumps):
    """Two pumps on one ion: their linearisations add up."""
    module = jx.Compartment()
    for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL(),
                 pumps.CaFaradayConcentrationChange(), pumps.CaPump(),
                 pumps.CaNernstReversal()):
        module.insert(mech)
    module.set("CaL_gCaL", 5e-4)
    module.set("eCa", 120.0)
    module.set("radius", 2.0)
    module.set("v", -65.0)
    module.stimulate(_step(jx, 0.05), verbose=False)
    _record(module, ["v", "CaCon_i", "eCa", "i_Ca", "i_CaCurrent", "i_CaPump"])
    return module


def _clamp_ca(jx, channels, pumps):
    """A clamp of the ion wins over the pump's update; Nernst follows the clamp."""
    module = jx.Compartment()
    for mech in (channels.Leak(), channels.CaL(), pumps.CaPump(), pumps.CaNernstReversal()):
        module.insert(mech)
    module.set("CaL_gCaL", 1e-3)
    module.set("eCa", 120.0)
    module.set("v", -30.0)
    n_steps = int(T_MAX // DT + 1)
    module.clamp("CaCon_i", np.linspace(1e-4, 1e-3, n_steps), verbose=False)
    _record(module, ["v", "CaCon_i", "eCa", "i_CaPump"])
    return module


def _diffuse_gate(jx, channels, pumps):
    """A channel state diffuses (no pump: lin = const = 0)."""
    module = jx.Branch(jx.Compartment(), ncomp=4)
    module.insert(channels.HH())
    module.diffuse("HH_m")
    module.set("axial_diffusion_HH_m", 5.0)
    module.comp(0).set("HH_m", 0.9)
    module.comp(3).stimulate(_step(jx, 0.1), verbose=False)
    _record(module, ["v", "HH_m"])
    return module


#: The builder of each model; the ``ca_cell_diffuse_<solver>`` models share one (by prefix).
_BUILDERS = {"ca_comp": _ca_comp, "ca_cell": _ca_cell, "ca_cell_diffuse_": _ca_cell_diffuse,
             "faraday_comp": _faraday_comp, "clamp_ca": _clamp_ca,
             "diffuse_gate": _diffuse_gate}


def build(name: str, jx, channels, pumps):
    """The test model ``name`` built with package ``jx`` and its channel and pump modules."""
    key = "ca_cell_diffuse_" if name.startswith("ca_cell_diffuse_") else name
    if key not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}")
    return _BUILDERS[key](jx, channels, pumps)


def solver_of(name: str) -> str:
    if name.startswith("ca_cell_diffuse_"):
        return name[len("ca_cell_diffuse_"):]
    return "bwd_euler"


def simulate(name: str, jx, channels, pumps):
    """Recordings of model ``name`` (rows: recordings in order, columns: time points)."""
    kwargs = {"t_max": T_MAX} if name == "clamp_ca" else {}
    return jx.integrate(build(name, jx, channels, pumps), delta_t=DT, solver=solver_of(name),
                        **kwargs)
