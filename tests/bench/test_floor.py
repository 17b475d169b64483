"""bench/floor.py: the arithmetic-floor kernel is a real simulation of the same cell.

Its voltage traces are compared with ``simulator.integrate`` of the same module (backward
Euler, the same discretisation) on every path of the kernel: an unbranched cable (the
Thomas case), the branched env cell (unrolled Hines), a tree above ``UNROLL_MAX`` nodes
(scanned Hines), HH on a subset of compartments with Leak elsewhere (gathered gates), and
point neurons with ionotropic synapses. Every case spikes, so float32 differences are
rounding amplified by spike timing. No timing is asserted.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from bench import floor
from simulator.channels import HH, Leak
from simulator.synapses import IonotropicSynapse

DT = 0.025
T_MAX = 15.0
#: float64: the kernel and our step agree to rounding; measured max |ΔV| over the cases
#: 4.6e-12 … 1.1e-10 mV (network largest).
TOL_F64_MV = 1e-9
#: float32: measured max |ΔV| 2.1e-3 … 5.4e-3 mV (big_tree largest; every case spikes, and
#: rounding differs between the kernel's plain Hines and our row-sum form).
TOL_F32_MV = 0.02


def env_cell():
    from neuroenv.cells import hh_cell

    cell, soma = hh_cell()
    soma.stimulate(jx.step_current(1.0, T_MAX, 0.3, DT, T_MAX), verbose=False)
    cell.branch(2).comp(3).record("v", verbose=False)
    return cell


def chain():
    branch = jx.Branch(jx.Compartment(), ncomp=8)
    branch.insert(HH())
    branch.comp(0).stimulate(jx.step_current(1.0, T_MAX, 0.1, DT, T_MAX), verbose=False)
    branch.comp(0).record("v", verbose=False)
    branch.comp(7).record("v", verbose=False)
    return branch


def big_tree():
    parents = [-1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9]
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=parents)
    cell.insert(HH())
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, T_MAX, 1.0, DT, T_MAX),
                                     verbose=False)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(19).comp(3).record("v", verbose=False)
    return cell


def partial_hh():
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1, 1])
    cell.insert(Leak())
    cell.branch(0).insert(HH())
    cell.branch(0).comp(1).stimulate(jx.step_current(1.0, T_MAX, 0.2, DT, T_MAX),
                                     verbose=False)
    cell.branch(0).comp(1).record("v", verbose=False)
    cell.branch(4).comp(3).record("v", verbose=False)
    return cell


def network():
    net = jx.Network([jx.Cell() for _ in range(3)])
    net.insert(HH())
    jx.connect(net.cell(0), net.cell(1), IonotropicSynapse())
    jx.connect(net.cell(0), net.cell(2), IonotropicSynapse())
    jx.connect(net.cell(1), net.cell(2), IonotropicSynapse())
    net.set("IonotropicSynapse_gS", 0.5)
    net.cell(0).stimulate(jx.step_current(1.0, T_MAX, 0.05, DT, T_MAX), verbose=False)
    net.cell([0, 1, 2]).record("v", verbose=False)
    return net


CASES = {"env_cell": env_cell, "chain": chain, "big_tree": big_tree,
         "partial_hh": partial_hh, "network": network}


@pytest.fixture(params=["float64", "float32"])
def dtype(request):
    x64 = request.param == "float64"
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", x64)
    yield request.param
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("case", list(CASES))
def test_floor_trace_matches_simulator(case, dtype):
    module = CASES[case]()
    ours = np.asarray(jx.integrate(module, t_max=T_MAX, delta_t=DT))
    prob = floor.floor_problem(module)
    if case == "big_tree":
        assert prob.n > floor.UNROLL_MAX  # the scanned solve
    if case == "partial_hh":
        assert not prob.hh_all  # the gathered gates
    run = floor.floor_runner(prob, ours.shape[1] - 1, DT, dtype)
    out = np.asarray(run(jnp.ones(2)))
    assert out.shape == (2, *ours.shape)
    assert out.dtype == np.dtype(dtype)
    assert ours.max() > 0.0  # the case spikes (a real test of the gates)
    tol = TOL_F64_MV if dtype == "float64" else TOL_F32_MV
    np.testing.assert_allclose(out[0], ours, atol=tol, rtol=0)
    np.testing.assert_array_equal(out[0], out[1])


def test_floor_amp_scales_the_stimulus():
    module = chain()
    run = floor.floor_runner(floor.floor_problem(module), 200, DT)
    out = np.asarray(run(jnp.asarray([0.0, 1.0])))
    assert np.ptp(out[0, 0]) < np.ptp(out[1, 0])  # no stimulus: near rest


def test_floor_rejects_unknown_channels_and_bad_steps():
    from simulator.channels import K

    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1])
    cell.insert(K())
    cell.branch(0).comp(0).record("v", verbose=False)
    with pytest.raises(ValueError, match="HH and Leak"):
        floor.floor_problem(cell)
    with pytest.raises(ValueError, match="n_steps"):
        floor.floor_runner(floor.floor_problem(chain()), 0)


def test_solve_order_puts_parents_first():
    order = floor.solve_order(np.array([-1, 0, 3, 0, 2]))
    pos = np.empty(5, int)
    pos[order] = np.arange(5)
    parents = np.array([-1, 0, 3, 0, 2])
    assert all(pos[p] < pos[i] for i, p in enumerate(parents) if p >= 0)
    with pytest.raises(ValueError, match="forest"):
        floor.solve_order(np.array([1, 0]))


def test_unrolled_and_scanned_solves_agree(dtype):
    """The accelerator path (``unroll=True`` above ``UNROLL_MAX``) computes the same trace."""
    prob = floor.floor_problem(big_tree())
    amp = jnp.ones(1)
    a = np.asarray(floor.floor_runner(prob, 200, DT, dtype, unroll=True)(amp))
    b = np.asarray(floor.floor_runner(prob, 200, DT, dtype, unroll=False)(amp))
    # measured max |ΔV| over 5 ms with a spike: 5.9e-13 mV (float64), 2.1e-4 mV (float32);
    # the scan divides once per node up front (x0 = b/d, lower/d), the unrolled form per use.
    np.testing.assert_allclose(a, b, atol=1e-11 if dtype == "float64" else 2e-3, rtol=0)


def test_stepper_continues_the_runner(x64):
    """The state-carrying floor (the gym row's) equals one long run of the same kernel:
    40-step calls with a constant current, read at each call's last step (measured: 0,
    the same arithmetic)."""
    from bench import floor_workloads as fw

    initial, run = floor.floor_stepper(floor.floor_problem(fw.env_cell(0.1, 1.0), DT), 40, DT)
    long = floor.floor_runner(floor.floor_problem(fw.env_cell(0.1, 10.0), DT), 400, DT)
    want = np.asarray(long(jnp.ones(1)))[0, 0, 40::40]
    carry, got = initial(jnp.ones(1)), []
    for _ in range(10):
        carry, v = run(carry)
        got.append(float(np.asarray(v).ravel()[0]))
    assert max(got) > 0.0  # the cell spiked: the regime of the env's stepping
    np.testing.assert_array_equal(got, want)
