"""Tests for gate solvers, rate helpers and the built-in channels."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.channels import HH, Channel, K, Leak, Na
from simulator.channels.hh import h_rates, m_rates, n_rates
from simulator.channels.pospischil import k_n_rates, na_h_rates, na_m_rates
from simulator.channels.rates import efun, vtrap
from simulator.solvers.gates import (
    exponential_euler,
    save_exp,
    solve_gate_exponential,
    solve_gate_implicit,
    solve_inf_gate_exponential,
)

DT = 0.025  # ms
VT = -60.0  # mV, default Pospischil threshold
HH_SINGULAR = [-40.0, -55.0]  # alpha_m, alpha_n
POSPISCHIL_SINGULAR = [VT + 13.0, VT + 40.0, VT + 15.0]  # alpha_m, beta_m, alpha_n
SINGULAR = HH_SINGULAR + POSPISCHIL_SINGULAR

RATE_FUNCTIONS = {
    "hh_m": m_rates,
    "hh_h": h_rates,
    "hh_n": n_rates,
    "na_m": lambda v: na_m_rates(v, VT),
    "na_h": lambda v: na_h_rates(v, VT),
    "k_n": lambda v: k_n_rates(v, VT),
}
CHANNELS = [HH, Na, K, Leak]


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """Run the test with jax_enable_x64 off (float32) and on (float64)."""
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", request.param == "float64")
    yield np.dtype(request.param)
    jax.config.update("jax_enable_x64", old)


def voltage_grid(dtype):
    """-150..100 mV in 0.2 mV steps plus every singularity and points near it."""
    offsets = [0.0, 1e-7, -1e-7, 1e-5, -1e-5, 1e-3, -1e-3]
    extra = [s + o for s in SINGULAR for o in offsets]
    v = np.unique(np.concatenate([np.linspace(-150.0, 100.0, 1251), extra]))
    assert all(s in v for s in SINGULAR)
    return jnp.asarray(v, dtype)


def elementwise_grad(f):
    """d f(v)_i / d v_i for an elementwise function of a (n,) array."""
    return jax.grad(lambda v: jnp.sum(f(v)))


def setup_channel(channel, v, shape=None):
    """Parameters and default states of ``channel`` with ``shape`` (default ``v.shape``).

    With ``shape=()`` they are scalars that broadcast against any ``v``.
    """
    shape = v.shape if shape is None else shape
    full = lambda x: jnp.full(shape, x, v.dtype)  # noqa: E731
    params = {k: full(x) for k, x in channel.channel_params.items()}
    params.update(
        radius=full(1.0), length=full(10.0), axial_resistivity=full(100.0), capacitance=full(1.0)
    )
    states = {k: full(x) for k, x in channel.channel_states.items()}
    states[channel.current_name] = full(0.0)
    return params, states


def step_and_current(channel, states, params):
    """v -> current after one state update with rates frozen at v."""

    def f(v):
        new = {**states, **channel.update_states(states, DT, v, params)}
        return channel.compute_current(new, v, params)

    return f


# --------------------------------------------------------------------------
# gate solvers
# --------------------------------------------------------------------------


def test_gate_solvers(dtype):
    x = jnp.asarray([0.0, 0.3, 1.0], dtype)
    alpha = jnp.asarray([0.5, 2.0, 0.01], dtype)
    beta = jnp.asarray([1.0, 0.1, 3.0], dtype)
    tau, x_inf = 1.0 / (alpha + beta), alpha / (alpha + beta)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    expected = x_inf + (x - x_inf) * np.exp(-DT / tau)
    np.testing.assert_allclose(solve_gate_exponential(x, DT, alpha, beta), expected, rtol=rtol)
    np.testing.assert_allclose(solve_inf_gate_exponential(x, DT, x_inf, tau), expected, rtol=rtol)
    np.testing.assert_allclose(exponential_euler(x, DT, x_inf, tau), expected, rtol=rtol)
    # Long step: cnexp's x + (x_inf - x) loses absolute precision ~eps.
    atol = 2 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(solve_gate_exponential(x, 1e4, alpha, beta), x_inf, atol=atol)
    implicit = (x + DT * alpha) / (1 + DT * alpha + DT * beta)
    np.testing.assert_allclose(solve_gate_implicit(x, DT, alpha, beta), implicit, rtol=rtol)
    assert solve_gate_exponential(x, DT, alpha, beta).dtype == dtype


def test_save_exp(dtype):
    x = jnp.asarray([-3.0, 0.0, 20.0, 100.0, 1e4], dtype)
    np.testing.assert_allclose(
        save_exp(x), np.exp(np.minimum(np.asarray(x, float), 20.0)), rtol=1e-6
    )
    np.testing.assert_allclose(save_exp(x, max_value=1.0)[-1], np.e, rtol=1e-6)
    g = jax.vmap(jax.grad(save_exp))(x)
    assert np.all(np.isfinite(g)) and g[-1] == 0.0


# --------------------------------------------------------------------------
# vtrap / efun accuracy
# --------------------------------------------------------------------------


def _reference_efun(u):
    """u / (exp(u) - 1) and its derivative in numpy long double (eps 1e-19 on x86)."""
    u = np.asarray(u, np.longdouble)
    small = np.abs(u) < 1e-3
    us = np.where(small, u, 0)
    ub = np.where(small, 1, u)
    em1 = np.expm1(ub)
    value = np.where(small, 1 - us / 2 + us**2 / 12 - us**4 / 720, ub / em1)
    deriv = np.where(
        small, -0.5 + us / 6 - us**3 / 180 + us**5 / 5040, (em1 - ub * np.exp(ub)) / em1**2
    )
    return value, deriv


def _u_grid():
    pos = np.logspace(-10, np.log10(80.0), 3000)
    edges = np.array([1e-6, 0.1, 0.5, 40.0])  # branch thresholds of rates.py
    pos = np.concatenate([pos, edges, edges * (1 + 1e-6), edges * (1 - 1e-6)])
    return np.concatenate([-pos, [0.0], pos])


# Measured max relative errors (|u| <= 80, 40-digit mpmath agrees with the
# long-double reference): float32 value 1.3e-7, derivative 4.9e-7; float64
# value 9.7e-11 (NEURON's exp(u) - 1 cancellation just above |u| = 1e-6),
# derivative 6.5e-15.
EFUN_RTOL = {np.float32: (3e-7, 1e-6), np.float64: (2e-10, 2e-14)}


@pytest.mark.parametrize("scale", [1.0, 10.0, -4.0])
def test_vtrap_accuracy(dtype, scale):
    u = _u_grid().astype(dtype)
    x = jnp.asarray(u * dtype.type(scale), dtype)
    u_exact = np.asarray(x, np.longdouble) / np.longdouble(scale)
    ref_value, ref_deriv = _reference_efun(u_exact)
    value = np.asarray(jax.jit(vtrap)(x, scale), np.longdouble) / np.longdouble(scale)
    deriv = jax.jit(jax.vmap(jax.grad(vtrap), in_axes=(0, None)))(x, scale)
    deriv = np.asarray(deriv, np.longdouble)
    rtol_value, rtol_deriv = EFUN_RTOL[dtype.type]
    # For y != 1, rounding u = x / y (XLA may compute x * (1/y)) is amplified
    # by the conditioning of f, at most ~(1 + |u|) eps: not an error of vtrap.
    cond = 0.0 if scale == 1.0 else 2 * np.finfo(dtype).eps * (1 + np.abs(u_exact))
    err_value = np.abs(value - ref_value) / np.abs(ref_value) - cond
    err_deriv = np.abs(deriv - ref_deriv) / np.abs(ref_deriv) - cond
    assert err_value.max() < rtol_value, err_value.max()
    assert err_deriv.max() < rtol_deriv, err_deriv.max()
    assert vtrap(jnp.asarray(0.0, dtype), scale) == scale


def test_efun(dtype):
    u = jnp.asarray(_u_grid(), dtype)
    np.testing.assert_array_equal(efun(u), vtrap(u, 1.0))
    assert efun(jnp.asarray(0.0, dtype)) == 1.0
    assert jax.grad(efun)(jnp.asarray(0.0, dtype)) == -0.5
    assert efun(jnp.asarray(0.0, dtype)).dtype == dtype


def test_vtrap_extremes_finite(dtype):
    """Huge |u| (exp overflows), exact zeros; values, 1st and 2nd derivatives."""
    x = jnp.asarray([-1e6, -1e3, -90.0, -1e-30, 0.0, 1e-30, 90.0, 1e3, 1e6], dtype)
    for y in (1.0, -10.0):
        f = lambda x, y=y: vtrap(x, y)  # noqa: E731
        assert np.all(np.isfinite(jax.jit(f)(x)))
        assert np.all(np.isfinite(jax.jit(jax.vmap(jax.grad(f)))(x)))
        assert np.all(np.isfinite(jax.jit(jax.vmap(jax.grad(jax.grad(f))))(x)))
    # Gradient with respect to the scale y: d/dy [y f(x/y)] = f(u) - u f'(u).
    gy = jax.grad(lambda y: vtrap(jnp.asarray(3.0, dtype), y))(jnp.asarray(10.0, dtype))
    eps = 1e-3 if dtype == np.float32 else 1e-6
    fd = (vtrap(3.0, 10.0 + eps) - vtrap(3.0, 10.0 - eps)) / (2 * eps)
    np.testing.assert_allclose(gy, fd, rtol=1e-3 if dtype == np.float32 else 1e-8)


_vtrap_value_and_grad = jax.jit(jax.value_and_grad(vtrap))


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False), st.sampled_from([1.0, 5.0, 10.0, -18.0]))
def test_vtrap_finite_property(x, y):
    value, grad = _vtrap_value_and_grad(x, y)
    assert np.isfinite(value) and np.isfinite(grad)
    assert float(value) * y >= 0.0  # vtrap = y f(u) with f(u) = u / (exp(u) - 1) > 0
    assert -1.0 - 1e-6 <= float(grad) <= 1e-6  # f'(u) lies in [-1, 0]


# --------------------------------------------------------------------------
# rates and channels: finiteness and smoothness on a dense voltage grid
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(RATE_FUNCTIONS))
def test_rates_finite_with_finite_gradients(dtype, name):
    rates = RATE_FUNCTIONS[name]
    v = voltage_grid(dtype)
    for k in range(2):  # alpha, beta

        def rate(v, k=k):
            return rates(v)[k]

        r, g = (rate)(v), elementwise_grad(rate)(v)
        assert r.dtype == dtype
        assert np.all(np.isfinite(r)) and np.all(r > 0), (name, k)
        assert np.all(np.isfinite(g)), (name, k)
        check_gradient_continuity(rate, dtype)


def check_gradient_continuity(f, dtype):
    """Autodiff gradient at each singular voltage vs a central difference."""
    vs = jnp.asarray(SINGULAR, dtype)
    g = elementwise_grad(f)(vs)
    if dtype == np.float32:
        h, rtol, atol_rel = 0.05, 2e-3, 1e-4
    else:
        # h well above the |u| < 1e-6 Taylor zone, where NEURON's value formula
        # has ~eps/|u| relative noise that a smaller h would amplify.
        h, rtol, atol_rel = 1e-3, 1e-6, 1e-10
    fd = (f(vs + h) - f(vs - h)) / (2 * h)
    atol = atol_rel * float(np.max(np.abs(f(vs))))
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol)


@pytest.mark.parametrize("channel_class", CHANNELS)
def test_channel_finite_with_finite_gradients(dtype, channel_class):
    channel = channel_class()
    v = voltage_grid(dtype)
    params, states = setup_channel(channel, v, shape=())

    current = step_and_current(channel, states, params)
    i, gi = (current)(v), elementwise_grad(current)(v)
    assert i.dtype == dtype and i.shape == v.shape
    assert np.all(np.isfinite(i)) and np.all(np.isfinite(gi))
    check_gradient_continuity(current, dtype)

    def steady_current(v):
        init = channel.init_state(states, v, params, DT)
        return channel.compute_current({**states, **init}, v, params)

    assert np.all(np.isfinite(elementwise_grad(steady_current)(v)))
    check_gradient_continuity(steady_current, dtype)

    for key in channel.channel_states:

        def gate(v, key=key):
            return channel.update_states(states, DT, v, params)[key]

        x, gx = (gate)(v), elementwise_grad(gate)(v)
        assert x.dtype == dtype
        assert np.all(np.isfinite(x)) and np.all((x >= 0) & (x <= 1))
        assert np.all(np.isfinite(gx))
        check_gradient_continuity(gate, dtype)

        x_inf = channel.init_state(states, v, params, DT)[key]
        assert np.all(np.isfinite(x_inf)) and np.all((x_inf >= 0) & (x_inf <= 1))


@pytest.mark.parametrize("channel_class", CHANNELS)
def test_channel_jit(channel_class):
    channel = channel_class()
    v = jnp.linspace(-80.0, 40.0, 7)
    params, states = setup_channel(channel, v)
    f = step_and_current(channel, states, params)
    np.testing.assert_allclose(jax.jit(f)(v), f(v), rtol=1e-5, atol=1e-7)


def test_currents_formula():
    v = jnp.asarray([-70.0, -20.0, 10.0])
    m, h, n = 0.1, 0.6, 0.4
    hh = HH()
    params, _ = setup_channel(hh, v)
    i = hh.compute_current({"HH_m": m, "HH_h": h, "HH_n": n}, v, params)
    expected = 0.12 * m**3 * h * (v - 50) + 0.036 * n**4 * (v + 77) + 0.0003 * (v + 54.3)
    np.testing.assert_allclose(i, expected, rtol=1e-6)

    na, k, leak = Na(), K(), Leak()
    p = {**setup_channel(na, v)[0], **setup_channel(k, v)[0], **setup_channel(leak, v)[0]}
    np.testing.assert_allclose(
        na.compute_current({"Na_m": m, "Na_h": h}, v, p), 0.05 * m**3 * h * (v - 50), rtol=1e-6
    )
    np.testing.assert_allclose(
        k.compute_current({"K_n": n}, v, p), 5e-3 * n**4 * (v + 90), rtol=1e-6
    )
    np.testing.assert_allclose(leak.compute_current({}, v, p), 1e-4 * (v + 70), rtol=1e-6)
    assert leak.update_states({}, DT, v, p) == {} and leak.init_state({}, v, p, DT) == {}


# --------------------------------------------------------------------------
# HH reference values
# --------------------------------------------------------------------------


def test_hh_init_state(dtype):
    hh = HH()
    v = jnp.asarray([-65.0, -62.0], dtype)
    params, states = setup_channel(hh, v)
    init = hh.init_state(states, v, params, DT)
    rtol = 2e-6 if dtype == np.float32 else 1e-7
    np.testing.assert_allclose(init["HH_m"], [0.052932485, 0.074900988], rtol=rtol)
    np.testing.assert_allclose(init["HH_h"], [0.59612075, 0.48894768], rtol=rtol)
    np.testing.assert_allclose(init["HH_n"], [0.31767691, 0.36447870], rtol=rtol)


NEURON_VOLTAGES = [
    -120.0, -90.0, -65.0, -62.0, -55.0, -55.0 + 1e-7, -55.00002, -40.0, -40.0 - 1e-7,
    -39.99998, -40.001, -20.0, 0.0, 35.0, 60.0,
]  # fmt: skip


@pytest.fixture(scope="module")
def neuron_hh_rates():
    """NEURON's hh minf, mtau, hinf, htau, ninf, ntau at NEURON_VOLTAGES."""
    neuron = pytest.importorskip("neuron")
    h = neuron.h
    h.usetable_hh = 0
    h.celsius = 6.3
    section = h.Section(name="hh_rates")
    section.insert("hh")
    segment = section(0.5)
    h.setdata_hh(segment)
    names = ["minf", "mtau", "hinf", "htau", "ninf", "ntau"]
    table = {name: [] for name in names}
    for v in NEURON_VOLTAGES:
        h.rates_hh(v)
        for name in names:
            table[name].append(getattr(segment.hh, name))
    return {name: np.asarray(values) for name, values in table.items()}


