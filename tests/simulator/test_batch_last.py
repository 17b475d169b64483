"""Node-major batches (``simulator.batch_last``).

Under ``vmap`` a :func:`~simulator.batch_last.batch_last` function runs on ``(n, B)`` arrays
instead of ``vmap``'s ``(B, n)``. That must change nothing but speed: outputs, gradients and
forward derivatives equal those of plain ``vmap`` of the same function (to rounding: XLA
fuses and vectorises the two layouts differently), whatever the batch size, including a
batch as long as the node axis (where a wrong broadcast would pass silently) and a batch of
one, and whichever arguments are batched.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.batch_last import batch_last, supports_batch_last
from simulator.channels import HH, CaL, CaT, Leak
from simulator.extracellular import point_contacts
from simulator.pumps import CaNernstReversal, CaPump
from simulator.solvers.registry import make_solver
from simulator.step import make_step_fn
from simulator.synapses import IonotropicSynapse, TanhRateSynapse

#: max |Δv| (mV) of the soma trace, node-major vs plain vmap, 10 ms with spikes (the runs
#: below): float64 measured ≤ 2.3e-11; float32 ≤ 0.017 (bwd_euler: a spike's upstroke
#: shifted by rounding; fwd_euler ≤ 1e-4; the final states ≤ 2e-4).
ATOL = {"float64": 1e-9, "float32": 0.03}


def _scan(x, p):
    """A toy step: leading-axis indexing, elementwise arithmetic, a shared parameter."""
    def body(c, drive):
        new = c * p["decay"] + drive
        new = new.at[0].add(0.5 * c[-1])
        return new, new[1]
    return jax.lax.scan(body, x, p["drive"])


@pytest.mark.parametrize("batch", [1, 3, 4])
@pytest.mark.parametrize("drive_batched", [False, True])
def test_generic_function_equals_vmap(batch, drive_batched, x64):
    n = 4  # a batch of 4 is as long as the node axis
    x = jnp.arange(batch * n, dtype=jnp.float64).reshape(batch, n) / 7.0
    drive = jnp.linspace(0.0, 1.0, 5 * n).reshape(5, n)
    p = {"decay": jnp.linspace(0.5, 0.9, n), "drive": drive}
    axes = {"decay": None, "drive": 0 if drive_batched else None}
    if drive_batched:
        p["drive"] = jnp.stack([drive * (1 + b) for b in range(batch)])
    want = jax.vmap(_scan, in_axes=(0, axes))(x, p)
    got = jax.vmap(batch_last(_scan), in_axes=(0, axes))(x, p)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-15), got, want)
    # Unbatched: the function itself.
    p0 = {**p, "drive": p["drive"][0]} if drive_batched else p
    np.testing.assert_array_equal(batch_last(_scan)(x[0], p0)[0], _scan(x[0], p0)[0])


def test_carried_and_shared_outputs(x64):
    def f(state, p):
        return state * p, p * 2.0  # the second output depends on shared values only

    state, p = jnp.ones(3), jnp.arange(3.0)
    out = jax.vmap(batch_last(f, carried=(0,)), in_axes=(None, 0))(state, jnp.stack([p, p + 1]))
    np.testing.assert_array_equal(out[0], [p, p + 1])
    out = jax.vmap(batch_last(f, carried=(0,)), in_axes=(0, None))(jnp.stack([state] * 2), p)
    assert out[1].shape == (2, 3)
    np.testing.assert_array_equal(out[1], [2 * p, 2 * p])


def test_derivatives_go_through_the_plain_function(x64):
    x = jnp.arange(8.0).reshape(2, 4) / 5.0
    p = {"decay": jnp.linspace(0.5, 0.9, 4), "drive": jnp.ones((5, 4))}

    def loss(f):
        return lambda x, p: jnp.sum(jax.vmap(f, in_axes=(0, None))(x, p)[1] ** 2)

    for argnums in (0, 1):
        want = jax.grad(loss(_scan), argnums)(x, p)
        got = jax.grad(loss(batch_last(_scan)), argnums)(x, p)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-14),
                               got, want)
    want = jax.jacfwd(loss(_scan))(x, p)
    np.testing.assert_allclose(jax.jacfwd(loss(batch_last(_scan)))(x, p), want, rtol=1e-14)


def test_second_derivatives(x64):
    """Hessians (forward over reverse) unbatched and under vmap, as without the wrapper."""
    x = jnp.arange(8.0).reshape(2, 4) / 5.0
    p = {"decay": jnp.linspace(0.5, 0.9, 4), "drive": jnp.ones((5, 4))}
    def one(f):
        return lambda x: jnp.sum(jnp.sin(f(x, p)[1]))

    def batched(f):
        return lambda x: jnp.sum(jnp.sin(jax.vmap(f, in_axes=(0, None))(x, p)[1]))

    fast = batch_last(_scan, carried=(0,))
    np.testing.assert_allclose(jax.hessian(one(fast))(x[0]), jax.hessian(one(_scan))(x[0]),
                               rtol=1e-13)
    np.testing.assert_allclose(jax.hessian(batched(fast))(x), jax.hessian(batched(_scan))(x),
                               rtol=1e-13)


# ------------------------------------------------------------------ the simulator's step

def _branched_cell():
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=3)] * 4, parents=[-1, 0, 0, 1])
    cell.insert(HH())
    cell.branch(2).insert(Leak())
    return cell


def _calcium_cell():
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)] * 2, parents=[-1, 0])
    cell.insert(HH())
    cell.insert(CaL())
    cell.insert(CaT())
    cell.insert(CaPump())
    cell.insert(CaNernstReversal())
    return cell


def _network():
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)], parents=[-1])
    net = jx.Network([cell] * 3)
    net.insert(HH())
    jx.connect(net.cell(0).branch(0).comp(1), net.cell(1).branch(0).comp(0),
               IonotropicSynapse())
    jx.connect(net.cell(1).branch(0).comp(1), net.cell(2).branch(0).comp(0),
               IonotropicSynapse())
    jx.connect(net.cell(2).branch(0).comp(0), net.cell(0).branch(0).comp(0),
               TanhRateSynapse())
    return net


MODULES = {"branched": _branched_cell, "calcium": _calcium_cell, "network": _network}
SOLVERS = ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler")


def _compiled(module):
    module.base.to_jax()
    return module.base._compiled


def _runs(module, solver, n_steps, amps, voltage_solver="jaxley.dhs"):
    """Plain and node-major ``vmap`` of ``n_steps`` steps from rest, one stimulus amplitude
    (nA, into node 0) per batch member; returns both final voltage arrays (B, n_nodes) and
    the traces of node 0."""
    compiled = _compiled(module)
    step = make_step_fn(compiled, make_solver(solver, compiled, voltage_solver))
    init_fn, _ = jx.build_init_and_step_fn(module, solver=solver)
    states, params = init_fn(module.get_parameters())
    prepared = step.prepare(params, 0.025)
    inds = {"i": np.array([0])}

    def run(states, params, amp, prepared):
        def body(s, _):
            s = step(s, params, {"i": amp[None]}, inds, 0.025, prepared)
            return s, s["v"][0]
        return jax.lax.scan(body, states, None, length=n_steps)

    axes = (None, None, 0, None)
    plain = jax.jit(jax.vmap(run, in_axes=axes))(states, params, amps, prepared)
    fast = jax.jit(jax.vmap(batch_last(run, carried=(0,), shared=(3,)), in_axes=axes))(
        states, params, amps, prepared)
    return plain, fast, compiled, step


#: (solver, precision) cases: every solver in float64; in float32 the default solver and the
#: explicit one run by default, the other two with ``-m slow`` (two compilations each).
CASES = [(solver, "float64") for solver in SOLVERS] + [
    (solver, "float32") if solver in ("bwd_euler", "fwd_euler")
    else pytest.param(solver, "float32", marks=pytest.mark.slow) for solver in SOLVERS]


@pytest.mark.parametrize("name", list(MODULES))
@pytest.mark.parametrize(("solver", "precision"), CASES)
def test_step_node_major_equals_vmap(name, solver, precision):
    with jax.enable_x64(precision == "float64"):
        _node_major_equals_vmap(name, solver, precision)


def _node_major_equals_vmap(name, solver, precision):
    module = MODULES[name]()
    n_nodes = _compiled(module).numbering.n_nodes
    amps = jnp.linspace(-0.05, 1.0, n_nodes)  # a batch as long as the node axis
    plain, fast, compiled, step = _runs(module, solver, 400, amps)
    assert supports_batch_last(compiled, step.solver)
    np.testing.assert_allclose(fast[1], plain[1], atol=ATOL[precision], rtol=0)
    for key, want in plain[0].items():
        np.testing.assert_allclose(fast[0][key], want, atol=ATOL[precision], rtol=1e-6,
                                   err_msg=key)
    assert float(jnp.max(plain[1])) > 0.0, "no spike: the comparison is too easy"


def test_wide_dhs_levels_node_major(x64):
    """The accelerators' DHS schedule (levels of up to 32 nodes) with trailing batch axes."""
    module = _branched_cell()
    amps = jnp.linspace(-0.05, 1.0, 14)
    plain, fast, _, step = _runs(module, "bwd_euler", 400, amps, "jaxley.dhs.gpu")
    assert supports_batch_last(_compiled(module), step.solver)
    np.testing.assert_allclose(fast[1], plain[1], atol=ATOL["float64"], rtol=0)
    assert float(jnp.max(plain[1])) > 0.0


