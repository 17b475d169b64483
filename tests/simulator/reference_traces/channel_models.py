"""Models of the channel-library test, buildable with the simulator *or* the reference.

``build(name, jx, channels)`` takes the package (``simulator`` or ``jaxley``) and its
``channels`` module and returns a module with stimuli and recordings; ``simulate`` integrates
it. Both :mod:`make_channel_traces` (which imports the reference) and
``test_channel_library.py`` (which does not) use these definitions, so the two always build
the same model.
"""

from __future__ import annotations

import math

DT = 0.025  # ms
T_MAX = 60.0  # ms
#: Keep every SUBSAMPLE-th time point in the stored reference file.
SUBSAMPLE = 10
#: Compartment length (µm) that, with radius 1 µm, gives an area of 1e5 µm², so that
#: 1 nA of stimulus is 1 µA/cm² (the reference's trick for unit-free point models).
UNIT_LENGTH = 1.0 / (2.0 * math.pi * 1e-5)

#: Conductances (S/cm²) of the tested channel, raised above the defaults so that the
#: channel visibly shapes the trace within T_MAX.
EXTRA_CONDUCTANCE = {"Km": ("Km_gKm", 2e-3), "CaL": ("CaL_gCaL", 1e-3),
                     "CaT": ("CaT_gCaT", 5e-4)}

#: name -> states recorded besides "v" (one row per compartment each).
RECORDED_STATES = {
    "Km": ["Km_p", "i_K"],
    "CaL": ["CaL_q", "CaL_r", "i_Ca"],
    "CaT": ["CaT_u", "i_Ca"],
    "Izhikevich": ["Izhikevich_u"],
    "Fire": ["Fire_spikes"],
    "Rate": [],
    "AdEx": ["AdEx_w"],
}

#: Model names: "<channel>_comp" / "<channel>_cell" for the Pospischil channels (with Na,
#: K, Leak), and the point models.
MODELS = [f"{ch}_{kind}" for ch in ("Km", "CaL", "CaT") for kind in ("comp", "cell")] + [
    "Izhikevich",
    "Fire",
    "Rate",
    "AdEx",
]


def _step(jx, amp, delay=5.0, dur=40.0):
    return jx.step_current(i_delay=delay, i_dur=dur, i_amp=amp, delta_t=DT, t_max=T_MAX)


def _record(module, states):
    for state in ["v", *states]:
        module.record(state, verbose=False)


def build(name: str, jx, channels):
    """The test model ``name`` built with package ``jx`` and its ``channels`` module."""
    if name.endswith(("_comp", "_cell")):
        ch, kind = name.rsplit("_", 1)
        if kind == "comp":
            module = jx.Compartment()
        else:
            module = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 2, parents=[-1, 0])
        for channel in (channels.Na(), channels.K(), channels.Leak(), getattr(channels, ch)()):
            module.insert(channel)
        key, value = EXTRA_CONDUCTANCE[ch]
        module.set(key, value)
        module.set("v", -70.0)
        if kind == "comp":
            module.stimulate(_step(jx, 0.02), verbose=False)
        else:
            module.branch(0).comp(0).stimulate(_step(jx, 0.06), verbose=False)
        _record(module, RECORDED_STATES[ch])
        return module

    module = jx.Compartment()
    if name == "Izhikevich":
        module.set("length", UNIT_LENGTH)
        module.insert(channels.Izhikevich())
        module.set("v", -70.0)
        module.init_states()  # u = b v
        module.stimulate(_step(jx, 10.0), verbose=False)
    elif name == "Fire":
        module.insert(channels.Leak())
        module.insert(channels.Fire())
        module.set("Leak_gLeak", 1e-3)
        module.stimulate(_step(jx, 0.015), verbose=False)
    elif name == "Rate":
        module.set("length", UNIT_LENGTH)
        module.insert(channels.Rate())
        module.set("Rate_tau", 5.0)
        module.stimulate(_step(jx, 2.0), verbose=False)
    elif name == "AdEx":
        module.insert(channels.AdEx())
        module.set("capacitance", 200.0)
        module.set("AdEx_b", 20.0)
        module.set("v", -70.0)
        module.stimulate(_step(jx, 0.45), verbose=False)
    else:
        raise ValueError(f"unknown model {name!r}")
    _record(module, RECORDED_STATES[name])
    return module


def simulate(name: str, jx, channels):
    """Recordings of model ``name`` (rows: recordings in order, columns: time points)."""
    return jx.integrate(build(name, jx, channels), delta_t=DT)
