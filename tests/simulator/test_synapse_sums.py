"""Synaptic terms summed into compartments (``simulator.synapse_sums``), the linearised
synapse currents built on them, and the per-node presynaptic terms kept per node
(``simulator.materialise``).

The reference for ``linearise_synapses`` is each synapse's exact slope and offset (the
models' formulas in NumPy float64) converted with its post-synaptic area and added one by
one. The code sums per node first and converts once per node, and takes the slopes from the
models' ``linear_current`` (exact), so the two differ by rounding only.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import membrane
from simulator.assemble import all_parameters, all_states
from simulator.channels import HH
from simulator.compile import compile_module
from simulator.materialise import materialised
from simulator.membrane import NA_PER_UM2_TO_UA_PER_CM2, advance_synapses, linearise_synapses
from simulator.synapse_sums import REDUCTIONS, conductance_sums, node_sums
from simulator.synapses import IonotropicSynapse, TanhRateSynapse

#: Error of per-node sums against numpy's float64 ``np.add.at``, relative to the largest sum:
#: float64 measured 0 (same summation order), float32 measured 2.1e-7 (float32 rounding).
SUM_RTOL = {"float64": 1e-13, "float32": 1e-5}
#: Error of linearise_synapses against the exact per-synapse terms in float64, relative to
#: the largest value: float64 measured 1.1e-16, float32 measured 1.2e-7 (float32 rounding;
#: the forward difference it used before was off by up to 4e-3 in float32, see
#: test_linear_current_is_the_exact_linearisation).
LINEARISE_RTOL = {"float64": 1e-13, "float32": 1e-6}


def _network(n_cells=12, p=0.5, seed=0):
    net = jx.Network([jx.Cell() for _ in range(n_cells)])
    net.insert(HH())
    jx.sparse_connect(net.cell("all"), net.cell("all"), IonotropicSynapse(), p=p,
                      random_state=seed)
    jx.sparse_connect(net.cell("all"), net.cell("all"), TanhRateSynapse(), p=p / 2,
                      random_state=seed + 1)
    return net


def _arrays(module):
    compiled = compile_module(module)
    params = all_parameters(compiled, compiled.node_arrays, [])
    return compiled, params, all_states(compiled, compiled.node_arrays, [], params)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_node_sums_equal_numpy_add_at(precision, reduction):
    rng = np.random.default_rng(1)
    post = rng.integers(0, 30, 1200)
    post[:5] = 29  # unsorted, with a node that receives nothing likely among 0..29
    values = rng.normal(size=(1200, 2))
    expected = np.zeros((31, 2))
    np.add.at(expected, post, values)
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    got = np.asarray(node_sums(jnp.asarray(values, dtype), post, 31, reduction))
    assert got.shape == (31, 2) and got.dtype == dtype
    assert np.all(got[30] == 0.0)
    np.testing.assert_allclose(got, expected, rtol=SUM_RTOL[precision],
                               atol=SUM_RTOL[precision] * np.abs(expected).max())


def test_node_sums_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of .* got 'csr'"):
        node_sums(jnp.ones((3, 1)), np.array([0, 1, 1]), 2, "csr")


def _exact_linearise(compiled, states, params, v):
    """Per-node slope and offset from each synapse's exact terms (the models' formulas,
    NumPy float64), converted with its post-synaptic area and added one by one."""
    params = {k: np.asarray(a, np.float64) for k, a in params.items() if not isinstance(a, dict)}
    states = {k: np.asarray(a, np.float64) for k, a in states.items()}
    v = np.asarray(v, np.float64)
    slope, offset = np.zeros_like(v), np.zeros_like(v)
    for synapse, pre, post in compiled.synapses:
        n = synapse.name
        if isinstance(synapse, IonotropicSynapse):  # I = gS s (v_post - e_syn)
            ds = params[f"{n}_gS"] * states[f"{n}_s"]
            off = ds * params[f"{n}_e_syn"]
        else:  # TanhRateSynapse: I = -gS tanh((v_pre - x_offset) slope)
            drive = np.tanh((v[pre] - params[f"{n}_x_offset"]) * params[f"{n}_slope"])
            ds, off = np.zeros(len(pre)), params[f"{n}_gS"] * drive
        scale = NA_PER_UM2_TO_UA_PER_CM2 / params["area"][post]
        np.add.at(slope, post, ds * scale)
        np.add.at(offset, post, off * scale)
    return slope, offset


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_linearise_synapses_matches_exact_terms(precision, reduction, shared, monkeypatch):
    """``shared``: the IonotropicSynapses (uniform e_syn) summed as e · Σ g, as a network
    with more synapses per type would be (membrane.MIN_SYNAPSES_FOR_SHARED_REVERSAL)."""
    if shared:
        monkeypatch.setattr(membrane, "MIN_SYNAPSES_FOR_SHARED_REVERSAL", 1)
    compiled, params, states = _arrays(_network())
    v = np.random.default_rng(2).uniform(-80, 20, compiled.n_nodes)
    v = jnp.asarray(v, params["area"].dtype)
    slope, offset, currents = linearise_synapses(compiled.synapses, states, params, v, reduction)
    ref_slope, ref_offset = _exact_linearise(compiled, states, params, v)
    rtol = LINEARISE_RTOL[precision]
    for got, ref in ((slope, ref_slope), (offset, ref_offset)):
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * np.abs(ref).max())
    assert set(currents) == {s.current_name for s, *_ in compiled.synapses}


def test_materialised_is_bitwise_identity(precision):
    x = jnp.asarray(np.random.default_rng(3).normal(size=(7, 3)))
    assert np.array_equal(np.asarray(materialised(x)), np.asarray(x))


def _fused_gathers_with_exp(hlo: str, size: int) -> int:
    """Fused computations of ``hlo`` that gather ``size`` elements (one per synapse) and
    evaluate an exponential in the same fusion."""
    per_synapse = re.compile(rf"= f(32|64)\[{size}[,\]].*? gather\(")
    return sum(bool(per_synapse.search(b)) and "exponential(" in b
               for b in hlo.split("\n\n") if b.lstrip().startswith("%fused"))


def test_presynaptic_terms_are_not_recomputed_per_synapse(x64):
    """Regression: XLA fused the per-node sigmoid/exp terms into the per-synapse gather and so
    evaluated them once per synapse (2 exp per synapse and step); before the fix this
    compiled advance had 1 gather fusion containing exponentials, now 0."""
    net = jx.Network([jx.Cell() for _ in range(40)])
    net.insert(HH())
    jx.sparse_connect(net.cell("all"), net.cell("all"), IonotropicSynapse(), p=0.5,
                      random_state=0)
    compiled, params, states = _arrays(net)
    syn_states = {k: states[k] for k in compiled.synapse_state_names}
    syn_params = {k: params[k] for k in compiled.synapse_param_names}

    def advance(own, v):
        return advance_synapses(compiled.synapses, own, syn_params, v, 0.025)

    hlo = jax.jit(advance).lower(syn_states, states["v"]).compile().as_text()
    n_synapses = len(compiled.synapses[0][1])
    assert "exponential(" in hlo
    assert _fused_gathers_with_exp(hlo, n_synapses) == 0


@pytest.mark.parametrize("uniform", [True, False])
def test_conductance_sums_equal_both_sums(precision, uniform):
    """One sum times a shared reversal potential, or both sums: the values of Σ g and Σ g·e
    either way, and derivatives that reach every synapse's e (the custom JVP)."""
    rng = np.random.default_rng(4)
    post = rng.integers(0, 20, 500)
    g = rng.uniform(0, 1e-3, 500)
    e = np.full(500, -80.0) if uniform else rng.uniform(-90, 0, 500)
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    want_g, want_ge = np.zeros(21), np.zeros(21)
    np.add.at(want_g, post, g)
    np.add.at(want_ge, post, g * e)
    got_g, got_ge = conductance_sums(jnp.asarray(g, dtype), jnp.asarray(e, dtype), post, 21)
    rtol = SUM_RTOL[precision]
    np.testing.assert_allclose(got_g, want_g, rtol=rtol, atol=rtol * want_g.max())
    np.testing.assert_allclose(got_ge, want_ge, rtol=rtol, atol=rtol * np.abs(want_ge).max())
    # d/de_i Σ_node w_node (Σ g·e)_node = w_post(i) g_i, d/dg_i = w_post(i) (1 + e_i)
    weights = rng.normal(size=21)

    def loss(g, e):
        s_g, s_ge = conductance_sums(g, e, post, 21)
        return jnp.sum(weights * (s_g + s_ge))

    d_g, d_e = jax.grad(loss, argnums=(0, 1))(jnp.asarray(g, dtype), jnp.asarray(e, dtype))
    # measured relative error: float32 ≤ 7.7e-7, float64 ≤ 7.8e-16 (rounding of 1 + e)
    np.testing.assert_allclose(d_e, weights[post] * g, rtol=1e-5)
    np.testing.assert_allclose(d_g, weights[post] * (1 + e), rtol=1e-5)


def test_conductance_sums_batched():
    """Under vmap with e batched (both branches as a select) and with trailing batch axes
    and a per-synapse e (node-major batches): the per-example sums."""
    rng = np.random.default_rng(5)
    post = rng.integers(0, 10, 200)
    g = jnp.asarray(rng.uniform(0, 1, (3, 200)))
    e = jnp.asarray(np.stack([np.full(200, -70.0), rng.uniform(-90, 0, 200),
                              np.zeros(200)]))
    mapped = jax.vmap(lambda g, e: conductance_sums(g, e, post, 10))(g, e)
    trailing = conductance_sums(g.T, e[0], post, 10)  # (n_syn, B) with one e for all
    # float32; the same additions in the same order either way: rtol for reassociation
    for b in range(3):
        want = conductance_sums(g[b], e[b], post, 10)
        for got, ref in zip(mapped, want, strict=True):
            np.testing.assert_allclose(got[b], ref, rtol=1e-6)
        ref0 = conductance_sums(g[b], e[0], post, 10)
        for got, ref in zip(trailing, ref0, strict=True):
            np.testing.assert_allclose(got[:, b], ref, rtol=1e-6)
