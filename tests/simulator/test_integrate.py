"""integrate, build_init_and_step_fn and their jit/vmap/grad behaviour."""

from __future__ import annotations

import runpy
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH
from simulator.integrate import build_init_and_step_fn

DT = 0.025
STIM = dict(i_delay=0.5, i_dur=1.0, delta_t=DT, t_max=5.0)

# Golden traces of the reference simulator (default parameters, HH gates at 0.2, 202 samples,
# every 20th), reproduced here to 2e-11 – 4.5e-9 mV.
GOLDEN_COMP = [-70.0, -66.53085703, -50.08343917, -20.4930498, 32.6178327, 2.57004029,
               -26.19517261, -50.50027566, -72.97019524, -75.69907171, -75.58874436]
GOLDEN_BRANCH = [-70.0, -66.53085703, -56.84345977, -47.34841899, -32.63377325, 30.99759112,
                 8.03521283, -21.81119545, -45.8401624, -70.88960656, -75.66123707]
GOLDEN_CELL = [-70.0, -66.53085703217415, -61.30007495702876, -57.72869617299199,
               -57.907984804456134, -56.54785861252702, -54.63372123466727, -51.29073832791313,
               -41.84338223543283, 12.629557592604355, 16.375747329556404]


def hh_cell(nbranches=3, ncomp=2):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp), [-1] + [0] * (nbranches - 1))
    cell.insert(HH())
    site = cell.branch(1).loc(0.0)
    site.record(verbose=False)
    site.stimulate(jx.step_current(i_amp=0.02, **STIM), verbose=False)
    return cell


@pytest.mark.parametrize("kind", ["comp", "branch1", "cell1"])
def test_golden_compartment(x64, kind):
    module = {"comp": jx.Compartment, "branch1": lambda: jx.Branch(jx.Compartment(), 1),
              "cell1": jx.Cell}[kind]()
    module.insert(HH())
    module.record(verbose=False)
    module.stimulate(jx.step_current(i_amp=0.02, **STIM), verbose=False)
    v = np.asarray(jx.integrate(module))
    assert v.shape == (1, 202)
    np.testing.assert_allclose(v[0, ::20], GOLDEN_COMP, atol=1e-7)


def test_golden_branch(x64):
    branch = jx.Branch(jx.Compartment(), 2)
    branch.insert(HH())
    branch.loc(0.0).record(verbose=False)
    branch.loc(0.0).stimulate(jx.step_current(i_amp=0.02, **STIM), verbose=False)
    np.testing.assert_allclose(np.asarray(jx.integrate(branch))[0, ::20], GOLDEN_BRANCH, atol=1e-7)


@pytest.mark.parametrize("voltage_solver", ["jaxley.dhs", "dhs", "jaxley.dhs.gpu", "dense"])
def test_golden_cell(x64, voltage_solver):
    v = np.asarray(jx.integrate(hh_cell(), voltage_solver=voltage_solver))
    np.testing.assert_allclose(v[0, ::20], GOLDEN_CELL, atol=1e-7)


@pytest.mark.parametrize("width", [1, 2, 32])
def test_dhs_width_does_not_change_results(x64, width):
    cell = hh_cell(nbranches=7, ncomp=3)
    ref = jx.integrate(cell, voltage_solver="dense")
    np.testing.assert_allclose(jx.integrate(cell, dhs_width=width), ref, atol=1e-10)


def test_output_length_with_t_max(x64):
    cell = hh_cell()
    assert jx.integrate(cell, t_max=10.0).shape == (1, 401)  # int(10 // 0.025 + 1) + 1


def test_step_fn_loop_equals_integrate(x64):
    cell = hh_cell()
    expected = np.asarray(jx.integrate(cell))
    cell.to_jax()
    init_fn, step_fn = build_init_and_step_fn(cell)
    states, params = init_fn(cell.get_parameters())
    externals, inds = cell.externals, cell.external_inds
    rec = cell.recordings
    trace = [states["v"][rec.rec_index.to_numpy()]]
    for k in range(externals["i"].shape[1]):
        states = step_fn(states, params, {"i": externals["i"][:, k]}, inds, delta_t=DT)
        trace.append(states["v"][rec.rec_index.to_numpy()])
    np.testing.assert_allclose(np.stack(trace, axis=1), expected, atol=1e-10)


def test_seed_example_runs_unchanged():
    path = Path(__file__).parents[2] / "examples" / "step_function.py"
    namespace = runpy.run_path(str(path))
    rec = namespace["rec"]
    assert rec.shape == (1, 121)
    assert np.all(np.isfinite(rec))