def test_supports():
    class MyChannel(HH):  # a channel of the user's: not declared elementwise
        elementwise = False

    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)], parents=[-1])
    cell.insert(HH())
    compiled = _compiled(cell)
    assert supports_batch_last(compiled, make_solver("bwd_euler", compiled))
    assert supports_batch_last(compiled, make_solver("exp_euler", compiled))
    assert not supports_batch_last(compiled, make_solver("bwd_euler", compiled, "dense"))
    mine = jx.Cell([jx.Branch(jx.Compartment(), ncomp=2)], parents=[-1])
    mine.insert(MyChannel("HH"))
    assert not supports_batch_last(_compiled(mine), make_solver("bwd_euler", _compiled(mine)))


def test_gradient_of_jitted_function_under_vmap(x64):
    """grad of vmap of jit: the derivative rule's outputs must be batched along the axes the
    node-major rule gave (a scan's stacked output comes batched along its second axis from
    plain vmap; before the fix this raised a broadcasting TypeError)."""
    x = jnp.arange(8.0).reshape(2, 4) / 5.0
    p = {"decay": jnp.linspace(0.5, 0.9, 4), "drive": jnp.ones((5, 4))}

    def loss(f):
        g = jax.jit(lambda x, p: (jnp.all(f(x, p)[1] > 0) & jnp.all(f(x, p)[0] > 0),
                                  f(x, p)[1]))

        def total(x):
            ok, trace = jax.vmap(g, in_axes=(0, None))(x, p)
            return jnp.sum(jnp.where(ok[:, None], trace, 0.0) ** 2)
        return total

    np.testing.assert_allclose(jax.grad(loss(batch_last(_scan, carried=(0,))))(x),
                               jax.grad(loss(_scan))(x), rtol=1e-14)