def test_hh_rates_match_neuron(neuron_hh_rates):
    with jax.enable_x64(True):
        v = jnp.asarray(NEURON_VOLTAGES, jnp.float64)
        for gate, rates in (("m", m_rates), ("h", h_rates), ("n", n_rates)):
            alpha, beta = rates(v)
            np.testing.assert_allclose(
                alpha / (alpha + beta), neuron_hh_rates[f"{gate}inf"], rtol=1e-12, atol=0
            )
            np.testing.assert_allclose(
                1.0 / (alpha + beta), neuron_hh_rates[f"{gate}tau"], rtol=1e-12, atol=0
            )


def test_hh_update_matches_neuron_cnexp(neuron_hh_rates):
    """One HH.update_states step equals cnexp with NEURON's inf and tau."""
    with jax.enable_x64(True):
        hh = HH()
        v = jnp.asarray(NEURON_VOLTAGES, jnp.float64)
        params, states = setup_channel(hh, v)
        states = {**states, "HH_m": 0.1 * jnp.ones_like(v), "HH_h": 0.7 * jnp.ones_like(v)}
        new = hh.update_states(states, DT, v, params)
        for gate in "mhn":
            x = np.asarray(states[f"HH_{gate}"])
            x_inf, tau = neuron_hh_rates[f"{gate}inf"], neuron_hh_rates[f"{gate}tau"]
            expected = x + (1.0 - np.exp(-DT / tau)) * (x_inf - x)
            np.testing.assert_allclose(new[f"HH_{gate}"], expected, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------
# Channel base class and naming
# --------------------------------------------------------------------------


def test_change_name():
    hh = HH()
    assert hh.name == "HH" and repr(hh) == "HH(name='HH')"
    assert hh.change_name("hh2") is hh
    assert hh.name == "hh2"
    names = ("gNa", "gK", "gLeak", "eNa", "eK", "eLeak")
    assert set(hh.channel_params) == {f"hh2_{k}" for k in names}
    assert set(hh.channel_states) == {"hh2_m", "hh2_h", "hh2_n"}
    assert hh.channel_params["hh2_gNa"] == 0.12 and hh.current_name == "i_HH"
    v = jnp.asarray([-65.0])
    params, states = setup_channel(hh, v)
    assert set(hh.init_state(states, v, params, DT)) == {"hh2_m", "hh2_h", "hh2_n"}
    assert set(hh.update_states(states, DT, v, params)) == {"hh2_m", "hh2_h", "hh2_n"}
    assert np.isfinite(hh.compute_current(states, v, params)).all()

    na = Na().change_name("na2")
    assert na.channel_params == {"na2_gNa": 0.05, "eNa": 50.0, "vt": -60.0}
    assert na.channel_states == {"na2_m": 0.2, "na2_h": 0.2}
    k = K("Kdr").change_name("K2")
    assert k.channel_params == {"K2_gK": 5e-3, "eK": -90.0, "vt": -60.0}
    assert Leak("L").channel_params == {"L_gLeak": 1e-4, "L_eLeak": -70.0}
    # A key that merely starts with the name (no underscore) is not renamed.
    hh3 = HH("a")
    hh3.channel_params["ab"] = 1.0
    assert "ab" in hh3.change_name("z").channel_params


def test_channel_contract():
    class Jaxley(Channel):
        def __init__(self, name=None):
            self.current_is_in_mA_per_cm2 = True
            super().__init__(name)
            self.channel_params = {f"{self.name}_g": 1.0}
            self.channel_states = {f"{self.name}_x": np.float32(0.5)}
            self.current_name = "i_j"

    ch = Jaxley()
    assert ch.name == "Jaxley" and ch.current_is_in_mA_per_cm2
    ch._validate()
    for channel in (HH(), Na(), K(), Leak()):
        channel._validate()
    assert Channel().init_state({}, 0.0, {}, DT) == {}
    with pytest.raises(NotImplementedError):
        Channel().update_states({}, DT, 0.0, {})
    with pytest.raises(NotImplementedError):
        Channel().compute_current({}, 0.0, {})

    class MicroAmps(Channel):
        def __init__(self):
            self.current_is_in_mA_per_cm2 = False
            super().__init__()

    with pytest.raises(ValueError, match="mA/cm"):
        MicroAmps()


VALID = {"channel_params": {}, "channel_states": {}, "current_name": "i"}


@pytest.mark.parametrize(
    "attrs, error, match",
    [
        ({"channel_params": None}, TypeError, "channel_params"),
        ({"channel_states": None}, TypeError, "channel_states"),
        ({"channel_params": []}, TypeError, "dict"),
        ({"channel_params": {1: 1.0}}, TypeError, "keys"),
        ({"channel_params": {"a": "x"}}, TypeError, "float"),
        ({"channel_states": {"a": True}}, TypeError, "float"),
        ({"current_name": None}, TypeError, "current_name"),
        ({"current_name": 3}, TypeError, "current_name"),
        ({"current_is_in_mA_per_cm2": False}, ValueError, "mA/cm"),
    ],
)
def test_validate_errors(attrs, error, match):
    channel = Channel("c")
    for key, value in {**VALID, **attrs}.items():
        if value is not None:
            setattr(channel, key, value)
    channel_ok = Channel("ok")
    for key, value in VALID.items():
        setattr(channel_ok, key, value)
    channel_ok._validate()
    with pytest.raises(error, match=match):
        channel._validate()