def test_jit_vmap_over_parameters(x64):
    cell = hh_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    params = cell.get_parameters()

    def simulate(g):
        return jx.integrate(cell, [{"HH_gNa": g}])[0, -1]

    gs = jnp.array([0.08, 0.12, 0.16])
    batched = jax.jit(jax.vmap(simulate))(gs[:, None])
    single = jnp.stack([simulate(g[None]) for g in gs])
    np.testing.assert_allclose(batched, single, atol=1e-10)
    assert params[0]["HH_gNa"].shape == (1,)


def test_gradient_matches_finite_differences(x64):
    cell = hh_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    cell.branch(0).make_trainable("radius", verbose=False)
    params = cell.get_parameters()

    def loss(p):
        return jnp.mean(jx.integrate(cell, p)[0] ** 2) / 1e3

    grads = jax.grad(loss)(params)
    for i, key in enumerate(["HH_gNa", "radius"]):
        h = 1e-6 * float(params[i][key][0])
        up = [dict(p) for p in params]
        down = [dict(p) for p in params]
        up[i][key] = params[i][key] + h
        down[i][key] = params[i][key] - h
        fd = (loss(up) - loss(down)) / (2 * h)
        # Measured relative error ~1e-8; bar 1e-5.
        assert abs(float(grads[i][key][0]) - float(fd)) <= 1e-5 * abs(float(fd))


def test_checkpointing_gives_same_values_and_gradients(x64):
    cell = hh_cell()
    cell.make_trainable("HH_gK", verbose=False)
    params = cell.get_parameters()

    def loss(p, lengths):
        return jnp.sum(jx.integrate(cell, p, checkpoint_lengths=lengths))

    plain, g_plain = jax.value_and_grad(loss)(params, None)
    ckpt, g_ckpt = jax.value_and_grad(loss)(params, [15, 14])  # 210 >= 201 steps
    np.testing.assert_allclose(ckpt, plain, rtol=1e-12)
    np.testing.assert_allclose(g_ckpt[0]["HH_gK"], g_plain[0]["HH_gK"], rtol=1e-10)


def test_checkpointed_final_state_is_at_the_last_step(x64):
    cell = hh_cell()
    _, plain = jx.integrate(cell, return_states=True)
    _, ckpt = jx.integrate(cell, return_states=True, checkpoint_lengths=[15, 14])
    np.testing.assert_allclose(ckpt["v"], plain["v"], atol=1e-12)


def test_continued_simulation(x64):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(HH())
    cell.branch(0).loc(0.0).record(verbose=False)
    cell.branch(0).loc(0.0).stimulate(jx.step_current(0.5, 3.0, 0.05, DT, 4.0), verbose=False)
    full = np.asarray(jx.integrate(cell, t_max=4.0))
    cell.delete_stimuli()
    first_stim = jx.step_current(0.5, 3.0, 0.05, DT, 4.0)
    site = cell.branch(0).loc(0.0)
    first, states = jx.integrate(
        cell, data_stimuli=site.data_stimulate(first_stim[:80]), return_states=True)
    second = jx.integrate(
        cell, data_stimuli=site.data_stimulate(first_stim[80:160]), all_states=states)
    joined = np.concatenate([first, np.asarray(second)[:, 1:]], axis=1)
    assert joined.shape == full.shape == (1, 161)
    np.testing.assert_allclose(joined, full, atol=1e-10)


def test_data_stimulate_equals_stimulate(x64):
    stim = jx.step_current(i_amp=0.02, **STIM)
    cell = hh_cell()
    static = jx.integrate(cell)
    cell.delete_stimuli()
    data = cell.branch(1).loc(0.0).data_stimulate(stim)
    np.testing.assert_allclose(jx.integrate(cell, data_stimuli=data), static, atol=1e-12)


def test_vmap_over_data_stimuli(x64):
    cell = hh_cell()
    cell.delete_stimuli()

    def simulate(amp):
        stim = jx.step_current(i_amp=amp, **STIM)
        return jx.integrate(cell, data_stimuli=cell.branch(1).loc(0.0).data_stimulate(stim))

    amps = jnp.array([0.0, 0.02, 0.05])
    out = jax.vmap(simulate)(amps)
    np.testing.assert_allclose(out[1], jx.integrate(hh_cell()), atol=1e-10)


def test_data_set_equals_set(x64):
    cell = hh_cell()
    pstate = cell.branch(2).data_set("HH_gK", 0.05, None)
    pstate = cell.data_set("v", -65.0, pstate)
    with_data = jx.integrate(cell, param_state=pstate)
    cell.branch(2).set("HH_gK", 0.05)
    cell.set("v", -65.0)
    np.testing.assert_allclose(with_data, jx.integrate(cell), atol=1e-12)