def _cell_with_lead():
    cell = jx.Cell([jx.Branch(jx.Compartment(), ncomp=4)] * 2, parents=[-1, 0])
    cell.insert(HH())
    cell.compute_xyz()
    cell.add_electrode(point_contacts([[100.0, 40.0, 0.0], [-50.0, 80.0, 10.0]]), name="lead")
    cell.record_extracellular("lead")
    cell.branch(1).comp(3).record("v", verbose=False)
    pulse = jnp.zeros(201).at[40:60].set(-2.0)  # µA at contact c0
    cell.stimulate_extracellular("lead", pulse, contacts="c0")
    return cell


@pytest.mark.parametrize("solver", ["bwd_euler", "exp_euler"])
def test_integrate_with_electrodes_under_vmap_equals_loop(solver, x64):
    """vmapped integrate runs node-major with the electrodes' matrices shared (recorded
    potentials and contact stimulation); over electrode positions it falls back to plain
    vmap (tests/simulator/extracellular/test_extracellular_runs.py)."""
    cell = _cell_with_lead()
    amps = jnp.linspace(0.0, 0.6, 5)

    def run(amp):
        stim = cell.branch(0).comp(0).data_stimulate(amp * jnp.ones(201), verbose=False)
        return jx.integrate(cell, delta_t=0.025, data_stimuli=stim, solver=solver)

    batched = jax.jit(jax.vmap(run))(amps)
    looped = jnp.stack([run(a) for a in amps])
    assert float(jnp.max(looped[:, 0])) > 0.0  # spikes
    # Measured max |Δ| 1.9e-11 (bwd_euler), 8.9e-12 (exp_euler), mV and µV rows.
    np.testing.assert_allclose(batched, looped, rtol=0, atol=1e-8)
