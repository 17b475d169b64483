"""Ions, pumps and diffusion: CaPump, CaFaradayConcentrationChange, CaNernstReversal,
``module.diffuse``.

Traces are compared with the reference simulator (jaxley 0.14.0) through
``reference_traces/ions.npz``, written by ``reference_traces/make_ion_traces.py`` from the
model definitions in ``reference_traces/ion_models.py`` (shared with this test). The test does
not need jaxley; where it is installed, the tests marked slow recompute the reference at full
time resolution and compare every state step by step through ``build_init_and_step_fn``.

Semantics pinned down here (observed on the reference, see the step-by-step test):
* channels' state updates run before pumps' (whatever the insertion order), all with the
  start-of-step voltage and the previous step's membrane currents;
* a name that is both a parameter and a state (``eCa``: parameter of CaL/CaT, state of
  CaNernstReversal) is read by each mechanism from where it declares it: CaL's current uses
  the *parameter*, so the Nernst state does not feed back into the calcium current;
* pumps' currents are linearised in the concentration with the states after this step's
  updates but before the new membrane currents are stored, so CaPump uses the previous
  step's ``i_Ca``; pump currents are stored under their current names (summed with channel
  currents of the same name) but never enter the voltage equation;
* pumped, non-diffused ions: implicit Euler per compartment, for every solver; diffused
  states: the chosen solver on their own axial conductances; clamps of an ion win.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import channels, pumps
from simulator.integrate import build_init_and_step_fn
from simulator.pumps import (
    CaFaradayConcentrationChange,
    CaNernstReversal,
    CaPump,
    Pump,
    nernstreversal,
)

REF_DIR = Path(__file__).parents[1] / "reference_traces"
_spec = importlib.util.spec_from_file_location("ion_models", REF_DIR / "ion_models.py")
models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models)

#: Voltage tolerance (mV).
V_TOL = 1e-6
#: Calcium concentration tolerance (mM).
CA_TOL = 1e-10
#: Other recorded states: eCa (mV), currents (mA/cm², mM/ms), gates.
STATE_TOL = 1e-8
DT = models.DT

HAS_JAXLEY = importlib.util.find_spec("jaxley") is not None


def _tolerance(state: str) -> float:
    if state == "v":
        return V_TOL
    if state == "CaCon_i":
        return CA_TOL
    if state == "eCa":
        return 1e-7
    return STATE_TOL


def _check_rows(name, module, ours, ref):
    states = module.recordings["state"].tolist()
    assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
    assert np.all(np.isfinite(ref)) and np.all(np.isfinite(ours)), name
    for row, state in enumerate(states):
        err = np.max(np.abs(ours[row] - ref[row]))
        assert err <= _tolerance(state), f"{name}: {state} (row {row}) differs by {err:.3e}"


# ------------------------------------------------------------------- mechanism objects


# Observed on the reference's objects: channel_params, channel_states, current_name, ion_name.
EXPECTED = {
    CaPump: (
        {"CaPump_gamma": 0.05, "CaPump_decay": 80, "CaPump_depth": 0.1,
         "CaPump_minCaCon_i": 1e-4},
        {"i_Ca": 1e-8, "CaCon_i": 5e-5},
        "i_CaPump",
    ),
    CaFaradayConcentrationChange: ({}, {"i_Ca": 1e-8, "CaCon_i": 5e-5}, "i_CaCurrent"),
    CaNernstReversal: ({}, {"eCa": 0.0, "CaCon_i": 5e-5, "CaCon_e": 2.0}, "i_Ca"),
}


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_pump_names_and_defaults(cls):
    params, states, current = EXPECTED[cls]
    pump = cls()
    assert isinstance(pump, Pump) and isinstance(pump, channels.Channel)
    assert pump.name == cls.__name__
    assert pump.channel_params == params
    assert pump.channel_states == states
    assert pump.current_name == current
    assert pump.ion_name == "CaCon_i"
    renamed = cls().change_name("X")
    assert set(renamed.channel_params) == {k.replace(cls.__name__, "X") for k in params}


def test_nernst_constants_and_formula(x64):
    pump = CaNernstReversal()
    assert pump.channel_constants == {"F": 96485.3329, "T": 279.45, "R": 8.314}
    assert pump.channel_constants is not nernstreversal.CHANNEL_CONSTANTS
    states = {"CaCon_i": jnp.array([5e-5, 1e-3]), "CaCon_e": jnp.array([2.0, 2.0])}
    e = pump.update_states(states, DT, jnp.zeros(2), {})["eCa"]
    expected = 8.314 * 279.45 / (2 * 96485.3329) * 1000 * np.log(2.0 / np.array([5e-5, 1e-3]))
    np.testing.assert_allclose(e, expected, rtol=1e-14)
    np.testing.assert_allclose(e[0], 127.58241048793117, rtol=1e-14)  # observed on the reference
    pump.channel_constants["T"] = 300.0  # user-editable per instance
    e_warm = pump.update_states(states, DT, jnp.zeros(2), {})["eCa"]
    np.testing.assert_allclose(e_warm / e, 300.0 / 279.45, rtol=1e-14)


def test_pump_currents(x64):
    params = {"CaPump_gamma": 0.05, "CaPump_decay": 80.0, "CaPump_depth": 0.1,
              "CaPump_minCaCon_i": 1e-4, "radius": 2.0}
    states = {"i_Ca": jnp.array(-1.6e-4)}
    # -d[Ca]/dt = 1e4 i_Ca γ / (2 F depth) + (Ca - min) / decay, F = 96485.
    got = CaPump().compute_current(states, jnp.array(5e-5), params)
    np.testing.assert_allclose(got, -4.770722132974038e-06, rtol=1e-13)  # the reference's
    got = CaFaradayConcentrationChange().compute_current(states, jnp.array(5e-5), params)
    np.testing.assert_allclose(got, -1.6e-4 * (2 / 2.0) * 1e4 / 96485.3329 / 2, rtol=1e-14)
    assert CaNernstReversal().compute_current({}, jnp.array([5e-5]), {}).tolist() == [0.0]


def test_insert_registers_pumps():
    comp = jx.Compartment()
    comp.insert(channels.CaL())
    comp.insert(CaNernstReversal())
    comp.insert(CaPump())
    assert [p.name for p in comp.pumps] == ["CaNernstReversal", "CaPump"]
    # Inserting writes defaults into shared columns (as the reference): eCa = 0 now.
    assert comp.nodes["eCa"].iloc[0] == 0.0
    assert comp.nodes["i_Ca"].iloc[0] == 1e-8
    comp.record("i_CaPump", verbose=False)
    comp.record("CaCon_i", verbose=False)
    # The recording of the pump's current would fail in integrate: delete refuses (issue 13).
    with pytest.raises(ValueError, match="recordings of 'i_CaPump'"):
        comp.delete(CaPump())
    comp.delete_recordings()
    comp.record("CaCon_i", verbose=False)  # CaNernstReversal keeps CaCon_i: no refusal
    comp.delete(CaPump())
    assert [p.name for p in comp.pumps] == ["CaNernstReversal"]
    assert "CaCon_i" in comp.nodes.columns  # still used by CaNernstReversal


def test_pump_needs_ion_name():
    class NoIon(Pump):
        def __init__(self):
            super().__init__()
            self.channel_params, self.channel_states = {}, {"NoIon_c": 1.0}
            self.current_name = "i_NoIon"

    with pytest.raises(TypeError, match="ion_name"):
        jx.Compartment().insert(NoIon())


# ------------------------------------------------------------------- reference traces


@pytest.fixture(scope="module")
def reference():
    data = np.load(REF_DIR / "ions.npz")
    assert str(data["jaxley_version"]) == "0.14.0"
    return {k: data[k] for k in data.files if k != "jaxley_version"}


@pytest.mark.parametrize("name", models.MODELS)
def test_traces_match_reference(x64, reference, name):
    module = models.build(name, jx, channels, pumps)
    ours = np.asarray(models.simulate(name, jx, channels, pumps))[:, :: models.SUBSAMPLE]
    _check_rows(name, module, ours, reference[name])


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAXLEY, reason="needs the reference simulator (jaxley)")
@pytest.mark.parametrize("name", models.MODELS)
def test_traces_match_reference_live(x64, name):
    import jaxley
    import jaxley.channels
    import jaxley.pumps

    ref = np.asarray(models.simulate(name, jaxley, jaxley.channels, jaxley.pumps))
    module = models.build(name, jx, channels, pumps)
    ours = np.asarray(models.simulate(name, jx, channels, pumps))
    _check_rows(name, module, ours, ref)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAXLEY, reason="needs the reference simulator (jaxley)")
@pytest.mark.parametrize("name", ["ca_cell", "ca_cell_diffuse_bwd_euler", "faraday_comp"])
def test_step_states_match_reference(x64, name):
    """Every state (gates, ions, eCa, membrane and pump currents) after every step."""
    import jaxley
    import jaxley.channels
    import jaxley.pumps
    from jaxley.integrate import build_init_and_step_fn as ref_build

    runs = []
    for pkg, chans, pmps, build in ((jaxley, jaxley.channels, jaxley.pumps, ref_build),
                                    (jx, channels, pumps, build_init_and_step_fn)):
        module = models.build(name, pkg, chans, pmps)
        module.to_jax()
        init_fn, step_fn = build(module)
        states, params = init_fn(module.get_parameters())
        inds = {"i": np.asarray(module.external_inds["i"])}
        stim = np.asarray(module.externals["i"])
        step = jax.jit(lambda s, e, p=params, f=step_fn, i=inds: f(s, p, e, i))
        history = [dict(states)]
        for k in range(300):
            states = step(states, {"i": jnp.asarray(stim[:, k])})
            history.append(dict(states))
        runs.append((module, history))
    (_, ref), (module, ours) = runs
    comps = np.asarray(module._compiled.is_comp)
    assert set(ref[0]) == set(ours[0])
    for key in ref[0]:
        a = np.array([np.asarray(h[key]) for h in ref])[:, comps]
        b = np.array([np.asarray(h[key]) for h in ours])[:, comps]
        err = np.max(np.abs(a - b))
        assert err <= _tolerance(key), f"{key} differs by {err:.3e}"


# ------------------------------------------------------------------- semantics


def _calcium_comp(order):
    comp = jx.Compartment()
    for mech in order:
        comp.insert(mech)
    comp.set("CaL_gCaL", 1e-3)
    comp.set("v", -20.0)
    return comp


def _steps(module, n, solver="bwd_euler", externals=None):
    module.to_jax()
    init_fn, step_fn = build_init_and_step_fn(module, solver=solver)
    states, params = init_fn(module.get_parameters())
    history = [states]
    for _ in range(n):
        states = step_fn(states, params, externals or {}, {})
        history.append(states)
    return history, params


def test_step_order_observed_on_reference(x64):
    """Single-step values observed on the reference (CaL, CaNernstReversal, CaPump at -20 mV)."""
    comp = _calcium_comp([channels.CaL(), CaNernstReversal(), CaPump()])
    history, params = _steps(comp, 3)
    s0, s1, s2 = history[0], history[1], history[2]
    # Initial currents: CaL with eCa = 0 (the Nernst default overwrote the shared column);
    # the pump's current uses the node value of i_Ca (1e-8), not CaL's current.
    np.testing.assert_allclose(s0["i_Ca"], [-1.6e-4], rtol=1e-13)
    np.testing.assert_allclose(s0["i_CaPump"], [-6.247408923666892e-07], rtol=1e-12)
    # Step 1: Nernst from the old [Ca]; the pump used the previous i_Ca (-1.6e-4).
    np.testing.assert_allclose(s1["eCa"], [127.58241048793117], rtol=1e-13)
    np.testing.assert_allclose(s1["CaCon_i"], [5.011923079370132e-05], rtol=1e-13)
    np.testing.assert_allclose(s1["i_CaPump"], [-4.77072213297404e-06], rtol=1e-12)
    np.testing.assert_allclose(s1["v"], [-19.99563670607667], rtol=1e-13)
    np.testing.assert_allclose(s2["CaCon_i"], [5.0247859284136726e-05], rtol=1e-13)
    # CaL reads the parameter eCa (0 here), not the Nernst state (127.6 mV).
    for prev, new in ((s0, s1), (s1, s2)):
        g = 1e-3 * new["CaL_q"] ** 2 * new["CaL_r"]
        np.testing.assert_allclose(prev["v"] - new["i_Ca"] / g, [0.0], atol=1e-9)
    assert float(params["eCa"][0]) == 0.0


def test_channels_update_before_pumps(x64):
    """A channel that reads the state eCa sees the Nernst value of the previous step, whatever
    the insertion order (channels are stepped before pumps)."""

    class Probe(channels.Channel):
        def __init__(self, name=None):
            super().__init__(name)
            self.channel_params = {}
            self.channel_states = {"eCa": 0.0, "Probe_seen": 0.0}
            self.current_name = "i_Probe"

        def update_states(self, states, dt, v, params):
            return {"Probe_seen": states["eCa"]}

        def compute_current(self, states, v, params):
            return jnp.zeros_like(v)

    for order in ([Probe(), CaNernstReversal()], [CaNernstReversal(), Probe()]):
        comp = jx.Compartment()
        for mech in order:
            comp.insert(mech)
        history, _ = _steps(comp, 2)
        assert float(history[1]["Probe_seen"][0]) == 0.0
        np.testing.assert_allclose(history[2]["Probe_seen"], history[1]["eCa"], rtol=1e-15)


def test_pump_currents_not_in_voltage(x64):
    """A pump's current is stored under its current name (summed with channels') but does
    not drive the voltage."""

    class Leaky(Pump):
        def __init__(self, name=None):
            super().__init__(name)
            self.channel_params = {}
            self.channel_states = {"CaCon_i": 5e-5}
            self.ion_name = "CaCon_i"
            self.current_name = "i_Ca"

        def compute_current(self, states, ion, params):
            return jnp.full_like(ion, 1e-3)

    with_pump = _calcium_comp([channels.CaL(), Leaky()])
    without = _calcium_comp([channels.CaL()])
    a, _ = _steps(with_pump, 2)
    b, _ = _steps(without, 2)
    np.testing.assert_array_equal(a[2]["v"], b[2]["v"])
    np.testing.assert_allclose(a[2]["i_Ca"], b[2]["i_Ca"] + 1e-3, rtol=1e-12)
    # Implicit Euler with lin = 0, const = -1e-3: [Ca] drops by dt·1e-3 per step.
    np.testing.assert_allclose(a[1]["CaCon_i"], [5e-5 - DT * 1e-3], rtol=1e-12)


def test_local_ion_update_is_implicit_euler_for_every_solver(x64):
    branch = jx.Branch(jx.Compartment(), ncomp=2)
    branch.insert(CaPump())
    branch.comp(0).set("CaCon_i", 1e-3)
    for solver in ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler"):
        history, _ = _steps(branch, 1, solver=solver)
        c = np.array([1e-3, 5e-5])
        i_ca = 1e-8
        const = -1e4 * i_ca * 0.05 / (2 * 96485.0 * 0.1) + 1e-4 / 80
        np.testing.assert_allclose(history[1]["CaCon_i"][:2], (c + DT * const) / (1 + DT / 80),
                                   rtol=1e-12, err_msg=solver)


def test_pump_insertion_order_does_not_matter(x64):
    runs = []
    for order in ([CaPump(), CaFaradayConcentrationChange(), CaNernstReversal()],
                  [CaNernstReversal(), CaFaradayConcentrationChange(), CaPump()],
                  [CaFaradayConcentrationChange(), CaNernstReversal(), CaPump()]):
        cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 2, parents=[-1, 0])
        for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL(), *order):
            cell.insert(mech)
        cell.set("CaL_gCaL", 1e-3)
        cell.set("eCa", 120.0)
        cell.set("i_Ca", 1e-8)
        cell.diffuse("CaCon_i")
        cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 10.0, 0.05, DT, 15.0),
                                         verbose=False)
        for state in ("v", "CaCon_i", "eCa"):
            cell.record(state, verbose=False)
        runs.append(np.asarray(jx.integrate(cell, delta_t=DT)))
    for other in runs[1:]:
        np.testing.assert_allclose(other, runs[0], rtol=0, atol=1e-12)


def test_negative_calcium_regime(x64):
    """With eCa = 0 (CaNernstReversal inserted after CaL) and a large CaL conductance, the
    outward calcium current during spikes drives [Ca] below zero; the Nernst state eCa is then
    NaN (log of a negative number) exactly as in the reference. The voltage stays finite,
    because CaL reads the parameter eCa, not the state."""
    comp = jx.Compartment()
    for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL(), CaPump(),
                 CaNernstReversal()):
        comp.insert(mech)
    comp.set("CaL_gCaL", 5e-2)
    comp.set("v", -65.0)
    comp.stimulate(jx.step_current(5.0, 40.0, 0.05, DT, 60.0), verbose=False)
    for state in ("v", "CaCon_i", "eCa"):
        comp.record(state, verbose=False)
    v, ca, e_ca = np.asarray(jx.integrate(comp, delta_t=DT))
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(ca))
    assert ca.min() < 0
    # eCa of a step is computed from the concentration at the start of that step.
    np.testing.assert_array_equal(np.isnan(e_ca[1:]), ca[:-1] < 0)
    # Observed on the reference: min [Ca] -3.9125800242749745e-04 mM, 21 NaN samples of eCa.
    np.testing.assert_allclose(ca.min(), -3.9125800242749745e-04, rtol=1e-9)
    assert np.isnan(e_ca).sum() == 21


def test_ion_clamp_wins(x64):
    comp = _calcium_comp([channels.CaL(), CaPump(), CaNernstReversal()])
    comp.record("CaCon_i", verbose=False)
    comp.clamp("CaCon_i", np.full(5, 2e-4), verbose=False)
    ca = np.asarray(jx.integrate(comp, delta_t=DT))[0]
    np.testing.assert_array_equal(ca[1:], 2e-4)


# ------------------------------------------------------------------- diffusion


def _diffusion_cell(d=None, pump=True, t_max=30.0):
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=3)] * 3, parents=[-1, 0, 0])
    cell.branch(1).set("radius", 0.5)
    cell.branch(2).set("length", 25.0)
    for mech in (channels.Na(), channels.K(), channels.Leak(), channels.CaL()):
        cell.insert(mech)
    cell.set("CaL_gCaL", 1e-3)
    cell.set("eCa", 120.0)
    if pump:
        cell.branch(0).insert(CaPump())
    cell.insert(CaNernstReversal())
    if d is not None:
        cell.diffuse("CaCon_i")
        cell.set("axial_diffusion_CaCon_i", d)
    cell.branch(0).comp(0).set("CaCon_i", 1e-3)
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 20.0, 0.1, DT, t_max), verbose=False)
    cell.record("CaCon_i", verbose=False)
    cell.record("v", verbose=False)
    return cell


def test_diffuse_api():
    cell = _diffusion_cell()
    assert cell.diffusion_states == []
    with pytest.raises(ValueError, match="view"):
        cell.branch(0).diffuse("CaCon_i")
    with pytest.raises(ValueError, match="not a state"):
        cell.diffuse("foo")
    with pytest.raises(ValueError, match="diffuse"):
        cell.diffuse("v")
    cell2 = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 2, parents=[-1, 0])
    cell2.branch(0).insert(CaPump())
    cell2.diffuse("CaCon_i")
    assert cell2.diffusion_states == ["CaCon_i"]
    np.testing.assert_array_equal(cell2.nodes["axial_diffusion_CaCon_i"], 1.0)
    np.testing.assert_array_equal(cell2.nodes["CaCon_i"], [5e-5, 5e-5, 0.0, 0.0])  # NaN -> 0
    cell2.diffuse("CaCon_i")  # again: no duplicate
    assert cell2.diffusion_states == ["CaCon_i"]
    # out of range is accepted with a warning at set (jaxley accepts it), refused at compile
    with pytest.warns(jx.PhysicalRangeWarning, match=r"axial_diffusion_CaCon_i"):
        cell2.set("axial_diffusion_CaCon_i", 0.0)
    cell2.record("CaCon_i", verbose=False)
    with pytest.raises(ValueError, match="strictly positive"):
        jx.integrate(cell2, t_max=1.0)
    with pytest.raises(ValueError, match="not diffused"):
        cell2.delete_diffusion("i_Ca")
    cell2.delete_diffusion("CaCon_i")
    assert cell2.diffusion_states == []
    assert "axial_diffusion_CaCon_i" not in cell2.nodes.columns
    jx.integrate(cell2, t_max=1.0)


def test_diffusion_conductances(x64):
    """g = 1/((ρ_j/D_j + ρ_i/D_i) V_i) between compartments, D/ρ into branch points (values
    observed on the reference for this cell)."""
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 3, parents=[-1, 0, 0])
    cell.branch(1).set("radius", 2.0)
    cell.branch(2).set("length", 20.0)
    cell.insert(CaPump())
    cell.diffuse("CaCon_i")
    cell.branch(2).set("axial_diffusion_CaCon_i", 3.0)
    cell.to_jax()
    init_fn, _ = build_init_and_step_fn(cell)
    _, params = init_fn([])
    g = np.sort(np.asarray(params["axial_conductances"]["CaCon_i"]))
    expected = np.sort([0.01, 0.01, 0.01, 0.01, 0.0075, 0.0075, 0.02, 0.02, 0.015,
                        0.6283185307179586, 2.5132741228718345, 0.9424777960769379])
    np.testing.assert_allclose(g, expected, rtol=1e-13)
    assert "axial_diffusion_CaCon_i" in params


def test_high_diffusion_makes_calcium_uniform(x64):
    ca = np.asarray(jx.integrate(_diffusion_cell(d=1e4), delta_t=DT))[:9]
    spread = ca.max(axis=0) - ca.min(axis=0)
    assert spread[-1] < 1e-3 * ca[:, -1].mean()
    slow = np.asarray(jx.integrate(_diffusion_cell(d=0.1), delta_t=DT))[:9]
    assert (slow.max(axis=0) - slow.min(axis=0))[-1] > 100 * spread[-1]


def test_vanishing_diffusion_equals_no_diffusion(x64):
    without = np.asarray(jx.integrate(_diffusion_cell(d=None), delta_t=DT))
    tiny = np.asarray(jx.integrate(_diffusion_cell(d=1e-12), delta_t=DT))
    np.testing.assert_allclose(tiny[:9], without[:9], rtol=0, atol=1e-15)
    np.testing.assert_allclose(tiny[9:], without[9:], rtol=0, atol=1e-9)


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler"])
def test_diffusion_only_converges(x64, solver):
    """No sources: total amount Σ V c is conserved and c converges to its volume-weighted mean."""
    cell = _diffusion_cell(d=500.0, pump=False)
    cell.delete_stimuli()
    cell.set("v", -70.0)
    cell.set("CaL_gCaL", 0.0)
    cell.branch(2).comp(2).set("CaCon_i", 2e-3)
    cell.to_jax()
    init_fn, step_fn = build_init_and_step_fn(cell, solver=solver)
    states, params = init_fn([])
    comps = np.asarray(cell._compiled.is_comp)
    volume = np.asarray(params["volume"])[comps]
    c0 = np.asarray(states["CaCon_i"])[comps]
    total = volume @ c0
    run = jax.jit(lambda s: jax.lax.fori_loop(0, 4000, lambda _, x: step_fn(x, params, {}, {}),
                                              s))
    c = np.asarray(run(states)["CaCon_i"])[comps]
    np.testing.assert_allclose(volume @ c, total, rtol=1e-11)
    np.testing.assert_allclose(c, total / volume.sum(), rtol=1e-6)


def test_two_compartment_diffusion_exact(x64):
    """Backward Euler on two compartments: the difference decays by 1/(1 + dt(g12 + g21))."""
    branch = jx.Branch(jx.Compartment(), ncomp=2)
    branch.insert(CaNernstReversal())
    branch.diffuse("CaCon_i")
    branch.set("axial_diffusion_CaCon_i", 2.0)
    branch.comp(0).set("CaCon_i", 1e-3)
    history, params = _steps(branch, 10)
    g = np.asarray(params["axial_conductances"]["CaCon_i"])
    # r = 1, l = 10: ρ = 5/π, V = 10π: g = 1/((2ρ/D) V) = D/100 each way.
    np.testing.assert_allclose(g, [0.02, 0.02], rtol=1e-14)
    diff = [float(h["CaCon_i"][0] - h["CaCon_i"][1]) for h in history]
    np.testing.assert_allclose(diff, (1e-3 - 5e-5) / (1 + DT * 0.04) ** np.arange(11),
                               rtol=1e-12)


def test_diffusion_gradients(x64):
    """Gradients flow through the ion solve into the diffusion constant and pump parameters."""
    cell = _diffusion_cell(d=1.0, t_max=5.0)
    cell.delete_recordings()
    cell.branch(2).comp(2).record("CaCon_i", verbose=False)
    cell.make_trainable("axial_diffusion_CaCon_i", verbose=False)
    cell.branch(0).make_trainable("CaPump_decay", verbose=False)
    params = cell.get_parameters()

    def loss(p):
        return jnp.sum(jx.integrate(cell, params=p, t_max=5.0, delta_t=DT))

    grads = jax.grad(loss)(params)
    eps = 1e-3
    for i, key in enumerate(("axial_diffusion_CaCon_i", "CaPump_decay")):
        up = [dict(p) for p in params]
        down = [dict(p) for p in params]
        up[i][key] = params[i][key] * (1 + eps)
        down[i][key] = params[i][key] * (1 - eps)
        numeric = (loss(up) - loss(down)) / (2 * eps * params[i][key])
        assert np.isfinite(grads[i][key]).all()
        np.testing.assert_allclose(grads[i][key], numeric, rtol=2e-3)


def test_float32_runs():
    ca = np.asarray(jx.integrate(_diffusion_cell(d=1.0), delta_t=DT))
    assert ca.dtype == np.float32 and np.all(np.isfinite(ca))
