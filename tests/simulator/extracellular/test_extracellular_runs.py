"""Runs with electrodes: vmap over positions under jit, float32, the four solvers, the
jit-safe input paths (integrate and step_fn) and the near-field warning."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from neuron_extracellular import ball_and_stick, biphasic

import simulator as jx
from simulator.extracellular import point_contacts

N_STEPS = 200
LEAD = [[200.0, 60.0, 0.0], [350.0, -40.0, 20.0]]


def _cell(current=None, record_v=True):
    """Ball-and-stick (HH dendrite) with a 2-contact lead, recorded (µV rows last), contact 0
    driven by ``current`` (µA, (T,)) if given, and a soma step current."""
    cell = ball_and_stick(8, True)
    cell.add_electrode(point_contacts(LEAD), name="lead")
    cell.record_extracellular("lead")
    if record_v:
        cell.record("v", verbose=False)
    if current is not None:
        cell.stimulate_extracellular("lead", current, contacts="c0")
    return cell


def test_vmap_over_8_positions_under_jit_equals_loop(x64):
    cell = _cell(biphasic(N_STEPS, 20.0))
    base = point_contacts(LEAD).positions
    shifts = jnp.stack([jnp.array([0.0, 10.0 * k, 5.0 * k]) for k in range(8)])

    def run(shift):
        return jx.integrate(cell, delta_t=0.025,
                            electrodes={"lead": {"positions": base + shift}})

    batched = jax.jit(jax.vmap(run))(shifts)
    looped = jnp.stack([run(s) for s in shifts])
    assert batched.shape == (8, 9 + 2, N_STEPS + 1)
    assert float(jnp.ptp(batched[:, 1:9] - batched[:1, 1:9])) > 0.1  # positions matter
    print("vmap vs loop", float(jnp.abs(batched - looped).max()))
    # Measured max |Δ| 2.3e-13 (the same operations, batched).
    np.testing.assert_allclose(batched, looped, rtol=0, atol=1e-9)


def test_float32_close_to_float64():
    current = biphasic(N_STEPS, 20.0)
    with jax.enable_x64(True):
        ref = np.asarray(jx.integrate(_cell(current), delta_t=0.025))
    ours = np.asarray(jx.integrate(_cell(current), delta_t=0.025))
    assert ours.dtype == np.float32
    v_err = np.abs(ours[:9] - ref[:9]).max()
    lfp_err = np.abs(ours[9:] - ref[9:]).max() / np.abs(ref[9:]).max()
    print("float32 V_m max |Δ| mV", v_err, "LFP rel", lfp_err)
    assert np.abs(ref[9:]).max() > 1.0
    assert v_err <= 1e-3  # measured 2.5e-4 mV
    assert lfp_err <= 4e-5  # measured 2.0e-5 (6.1e-5 without v − v[0] in the LFP)


@functools.cache
def _run(solver, dt, t_max=2.0):
    """V_m (9, T) of the passive-dendrite cell under a smooth contact current (µA) sampled
    at the middle of each step (so that crank_nicolson keeps its order)."""
    cell = ball_and_stick(8, False)
    cell.add_electrode(point_contacts([[200.0, 30.0, 0.0]]), name="lead")
    n = int(round(t_max / dt))
    t = (np.arange(n) + 0.5) * dt
    cell.stimulate_extracellular("lead", 20.0 * np.sin(2 * np.pi * t / 1.0))
    cell.record("v", verbose=False)
    out = np.asarray(jx.integrate(cell, delta_t=dt, solver=solver))
    return out[:, :: int(round(0.05 / dt))]  # every 0.05 ms


@pytest.mark.parametrize(("solver", "order"), [("bwd_euler", 1), ("fwd_euler", 1),
                                               ("exp_euler", 1), ("crank_nicolson", 2)])
def test_solvers_converge_at_their_order_with_stimulation(x64, solver, order):
    # NEURON is no oracle for crank_nicolson here: with `extracellular` inserted, its
    # secondorder ≥ 1 shifts V_m by a uniform step in e_extracellular (5.08 mV for 5 mV,
    # measured), which physically has no effect; its secondorder 0 is bwd_euler's oracle.
    ref = _run("crank_nicolson", 0.000625)
    errs = [np.abs(_run(solver, dt) - ref).max() for dt in (0.005, 0.0025)]
    ratio = errs[0] / errs[1]
    print(solver, errs, ratio)
    assert np.ptp(ref) > 0.5  # the stimulus does something
    # Measured error ratios dt 0.005 / 0.0025 (max |ΔV| 0.91 / 0.91 / 3.6 / 0.0078 mV at
    # 0.005): bwd 2.00, fwd 2.00, exp 1.98, crank_nicolson 4.20.
    assert 2**order * 0.8 <= ratio <= 2**order * 1.25


@pytest.mark.parametrize("solver", ["bwd_euler", "fwd_euler", "exp_euler", "crank_nicolson"])
def test_uniform_potential_has_no_effect_in_every_solver(x64, solver):
    plain = ball_and_stick(8, True)
    plain.record("v", verbose=False)
    far = ball_and_stick(8, True)
    far.record("v", verbose=False)
    far.add_electrode(point_contacts([[0.0, 0.0, 1e9]]), name="far")
    # ±265 mV at the cell, uniform to 1e-16 relative (the cell lies along x, the contact 1 km
    # away along z): the activating function is zero, whatever the solver.
    far.stimulate_extracellular("far", 1e9 * np.sin(np.arange(N_STEPS)))
    a = np.asarray(jx.integrate(plain, t_max=(N_STEPS - 1) * 0.025, solver=solver))
    b = np.asarray(jx.integrate(far, solver=solver))
    print(solver, np.abs(a - b).max())
    assert np.abs(a - b).max() <= 1e-9  # measured ≤ 1.8e-12 mV


def test_data_stimulate_in_integrate_and_step_fn_equals_stimulate(x64):
    current = biphasic(N_STEPS, 20.0)
    ref = np.asarray(jx.integrate(_cell(current)))
    cell = _cell()
    via_data = jax.jit(lambda c: jx.integrate(cell, data_stimuli=cell.data_stimulate_extracellular(
        "lead", c, contacts="c0")))(jnp.asarray(current))
    print("data", np.abs(via_data - ref).max())
    np.testing.assert_allclose(via_data, ref, rtol=0, atol=1e-12)  # measured 0
    # step_fn: the same currents per step, the voltages equal.
    init_fn, step_fn = jx.build_init_and_step_fn(_cell())
    states, params = init_fn([])
    inds = {"i_extracellular": np.array([0])}
    step = jax.jit(lambda s, p, x: step_fn(s, p, {"i_extracellular": x}, inds))
    vs = [states["v"][:9]]
    for k in range(N_STEPS):
        states = step(states, params, jnp.asarray(current[k : k + 1]))
        vs.append(states["v"][:9])
    print("step_fn", np.abs(np.stack(vs, axis=1) - ref[:9]).max())
    np.testing.assert_allclose(np.stack(vs, axis=1), ref[:9], rtol=0, atol=1e-12)  # measured 0


@pytest.mark.parametrize("model", ["point", "line"])
def test_contact_within_a_radius_warns_once(model):
    """Checked at build time in one compiled program whose distances come back to warn on
    (simulator.extracellular.near_field.deferred): one warning naming the model."""
    cell = ball_and_stick(8, True)
    cell.record("v", verbose=False)
    soma_centre = np.asarray(cell.nodes[["x", "y", "z"]].to_numpy()[0])
    cell.add_electrode(point_contacts([soma_centre + [0.0, 3.0, 0.0]]), name="in",  # r 10
                       model=model)
    cell.stimulate_extracellular("in", np.ones(20))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = jx.integrate(cell)
    near = [w for w in caught if "closer than the compartment radius" in str(w.message)]
    assert len(near) == 1, [str(w.message) for w in caught]
    assert f"({model} source)" in str(near[0].message)
    assert np.all(np.isfinite(np.asarray(out)))


def test_step_fn_contact_index_out_of_range_names_the_limit():
    init_fn, step_fn = jx.build_init_and_step_fn(_cell())
    states, params = init_fn([])
    with pytest.raises(ValueError, match=r"\[0, 2\) \(the module's electrode contacts\), got"
                       r" \[5\]"):
        step_fn(states, params, {"i_extracellular": jnp.ones(1)},
                {"i_extracellular": np.array([5])})


def test_network_lfp_is_the_sum_of_its_cells(x64):
    # Two cells, each with a branch point, different stimuli: the superposition holds for
    # the network's one LFP matrix (branch points and v − v[0] across cells included).
    def cell(k):
        out = ball_and_stick(8, True)
        out.move(0.0, 30.0 * k, 0.0)
        return out

    def stimulate(module, amp):
        module.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, amp, 0.025, 5.0),
                                           verbose=False)

    singles = []
    for k, amp in enumerate((0.3, 0.6)):
        one = cell(k)
        stimulate(one, amp)
        one.add_electrode(point_contacts(LEAD), name="lead")
        one.record_extracellular("lead")
        singles.append(np.asarray(jx.integrate(one, t_max=5.0)))
    net = jx.Network([cell(0), cell(1)])
    for k, amp in enumerate((0.3, 0.6)):
        stimulate(net.cell(k), amp)
    net.add_electrode(point_contacts(LEAD), name="lead")
    net.record_extracellular("lead")
    both = np.asarray(jx.integrate(net, t_max=5.0))
    assert np.abs(both).max() > 1.0
    # Measured max |Δ| 1.1e-12 µV (3.2 µV peak).
    np.testing.assert_allclose(both, singles[0] + singles[1], rtol=0, atol=1e-9)
