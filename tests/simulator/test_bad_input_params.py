"""Parameter values outside their declared ranges, at every entry point (``set``,
``data_set``, ``make_trainable``, ``integrate``/``init_fn`` params): non-finite values are
refused, finite out-of-range values warned about (PhysicalRangeWarning, issue 17) and
singular geometry refused by a run, each message naming the parameter (issue 13, §3); and
the ranges themselves (:mod:`simulator.param_ranges`)."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import channels, pumps, synapses
from simulator.param_ranges import (
    ANY,
    GATE,
    Range,
    check_parameter,
    check_parameters,
    in_range,
    inferred_range,
    mechanisms_of,
    parameter_ranges,
)
from simulator.physical_range import SINGULAR_WHEN_NOT_POSITIVE, PhysicalRangeWarning

# (key, bad value, expected message fragment): non-finite values are refused everywhere.
BAD_VALUES = [
    ("HH_gLeak", np.nan, r"HH_gLeak got non-finite values"),
    ("HH_eNa", np.inf, r"HH_eNa got non-finite values"),
    ("v", np.nan, r"v got non-finite values"),
]
# Finite values outside the physical range: accepted with a PhysicalRangeWarning (jaxley
# accepts them; its graph tutorial sets negative HH_gNa). Each was refused before (issue 17).
OUT_OF_RANGE = [
    ("HH_gNa", -0.1, r"HH_gNa should be a finite conductance ≥ 0 \(S/cm²\)"),
    ("HH_gK", -1e-9, r"HH_gK should be a finite conductance ≥ 0"),
    ("HH_m", 5.0, r"HH_m should be a finite gate \(open fraction\) in \[0, 1\]"),
    ("HH_h", -0.01, r"HH_h should be a finite gate"),
    ("HH_n", 1.5, r"HH_n should be a finite gate"),
    ("radius", -1.0, r"radius should be a finite radius ≥ 0.0001 \(µm\)"),
    ("radius", 1e-5, r"radius should be a finite radius ≥ 0.0001"),
    ("length", 0.0, r"length should be a finite length ≥ 0.0001"),
    ("capacitance", 1e-30, r"capacitance should be a finite membrane capacitance ≥ 0.001"),
    ("axial_resistivity", 1e-9, r"axial_resistivity should be a finite axial resistivity"),
]
BAD_TYPES = [
    ("radius", True, r"radius must be a real number, not a bool"),
    ("HH_gNa", 0.1 + 0j, r"HH_gNa must be a real number, not complex"),
    ("HH_gNa", "abc", r"HH_gNa must be a real number"),
    ("capacitance", None, r"capacitance must be a real number"),
    ("length", np.array([True, False]), r"length must be real numbers, not booleans"),
    ("v", {}, r"v must be a real number"),
]

# AdEx() warns that its spike reset has no surrogate gradient (asserted in
# tests/simulator/channels/test_channel_library.py); here it is one mechanism among all.
pytestmark = pytest.mark.filterwarnings("ignore:The AdEx channel has no surrogate gradient")


def hh_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(channels.HH())
    cell.branch(0).loc(0.0).record(verbose=False)
    return cell


# ================================================================== entry points
@pytest.mark.parametrize("key, value, match", BAD_VALUES)
def test_set_refuses(key, value, match):
    cell = hh_cell()
    before = cell.nodes[key].to_numpy().copy()
    with pytest.raises(ValueError, match=rf"set\('{key}'\): {match}"):
        cell.set(key, value)
    np.testing.assert_array_equal(cell.nodes[key].to_numpy(), before)


@pytest.mark.parametrize("key, value, match", OUT_OF_RANGE)
def test_set_warns_and_writes_out_of_range(key, value, match):
    cell = hh_cell()
    with pytest.warns(PhysicalRangeWarning, match=rf"set\('{key}'\): {match}") as record:
        cell.set(key, value)
    assert record[0].filename == __file__  # attributed to the caller's line
    np.testing.assert_array_equal(cell.nodes[key].to_numpy(), value)


@pytest.mark.parametrize("key, value, match", BAD_TYPES)
def test_set_refuses_wrong_types(key, value, match):
    with pytest.raises(TypeError, match=match):
        hh_cell().set(key, value)


@pytest.mark.parametrize("key, value, match", BAD_VALUES)
def test_data_set_refuses(key, value, match):
    """data_set("HH_gK", nan) gave NaN traces silently (set refused NaN)."""
    with pytest.raises(ValueError, match=rf"data_set\('{key}'\): {match}"):
        hh_cell().data_set(key, value, None)


@pytest.mark.parametrize("key, value, match", OUT_OF_RANGE)
def test_data_set_warns(key, value, match):
    with pytest.warns(PhysicalRangeWarning, match=rf"data_set\('{key}'\): {match}"):
        hh_cell().data_set(key, value, None)


@pytest.mark.parametrize("key, value, match", BAD_TYPES[:2])
def test_data_set_refuses_wrong_types(key, value, match):
    with pytest.raises(TypeError, match=match):
        hh_cell().data_set(key, value, None)


@pytest.mark.parametrize("key, value, match", BAD_VALUES)
def test_make_trainable_init_val_refuses(key, value, match):
    cell = hh_cell()
    with pytest.raises(ValueError, match=rf"make_trainable init_val: {match}"):
        cell.make_trainable(key, value, verbose=False)
    assert cell.num_trainable_params == 0


@pytest.mark.parametrize("key, value, match", OUT_OF_RANGE)
def test_make_trainable_init_val_warns(key, value, match):
    cell = hh_cell()
    with pytest.warns(PhysicalRangeWarning, match=rf"make_trainable init_val: {match}"):
        cell.make_trainable(key, value, verbose=False)
    assert cell.num_trainable_params == 1


@pytest.mark.parametrize("key, value, match", BAD_VALUES)
def test_integrate_params_refuse(key, value, match):
    cell = hh_cell()
    cell.make_trainable(key, verbose=False)
    with pytest.raises(ValueError, match=rf"params\[0\]: {match}"):
        jx.integrate(cell, params=[{key: jnp.array([value])}], t_max=0.5)


# A run with these cannot give numbers (zero or negative area, capacitance, ...): refused.
SINGULAR = [(k, v, m) for k, v, m in OUT_OF_RANGE if v <= 0 and k in SINGULAR_WHEN_NOT_POSITIVE]


@pytest.mark.parametrize("key, value", [(k, v) for k, v, _ in SINGULAR])
def test_integrate_params_refuse_singular_geometry(key, value):
    """Refused, and not also warned about as "accepted": the suite makes a
    PhysicalRangeWarning an error, which ``pytest.raises(ValueError)`` would not catch."""
    cell = hh_cell()
    cell.make_trainable(key, verbose=False)
    with pytest.raises(
            ValueError, match=rf"params\[0\]: {key} must be > 0 to simulate .* 0 \({value:g}\)"):
        jx.integrate(cell, params=[{key: jnp.array([value])}], t_max=0.5)


@pytest.mark.parametrize("key, value, match", BAD_VALUES[:2] + SINGULAR[:1])
def test_init_fn_params_refuse(key, value, match):
    cell = hh_cell()
    cell.make_trainable(key, verbose=False)
    init_fn, _ = jx.build_init_and_step_fn(cell)
    with pytest.raises(ValueError, match=rf"params\[0\]: {key}"), warnings.catch_warnings():
        warnings.simplefilter("ignore", PhysicalRangeWarning)
        init_fn([{key: jnp.array([value])}])


def test_values_in_range_still_work():
    """The bounds leave room: a 0.01 µm compartment, zero conductance, gate at 0 and 1."""
    cell = hh_cell()
    cell.set("length", 0.01)
    cell.set("HH_gNa", 0.0)
    cell.set("HH_m", 1.0)
    cell.set("HH_h", 0.0)
    cell.set("capacitance", 1e-3)
    ps = cell.data_set("radius", 1e-4, None)
    out = jx.integrate(cell, param_state=ps, t_max=0.5)
    assert bool(jnp.all(jnp.isfinite(out)))


def test_write_trainables_goes_through_the_check():
    cell = hh_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    with pytest.warns(PhysicalRangeWarning, match=r"HH_gNa should be a finite conductance ≥ 0"):
        cell.write_trainables([{"HH_gNa": jnp.array([-1.0])}])


def test_traced_values_are_left_to_the_checked_mode():
    """data_set inside jit: only the dtype is checked before tracing."""
    cell = hh_cell()

    @jax.jit
    def run(g):
        return jx.integrate(cell, param_state=cell.data_set("HH_gK", g, None), t_max=0.5)

    assert bool(jnp.all(jnp.isfinite(run(0.036))))
    with pytest.raises(TypeError, match=r"HH_gK must be real numbers, not booleans"):
        jax.jit(lambda b: cell.data_set("HH_gK", b, None))(jnp.array(True))


@pytest.mark.parametrize(
    "mechanism, key, value, match",
    [
        (pumps.CaPump(), "CaPump_gamma", 1.5, r"free calcium fraction in \[0, 1\]"),
        (pumps.CaPump(), "CaPump_decay", 0.0, r"time constant > 0 \(ms\)"),
        (pumps.CaPump(), "CaCon_i", -1e-5, r"concentration ≥ 0 \(mM\)"),
        (channels.Km(), "Km_taumax", -1.0, r"time constant > 0"),
        (channels.CaT(), "CaT_u", 2.0, r"gate"),
        (channels.Izhikevich(), "Izhikevich_a", 0.0, r"rate > 0 \(1/ms\)"),
        (channels.AdEx(surrogate_warning=False), "AdEx_delta_T", 0.0,
         r"slope factor > 0 \(mV\)"),
        (channels.Fire(), "Fire_spikes", 2.0, r"spike indicator"),
        (channels.Rate(), "Rate_tau", -1.0, r"time constant"),
    ],
)
def test_set_refuses_per_mechanism(mechanism, key, value, match):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), [-1])
    if isinstance(mechanism, pumps.CaPump):
        cell.insert(channels.CaL())
    cell.insert(mechanism)
    with pytest.warns(PhysicalRangeWarning, match=rf"set\('{key}'\): {key} should be .*{match}"):
        cell.set(key, value)


def test_synapse_ranges_through_integrate():
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 1), [-1]) for _ in range(2)]
    net = jx.Network(cells)
    net.insert(channels.HH())
    net.cell(1).branch(0).comp(0).record(verbose=False)
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(0).comp(0),
               synapses.IonotropicSynapse())
    net.make_trainable("IonotropicSynapse_gS", verbose=False)
    with pytest.warns(PhysicalRangeWarning, match=r"params\[0\]: IonotropicSynapse_gS should be"
                                                  r" a finite conductance ≥ 0 \(µS\)"):
        jx.integrate(net, params=[{"IonotropicSynapse_gS": jnp.array([-1.0])}], t_max=0.5)
    entry = {"key": "IonotropicSynapse_s", "val": jnp.array([0.5]), "indices": jnp.array([[1]])}
    with pytest.raises(ValueError, match=r"indices of 'IonotropicSynapse_s' must lie in \[0, 1\)"
                                         r" \(the module's synapses\)"):
        jx.integrate(net, param_state=[entry], t_max=0.5)


# ================================================================== the ranges
ALL_MECHANISMS = [
    channels.HH, channels.Na, channels.K, channels.Leak, channels.Km, channels.CaL,
    channels.CaT, channels.Fire, channels.Izhikevich, channels.Rate, channels.AdEx,
    synapses.IonotropicSynapse, synapses.TanhRateSynapse, synapses.TanhConductanceSynapse,
    pumps.CaPump, pumps.CaFaradayConcentrationChange, pumps.CaNernstReversal,
]


def tables(mechanism) -> tuple[dict, dict]:
    """(parameters, states) of a channel, pump or synapse."""
    if isinstance(mechanism, synapses.Synapse):
        return mechanism.synapse_params, mechanism.synapse_states
    return mechanism.channel_params, mechanism.channel_states


@pytest.mark.parametrize("cls", ALL_MECHANISMS, ids=lambda c: c.__name__)
def test_every_builtin_default_lies_in_its_range(cls):
    mechanism = cls()
    params, states = tables(mechanism)
    for key, value in {**params, **states}.items():
        check_parameter(key, value, [mechanism])  # raises if a default is out of range


@pytest.mark.parametrize("cls", ALL_MECHANISMS, ids=lambda c: c.__name__)
def test_declarations_name_real_keys(cls):
    """A declared key that is no parameter or state of the mechanism is a typo."""
    mechanism = cls()
    params, states = tables(mechanism)
    suffixes = {k[len(mechanism.name) + 1:] if k.startswith(mechanism.name + "_") else k
                for k in {**params, **states}}
    assert set(cls.param_ranges) <= suffixes


def test_every_conductance_and_gate_of_the_builtins_is_bounded():
    for cls in ALL_MECHANISMS:
        mechanism = cls()
        params, _ = tables(mechanism)
        for key in params:
            suffix = key[len(mechanism.name) + 1:]
            if suffix.startswith("g") and (len(suffix) == 1 or not suffix[1].islower()):
                (valid,) = parameter_ranges(key, [mechanism])
                assert valid.low == 0.0, key


def test_renamed_channel_keeps_its_ranges():
    hh = channels.HH().change_name("HH2")
    with pytest.warns(PhysicalRangeWarning, match=r"HH2_m should be a finite gate"):
        check_parameter("HH2_m", 5.0, [hh])


def test_shared_key_must_satisfy_every_mechanism():
    faraday, nernst = pumps.CaFaradayConcentrationChange(), pumps.CaNernstReversal()
    check_parameter("CaCon_i", 0.0, [faraday])  # ≥ 0 for Faraday
    with pytest.warns(PhysicalRangeWarning, match=r"CaCon_i should be a finite concentration > 0"):
        check_parameter("CaCon_i", 0.0, [faraday, nernst])  # ln needs > 0


@pytest.mark.parametrize(
    "suffix, is_state, expected",
    [("gNa", False, 0.0), ("g_L", False, 0.0), ("g", False, 0.0), ("gamma", False, -math.inf),
     ("tau_w", False, 0.0), ("eK", False, -math.inf), ("m", True, 0.0), ("spikes", True,
                                                                         -math.inf)],
)
def test_naming_convention(suffix, is_state, expected):
    assert inferred_range(suffix, is_state).low == expected


def test_user_channel_declarations():
    class KA(channels.Channel):
        param_ranges = {"gKA": (0.0, 1.0, "S/cm²"), "a": GATE, "b": (None, None)}

        def __init__(self):
            super().__init__()
            self.channel_params = {"KA_gKA": 0.01, "eK": -77.0}
            self.channel_states = {"KA_a": 0.1, "KA_b": 3.0}
            self.current_name = "i_KA"

    ka = KA()
    with pytest.warns(PhysicalRangeWarning,
                      match=r"KA_gKA should be a finite value in \[0, 1\] \(S/cm²\)"):
        check_parameter("KA_gKA", 2.0, [ka])
    check_parameter("KA_b", 3.0, [ka])  # declared unbounded: not a gate by convention
    assert parameter_ranges("KA_b", [ka]) == [Range()]


def test_bad_declaration_is_a_type_error():
    class Bad(channels.Channel):
        param_ranges = {"g": "positive"}

        def __init__(self):
            super().__init__()
            self.channel_params, self.channel_states = {"Bad_g": 1.0}, {}
            self.current_name = "i_Bad"

    with pytest.raises(TypeError, match=r"param_ranges entry must be a Range"):
        check_parameter("Bad_g", 1.0, [Bad()])


def test_check_parameters_and_in_range():
    cell = hh_cell()
    mechanisms = mechanisms_of(cell)
    check_parameters({"HH_gNa": 0.1, "radius": np.full(3, 1.0)}, mechanisms)
    with pytest.warns(PhysicalRangeWarning,
                      match=r"env: radius should be a finite radius.*first -1.0"):
        check_parameters({"radius": np.array([1.0, -1.0])}, mechanisms, where="env")
    ok = in_range("HH_m", jnp.array([0.0, 0.5, 1.0, 1.5, jnp.nan]), mechanisms)
    np.testing.assert_array_equal(np.asarray(ok), [True, True, True, False, False])
    assert parameter_ranges("unknown_key") == [ANY]


@pytest.mark.parametrize("method", ["set", "data_set", "make_trainable"])
def test_synapse_entry_points_refuse(method):
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 1), [-1]) for _ in range(2)]
    net = jx.Network(cells)
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(0).comp(0),
               synapses.IonotropicSynapse())
    where = {"set": r"set\('IonotropicSynapse_s'\)", "data_set": r"data_set\('Ionotropic",
             "make_trainable": "make_trainable init_val"}[method]
    with pytest.warns(PhysicalRangeWarning,
                      match=rf"{where}.*IonotropicSynapse_s should be a finite gate"):
        args = {"set": (2.0,), "data_set": (2.0, None), "make_trainable": (2.0,)}[method]
        getattr(net.IonotropicSynapse, method)("IonotropicSynapse_s", *args)