def test_trainable_radius_updates_geometry(x64):
    cell = hh_cell()
    cell.branch(2).make_trainable("radius", 2.0, verbose=False)
    trained = jx.integrate(cell, cell.get_parameters())
    cell.delete_trainables()
    cell.branch(2).set("radius", 2.0)
    np.testing.assert_allclose(trained, jx.integrate(cell), atol=1e-12)


def test_clamp_v_holds_voltage(x64):
    cell = hh_cell()
    cell.delete_stimuli()
    cell.branch(0).comp(0).clamp("v", -40.0 * np.ones(201), verbose=False)
    cell.branch(0).comp(0).record(verbose=False)
    v = np.asarray(jx.integrate(cell))
    np.testing.assert_allclose(v[1, 1:], -40.0)
    assert np.all(np.abs(np.diff(v[0])) > 0)  # the rest of the cell responds


def test_data_clamp_equals_clamp(x64):
    cell = hh_cell()
    cell.branch(2).comp(1).clamp("HH_m", 0.3 * np.ones(201), verbose=False)
    static = jx.integrate(cell)
    cell.delete_clamps()
    data = cell.branch(2).comp(1).data_clamp("HH_m", 0.3 * jnp.ones(201))
    np.testing.assert_allclose(jx.integrate(cell, data_clamps=data), static, atol=1e-12)


def test_record_channel_states_and_currents(x64):
    cell = hh_cell()
    cell.branch(0).comp(1).record("HH_m", verbose=False)
    cell.branch(0).comp(1).record("i_HH", verbose=False)
    out = np.asarray(jx.integrate(cell))
    assert out.shape == (3, 202)
    assert 0 < out[1].min() < out[1].max() < 1
    assert np.all(np.isfinite(out[2]))


def test_float32_runs_are_finite_and_close(x64):
    ref = np.asarray(jx.integrate(hh_cell()))
    with jax.enable_x64(False):
        v32 = np.asarray(jx.integrate(hh_cell()))
    assert v32.dtype == np.float32 and np.all(np.isfinite(v32))
    # Measured max |ΔV| float32 vs float64: ~1e-3 mV; bar 1 mV.
    assert np.abs(v32 - ref).max() < 1.0


def test_retrains_when_trainable_sites_change_with_the_same_shapes(x64):
    cell = hh_cell()
    cell.branch(0).make_trainable("HH_gNa", verbose=False)
    first = jx.integrate(cell, [{"HH_gNa": jnp.array([0.0])}])
    cell.delete_trainables()
    cell.branch(1).make_trainable("HH_gNa", verbose=False)  # same shapes, other compartments
    second = jx.integrate(cell, [{"HH_gNa": jnp.array([0.0])}])
    cell.delete_trainables()
    cell.branch(1).set("HH_gNa", 0.0)
    np.testing.assert_allclose(second, jx.integrate(cell), atol=1e-12)
    assert np.abs(np.asarray(first) - np.asarray(second)).max() > 0.5  # measured 0.84 mV


def test_init_fn_is_jitted_and_keeps_key_order():
    """``init_fn`` runs as one compiled program but returns dicts in the eager key order."""
    from simulator.integrate import _compiled, _init, _initialise
    from simulator.program import InitProgram, freeze_indices, structure_of

    comp = jx.Compartment()
    comp.insert(HH().change_name("HHorder"))  # a structure no other test compiles
    comp.make_trainable("HHorder_gNa", verbose=False)
    init_fn, _ = jx.build_init_and_step_fn(comp)
    before = _init._cache_size()
    states, params = init_fn(comp.get_parameters())
    assert _init._cache_size() == before + 1  # traced and compiled as one program
    compiled = _compiled(comp)
    program = InitProgram(structure_of(compiled),
                          tuple(freeze_indices(i) for i in comp.indices_set_by_trainables), ())
    arrays = {k: jnp.asarray(v) for k, v in compiled.node_arrays.items()}
    eager_states, eager_params = _initialise(program, arrays, comp.get_parameters(), [], None)
    assert list(states) == list(eager_states)
    assert list(params) == list(eager_params)
    assert list(params["axial_conductances"]) == list(eager_params["axial_conductances"])
    for key in eager_states:
        np.testing.assert_allclose(states[key], eager_states[key], rtol=1e-12)


def test_integrate_without_params_uses_trainables_current_values():
    """``integrate(module)`` after ``make_trainable`` runs with ``get_parameters()``."""
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record("v")
    comp.stimulate(jx.step_current(1.0, 2.0, 0.5, 0.025, 5.0))
    comp.make_trainable("HH_gNa", 0.2)
    np.testing.assert_array_equal(jx.integrate(comp, t_max=5.0),
                                  jx.integrate(comp, comp.get_parameters(), t_max=5.0))
