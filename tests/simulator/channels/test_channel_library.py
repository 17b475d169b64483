"""The extra channel library: Km, CaL, CaT (Pospischil et al. 2008) and the point models
Fire, Izhikevich, Rate, AdEx.

Traces are compared with the reference simulator (jaxley 0.14.0) through
``reference_traces/channel_library.npz``, written by ``reference_traces/make_channel_traces.py``
from the model definitions in ``reference_traces/channel_models.py`` (shared with this test).
The test does not need jaxley; where it is installed, ``test_traces_match_reference_live``
(marked slow) recomputes the reference at full time resolution.

Names and defaults below were observed on the reference's channel objects.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import channels
from simulator.channels import HH, AdEx, CaL, CaT, Fire, Izhikevich, K, Km, Leak, Na, Rate
from simulator.channels.pospischil_extra import (
    cal_q_rates,
    cal_r_rates,
    cat_s_inf,
    cat_u_inf_tau,
    km_p_inf_tau,
)

REF_DIR = Path(__file__).parents[1] / "reference_traces"
_spec = importlib.util.spec_from_file_location(
    "channel_library_models", REF_DIR / "channel_models.py"
)
models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models)

#: Voltage tolerance (mV) of the trace comparison.
V_TOL = 1e-6
#: Absolute tolerance of recorded states (gates, mA/cm² currents, w, u, spikes).
STATE_TOL = 1e-9
DT = 0.025

# Observed on the reference: channel_params, channel_states, current_name.
EXPECTED = {
    Km: ({"Km_gKm": 4e-6, "Km_taumax": 4000.0, "eK": -90.0}, {"Km_p": 0.2}, "i_K"),
    CaL: ({"CaL_gCaL": 1e-4, "eCa": 120.0}, {"CaL_q": 0.2, "CaL_r": 0.2}, "i_Ca"),
    CaT: ({"CaT_gCaT": 4e-5, "CaT_vx": 2.0, "eCa": 120.0}, {"CaT_u": 0.2}, "i_Ca"),
    Fire: ({"Fire_vth": -50.0, "Fire_vreset": -70.0}, {"Fire_spikes": 0.0}, "Fire_fire"),
    Izhikevich: (
        {"Izhikevich_a": 0.02, "Izhikevich_b": 0.2, "Izhikevich_c": -65.0, "Izhikevich_d": 8.0},
        {"Izhikevich_u": 0.0},
        "Izhikevich_izhikevich",
    ),
    Rate: ({"Rate_tau": 1.0}, {}, "Rate_rate"),
    AdEx: (
        {"AdEx_g_L": 10.0, "AdEx_E_L": -70.0, "AdEx_v_T": -50.0, "AdEx_delta_T": 2.0,
         "AdEx_v_threshold": 0.0, "AdEx_v_reset": -58.0, "AdEx_tau_w": 30.0, "AdEx_a": 2.0,
         "AdEx_b": 0.0},
        {"AdEx_w": 0.0, "AdEx_spikes": 0.0},
        "i_AdEx",
    ),
}
NEW_CHANNELS = list(EXPECTED)

CAL_SINGULAR = -27.0  # alpha_q = 0.209 efun((-v - 27) / 3.8)

# AdEx() warns that its spike reset has no surrogate gradient (asserted in
# test_adex_warns_about_its_gradient); the tests over every channel build it plainly.
pytestmark = pytest.mark.filterwarnings("ignore:The AdEx channel has no surrogate gradient")


def voltage_grid(dtype):
    """-150..100 mV in 0.1 mV steps plus the CaL singularity and points next to it."""
    offsets = [0.0, 1e-7, -1e-7, 1e-5, -1e-5, 1e-3, -1e-3]
    v = np.unique(np.concatenate([np.linspace(-150.0, 100.0, 2501),
                                  [CAL_SINGULAR + o for o in offsets]]))
    assert CAL_SINGULAR in v
    return jnp.asarray(v, dtype)


def setup_channel(channel, v, capacitance=1.0):
    """Default parameters (plus geometry) and states of ``channel`` at the compartments of v."""
    full = lambda x: jnp.full(v.shape, x, v.dtype)  # noqa: E731
    params = {k: full(x) for k, x in channel.channel_params.items()}
    params.update(radius=full(1.0), length=full(10.0), axial_resistivity=full(100.0),
                  capacitance=full(capacitance))
    states = {k: full(x) for k, x in channel.channel_states.items()}
    states[channel.current_name] = full(0.0)
    return params, states


def simulate_ours(name):
    return np.asarray(models.simulate(name, jx, channels))


def n_compartments(name):
    return len(models.build(name, jx, channels).nodes)


def compare(name, ours, ref):
    """Assert voltage rows within V_TOL and state rows within STATE_TOL; return max |ΔV|."""
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    n = n_compartments(name)
    dv = np.max(np.abs(ours[:n] - ref[:n]))
    assert np.all(np.isfinite(ours))
    assert dv <= V_TOL, f"{name}: max |dV| = {dv:.3g} mV"
    if ours.shape[0] > n:
        ds = np.max(np.abs(ours[n:] - ref[n:]))
        assert ds <= STATE_TOL, f"{name}: max |d state| = {ds:.3g}"
    return dv


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("cls", NEW_CHANNELS, ids=lambda c: c.__name__)
def test_names_and_defaults(cls):
    params, states, current = EXPECTED[cls]
    ch = cls()
    assert ch.name == cls.__name__
    assert ch.channel_params == params
    assert ch.channel_states == states
    assert ch.current_name == current
    assert all(isinstance(x, float) for x in (*ch.channel_params.values(),
                                               *ch.channel_states.values()))
    ch._validate()
    assert getattr(channels, cls.__name__) is cls
    assert cls.__name__ in channels.__all__


@pytest.mark.parametrize("cls", NEW_CHANNELS, ids=lambda c: c.__name__)
def test_change_name_renames_keys(cls, x64):
    """Renamed channels (own keys renamed, shared keys kept) compute exactly the same."""
    a, b = cls(), cls().change_name("Renamed")
    prefix = f"{cls.__name__}_"
    assert b.name == "Renamed"
    for attr in ("channel_params", "channel_states"):
        expect = {(f"Renamed_{k[len(prefix):]}" if k.startswith(prefix) else k): x
                  for k, x in getattr(a, attr).items()}
        assert getattr(b, attr) == expect
    v = jnp.asarray([-80.0, -60.0, -20.0, 35.0])
    pa, sa = setup_channel(a, v, capacitance=200.0)
    rename = lambda d: {(f"Renamed_{k[len(prefix):]}" if k.startswith(prefix) else k): x  # noqa: E731
                        for k, x in d.items()}
    pb = rename(pa)
    sb = {k: x for k, x in rename(sa).items() if k in b.channel_states}
    sb[b.current_name] = jnp.zeros_like(v)
    # As in the reference, the current name is fixed at construction (not renamed).
    assert b.current_name == a.current_name
    ua, ub = a.update_states(sa, DT, v, pa), b.update_states(sb, DT, v, pb)
    assert rename(ua).keys() == ub.keys()
    for k, x in rename(ua).items():
        np.testing.assert_array_equal(x, ub[k])
    np.testing.assert_array_equal(a.compute_current(sa, v, pa), b.compute_current(sb, v, pb))


# --------------------------------------------------------------------------- rate functions

RATE_FUNCTIONS = {
    "km_p": lambda v: km_p_inf_tau(v, 4000.0),
    "cal_q": cal_q_rates,
    "cal_r": cal_r_rates,
    "cat_s": lambda v: (cat_s_inf(v, 2.0),),
    "cat_u": lambda v: cat_u_inf_tau(v, 2.0),
}


@pytest.mark.parametrize("name", list(RATE_FUNCTIONS))
def test_rate_functions_finite_with_finite_gradients(name, precision):
    v = voltage_grid(jnp.dtype(precision))
    f = RATE_FUNCTIONS[name]
    for i, out in enumerate(f(v)):
        assert out.dtype == v.dtype
        assert bool(jnp.all(jnp.isfinite(out))), name
        assert bool(jnp.all(out >= 0.0)), name
        grad = jax.grad(lambda x, i=i: jnp.sum(f(x)[i]))(v)
        assert bool(jnp.all(jnp.isfinite(grad))), f"{name}[{i}] gradient"


def test_cal_alpha_q_continuous_at_singularity(x64):
    """alpha_q is smooth through -27 mV (the reference evaluates 0/0 = NaN there)."""
    alpha = lambda v: cal_q_rates(v)[0]  # noqa: E731
    at = alpha(jnp.asarray(CAL_SINGULAR))
    np.testing.assert_allclose(at, 0.055 * 3.8, rtol=1e-15)
    for eps in (1e-7, 1e-5, 1e-3):
        for side in (-1.0, 1.0):
            v = CAL_SINGULAR + side * eps
            x = (-v - 27.0) / 3.8
            exact = 0.055 * 3.8 * x / np.expm1(x)
            np.testing.assert_allclose(alpha(jnp.asarray(v)), exact, rtol=1e-9)
    g = jax.grad(alpha)(jnp.asarray(CAL_SINGULAR))
    np.testing.assert_allclose(g, 0.055 * 3.8 * 0.5 / 3.8, rtol=1e-12)  # -f'(0)/3.8 * 0.209


@pytest.mark.parametrize("cls", [Km, CaL, CaT, Fire, Izhikevich, Rate, AdEx],
                         ids=lambda c: c.__name__)
def test_step_and_current_finite_with_finite_gradients(cls, precision):
    """One update_states step and the current are finite and differentiable in v."""
    ch = cls()
    v = voltage_grid(jnp.dtype(precision))
    params, states = setup_channel(ch, v, capacitance=200.0)

    def total(v):
        new = ch.update_states(dict(states), DT, v, params)
        s = dict(states, **{k: x for k, x in new.items() if k != "v"})
        out = jnp.sum(ch.compute_current(s, new.get("v", v), params))
        return out + sum(jnp.sum(x) for x in new.values())

    assert bool(jnp.isfinite(total(v)))
    assert bool(jnp.all(jnp.isfinite(jax.grad(total)(v))))


# --------------------------------------------------------------------------- steady states


@pytest.mark.parametrize("cls", [Km, CaL, CaT, Izhikevich], ids=lambda c: c.__name__)
def test_init_state_is_steady_state(cls, x64):
    ch = cls()
    v = voltage_grid(jnp.float64)
    if cls is Izhikevich:
        v = v[v <= 0.0]  # above ~23 mV the forward-Euler v step crosses 30 mV and resets u
    params, states = setup_channel(ch, v)
    init = ch.init_state(states, v, params, DT)
    assert set(init) == {k for k in ch.channel_states if not k.endswith("_spikes")}
    states.update(init)
    new = ch.update_states(dict(states), DT, v, params)
    for k in init:
        np.testing.assert_allclose(new[k], init[k], rtol=0, atol=1e-12, err_msg=k)


def test_km_cat_init_is_gate_steady_state_not_reference_ratio(x64):
    """Km and CaT init to p_inf / u_inf (the reference returns x_inf / (x_inf + tau))."""
    v = jnp.asarray([-80.0, -60.0, -30.0])
    for ch, fn, key in ((Km(), lambda v: km_p_inf_tau(v, 4000.0), "Km_p"),
                        (CaT(), lambda v: cat_u_inf_tau(v, 2.0), "CaT_u")):
        params, states = setup_channel(ch, v)
        np.testing.assert_array_equal(ch.init_state(states, v, params, DT)[key], fn(v)[0])


# --------------------------------------------------------------------------- point models


def test_fire_threshold_is_strict(x64):
    ch = Fire()
    v = jnp.asarray([-60.0, -50.0, -50.0 + 1e-9, -20.0])
    params, states = setup_channel(ch, v)
    out = ch.update_states(states, DT, v, params)
    np.testing.assert_array_equal(out["v"], [-60.0, -50.0, -70.0, -70.0])
    np.testing.assert_array_equal(out["Fire_spikes"], [0.0, 0.0, 1.0, 1.0])
    assert out["Fire_spikes"].dtype == v.dtype
    np.testing.assert_array_equal(ch.compute_current(states, v, params), np.zeros(4))


def test_izhikevich_order_of_operations(x64):
    """u first (exponential Euler), v with the new u, threshold on the new v."""
    ch = Izhikevich()
    v = jnp.asarray([10.0, 29.0, -80.0])
    params, states = setup_channel(ch, v)
    states["Izhikevich_u"] = jnp.asarray([3.0, 1.0, 0.0])
    out = ch.update_states(states, 0.025, v, params)
    u = np.asarray(states["Izhikevich_u"]) + (1 - np.exp(-0.025 * 0.02)) * (
        0.2 * np.asarray(v) - np.asarray(states["Izhikevich_u"]))
    v_new = np.asarray(v) + 0.025 * (0.04 * np.asarray(v) ** 2 + 5 * np.asarray(v) + 140 - u)
    spike = v_new >= 30.0
    np.testing.assert_allclose(out["v"], np.where(spike, -65.0, v_new), rtol=1e-14)
    np.testing.assert_allclose(out["Izhikevich_u"], np.where(spike, u + 8.0, u), rtol=1e-14)
    assert spike.tolist() == [False, True, False]


def test_adex_warns_about_its_gradient():
    with pytest.warns(UserWarning, match="AdEx channel has no surrogate gradient"):
        AdEx()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AdEx(surrogate_warning=False)


def test_adex_order_of_operations(x64):
    """w first, v with the new w and clipped exponential, threshold on the new v."""
    ch = AdEx()
    v = jnp.asarray([-80.0, -65.0, -30.0, -1.0])
    params, states = setup_channel(ch, v, capacitance=200.0)
    params["AdEx_b"] = jnp.full(4, 5.0)
    out = ch.update_states(states, 0.1, v, params)
    vv = np.asarray(v)
    w = (1 - np.exp(-0.1 / 30.0)) * 2.0 * (vv + 70.0)
    v_new = vv + 0.1 * (-10 * (vv + 70) + 20 * np.exp(np.minimum((vv + 50) / 2, 10)) - w) / 200
    spike = v_new >= 0.0
    assert spike.tolist() == [False, False, True, True]
    np.testing.assert_allclose(out["v"], np.where(spike, -58.0, v_new), rtol=1e-14)
    np.testing.assert_allclose(out["AdEx_w"], np.where(spike, w + 5.0, w), rtol=1e-12)
    np.testing.assert_array_equal(out["AdEx_spikes"], spike.astype(float))


def test_rate_decay(x64):
    ch = Rate()
    v = jnp.asarray([-70.0, 0.0, 12.0])
    params, states = setup_channel(ch, v)
    params["Rate_tau"] = jnp.full(3, 4.0)
    out = ch.update_states(states, 0.1, v, params)
    assert set(out) == {"v"}
    np.testing.assert_allclose(out["v"], np.asarray(v) * np.exp(-0.1 / 4.0), rtol=1e-15)


# --------------------------------------------------------------------------- traces


@pytest.fixture(scope="module")
def reference():
    with np.load(REF_DIR / "channel_library.npz") as data:
        return {k: data[k] for k in data.files}


def test_reference_file_is_small_and_complete(reference):
    assert (REF_DIR / "channel_library.npz").stat().st_size < 200_000
    assert str(reference["jaxley_version"]) == "0.14.0"
    assert set(models.MODELS) <= set(reference)


@pytest.mark.parametrize("name", models.MODELS)
def test_traces_match_reference(name, reference, x64):
    ours = simulate_ours(name)[:, :: models.SUBSAMPLE]
    compare(name, ours, reference[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", models.MODELS)
def test_traces_match_reference_live(name, x64):
    """Recompute the reference with jaxley itself, at every time step."""
    pytest.importorskip("jaxley")
    import jaxley
    import jaxley.channels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.asarray(models.simulate(name, jaxley, jaxley.channels))
    compare(name, simulate_ours(name), ref)


def test_channel_changes_trace(x64):
    """The tested channels shape the traces (so the comparison above is meaningful)."""
    for ch, (key, _) in models.EXTRA_CONDUCTANCE.items():
        name = f"{ch}_comp"
        module = models.build(name, jx, channels)
        with_ch = np.asarray(jx.integrate(module, delta_t=models.DT))[0]
        module.set(key, 0.0)
        without = np.asarray(jx.integrate(module, delta_t=models.DT))[0]
        assert np.max(np.abs(with_ch - without)) > 10.0, ch


def test_point_models_spike(reference):
    """The stored point-model traces contain resets (threshold paths are exercised)."""
    assert np.sum(np.diff(reference["Fire"][0]) < -10.0) >= 5  # resets to vreset
    assert reference["AdEx"][1].max() > 20.0  # w jumps by b = 20 per spike
    v_izh = reference["Izhikevich"][0]
    assert np.any(np.diff(v_izh) < -20.0)  # reset to c


def test_all_channels_insertable_together(x64):
    """Km/CaL/CaT share eK/eCa and the i_K/i_Ca currents with K; HH can sit beside them."""
    comp = jx.Compartment()
    for ch in (HH(), Na(), K(), Km(), CaL(), CaT(), Leak()):
        comp.insert(ch)
    comp.record("i_Ca", verbose=False)
    comp.record("i_K", verbose=False)
    out = np.asarray(jx.integrate(comp, t_max=1.0, delta_t=DT))
    assert np.all(np.isfinite(out))
