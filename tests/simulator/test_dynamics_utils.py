"""simulator.utils (jaxley's jaxley.utils paths): build_dynamic_state_utils and the index /
geometry helpers, against jaxley 0.14."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jaxley
import jaxley.channels
import jaxley.utils.cell_utils as jaxley_cell_utils
import jaxley.utils.morph_attributes as jaxley_morph
import numpy as np
import pytest
from jaxley.integrate import build_init_and_step_fn as jaxley_build_init_and_step_fn
from jaxley.utils.dynamics import build_dynamic_state_utils as jaxley_build_dynamic_state_utils
from jaxley.utils.misc_utils import cumsum_leading_zero as jaxley_cumsum_leading_zero

import simulator as jx
import simulator.channels as sim_channels
from simulator.channels import HH, Leak
from simulator.integrate import build_init_and_step_fn
from simulator.synapses import IonotropicSynapse
from simulator.utils import cell_utils, morph_attributes
from simulator.utils.dynamics import build_dynamic_state_utils
from simulator.utils.misc_utils import cumsum_leading_zero


def _cell(lib, channels):
    """3 branches of 3 compartments (one branch point), HH on branch 0, Leak everywhere."""
    cell = lib.Cell(lib.Branch(lib.Compartment(), 3), parents=[-1, 0, 0])
    cell.branch(0).insert(channels.HH())
    cell.insert(channels.Leak())
    return cell


def test_dynamic_states_match_jaxley(x64):
    ours, ref = _cell(jx, sim_channels), _cell(jaxley, jaxley.channels)
    flat = []
    for cell, build_fns, build_utils in [
        (ours, build_init_and_step_fn, build_dynamic_state_utils),
        (ref, jaxley_build_init_and_step_fn, jaxley_build_dynamic_state_utils),
    ]:
        init_fn, _ = build_fns(cell)
        remove, _, flatten, unflatten = build_utils(cell)
        states, _ = init_fn([])
        flat.append(flatten(remove(states)))
        assert set(unflatten(flat[-1])) == {"v", "HH_m", "HH_h", "HH_n"}
    # 9 voltages (branch point dropped) + 3 compartments x 3 HH gates; same values, same
    # order (sorted keys).
    assert flat[0].shape == flat[1].shape == (18,)
    np.testing.assert_array_equal(flat[0], flat[1])


def test_round_trip_restores_padding_and_currents(precision):
    cell = _cell(jx, sim_channels)
    init_fn, _ = build_init_and_step_fn(cell)
    remove, add, flatten, unflatten = build_dynamic_state_utils(cell)
    states, params = init_fn([])
    x = flatten(remove(states))
    assert x.dtype == states["v"].dtype
    restored = add(unflatten(x), params, delta_t=0.025)
    assert set(restored) == set(states)
    for key, value in states.items():
        # Same arrays and the currents recomputed by the same functions: bit-equal,
        # NaN where HH is absent, -1 at the branch point.
        np.testing.assert_array_equal(restored[key], value, err_msg=key)
    assert np.isnan(restored["HH_m"][3]) and restored["v"][9] == -1.0


def test_stepping_through_flat_states_follows_step_fn(precision):
    """HH and Leak read no currents, so the flat loop reproduces plain stepping."""
    cell = _cell(jx, sim_channels)
    cell.branch(0).comp(0).stimulate(jx.step_current(0.0, 1.0, 0.5, 0.025, 1.0))
    init_fn, step_fn = build_init_and_step_fn(cell)
    remove, add, flatten, unflatten = build_dynamic_state_utils(cell)
    states, params = init_fn([])
    externals, inds = cell.externals, cell.external_inds

    def flat_step(x, i_now):
        full = add(unflatten(x), params, 0.025)
        return flatten(remove(step_fn(full, params, {"i": i_now}, inds, delta_t=0.025)))

    jitted = jax.jit(flat_step)
    x = x_jit = flatten(remove(states))
    for k in range(40):
        i_now = externals["i"][:, k]
        states = step_fn(states, params, {"i": i_now}, inds, delta_t=0.025)
        x, x_jit = flat_step(x, i_now), jitted(x_jit, i_now)
    assert float(states["v"][0]) > 0.0  # the stimulus made a spike
    # Measured: bit-equal in float64 and float32 (the same operations in the same order).
    np.testing.assert_array_equal(x, flatten(remove(states)))
    # Jitted, XLA fuses differently: measured 1.7e-12 (float64) and 1.3e-3 (float32, mV, on
    # the spike's upstroke where dv/dt ~ 100 mV/ms amplifies rounding).
    atol = 1e-10 if precision == "float64" else 5e-3
    np.testing.assert_allclose(x_jit, x, atol=atol, rtol=0)


def test_gradient_through_flat_step(x64):
    cell = _cell(jx, sim_channels)
    cell.make_trainable("Leak_gLeak")
    init_fn, step_fn = build_init_and_step_fn(cell)
    remove, add, flatten, unflatten = build_dynamic_state_utils(cell)

    def loss(params):
        states, all_params = init_fn(params)
        x = flatten(remove(states))
        for _ in range(5):
            full = add(unflatten(x), all_params, 0.025)
            x = flatten(remove(step_fn(full, all_params, {}, delta_t=0.025)))
        return jnp.sum(x[unflatten(x)["v"].shape[0] - 1])

    grad = jax.grad(loss)(cell.get_parameters())
    assert np.isfinite(grad[0]["Leak_gLeak"]).all() and grad[0]["Leak_gLeak"][0] != 0.0


def test_synapse_states_are_kept_whole(x64):
    net = jx.Network([jx.Cell(), jx.Cell(), jx.Cell()])
    net.insert(Leak())
    jx.fully_connect(net.cell([0]), net.cell([1, 2]), IonotropicSynapse())
    init_fn, _ = build_init_and_step_fn(net)
    remove, add, flatten, unflatten = build_dynamic_state_utils(net)
    states, params = init_fn([])
    dynamic = remove(states)
    assert set(dynamic) == {"v", "IonotropicSynapse_s"}
    assert dynamic["IonotropicSynapse_s"].shape == (2,)
    assert flatten(dynamic).shape == (5,)
    restored = add(unflatten(flatten(dynamic)), params, 0.025)
    np.testing.assert_array_equal(restored["i_IonotropicSynapse"],
                                  states["i_IonotropicSynapse"])


def test_bad_input():
    with pytest.raises(TypeError, match="Module"):
        build_dynamic_state_utils("cell")
    cell = jx.Cell()
    cell.insert(HH())
    remove, add, _, _ = build_dynamic_state_utils(cell)
    with pytest.raises(ValueError, match="HH_m"):
        remove({"v": jnp.zeros(1)})
    with pytest.raises(ValueError, match="HH_m"):
        add({"v": jnp.zeros(1)}, {}, 0.025)


def test_index_helpers_match_jaxley():
    ncomp = np.asarray([2, 4, 3])
    for branch in range(3):
        for loc in np.linspace(0.0, 1.0, 23):
            assert cell_utils.local_index_of_loc(loc, branch, ncomp) == \
                jaxley_cell_utils.local_index_of_loc(loc, branch, ncomp)
    comps = np.asarray([0, 1, 2, 5, 6, 8])
    branches = np.asarray([0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(cell_utils.loc_of_index(comps, branches, ncomp),
                                  jaxley_cell_utils.loc_of_index(comps, branches, ncomp))
    for values in ([2, 4, 3], np.asarray([1.5, 2.5]), []):
        got, want = cumsum_leading_zero(values), jaxley_cumsum_leading_zero(values)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.asarray(values).dtype
    with pytest.raises(ValueError, match="loc"):
        cell_utils.local_index_of_loc(1.5, 0, ncomp)
    with pytest.raises(ValueError, match="1-D"):
        cumsum_leading_zero(np.ones((2, 2)))


def test_params_to_pstate_and_cylinder_geometry_match_jaxley(x64):
    params = [{"radius": jnp.asarray([1.0, 2.0])}, {"length": jnp.asarray([3.0])}]
    inds = [np.asarray([[0], [1]]), np.asarray([[0, 1]])]
    ours, ref = cell_utils.params_to_pstate(params, inds), jaxley_cell_utils.params_to_pstate(
        params, inds)
    for a, b in zip(ours, ref, strict=True):
        assert a["key"] == b["key"] and a["val"] is b["val"] and a["indices"] is b["indices"]
    length, radius = jnp.asarray([10.0, 3.0]), jnp.asarray([1.0, 0.25])
    for name in ("cylinder_area", "cylinder_volume", "cylinder_resistive_load"):
        # Same formulas; measured relative difference <= 1 ulp (2.2e-16).
        np.testing.assert_allclose(getattr(morph_attributes, name)(length, radius),
                                   getattr(jaxley_morph, name)(length, radius), rtol=1e-15)
