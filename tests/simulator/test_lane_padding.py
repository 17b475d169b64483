"""Lane padding of mechanism arrays (``simulator.node_index.lane_padding``).

The step evaluates a channel or pump on its nodes plus copies of the last node where XLA's
CPU vectoriser would otherwise fall back to one value at a time (docs/performance.md, "Lane
padding"), and drops the copies' results. Padding must change nothing but speed: the
voltages, states and gradients of the unpadded evaluation (a channel that declares
``lane_padding = False``), unbatched and under ``vmap``, to rounding:
XLA evaluates the exponentials of the padded arrays in vectors and those of the unpadded
ones value by value, which differ in the last bit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import node_index as ix
from simulator.channels import HH, CaL
from simulator.pumps import CaPump

#: |Δv| (mV) padded vs unpadded over 10 ms with spikes, float64 (float32 is not padded):
#: measured 8.4e-11 (HH, 13 nodes), 5.7e-13 (CaL + CaPump).
ATOL = 1e-9


class UnpaddedHH(HH):
    lane_padding = False


class UnpaddedCaL(CaL):
    lane_padding = False


class UnpaddedCaPump(CaPump):
    lane_padding = False


def test_rule():
    f64, f32 = jnp.float64, jnp.float32
    assert [ix.lane_padding(n, f64) for n in (1, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19)] == \
        [0, 0, 3, 2, 1, 0, 3, 2, 1, 0, 0, 0]
    assert [ix.lane_padding(n, f32) for n in (9, 13, 15, 22, 23, 31)] == [0] * 6


def test_pad_and_unpad():
    x = jnp.arange(5.0)
    padded = ix.pad_lanes(x, 3)
    np.testing.assert_array_equal(padded, [0, 1, 2, 3, 4, 4, 4, 4])
    np.testing.assert_array_equal(ix.unpad_lanes(padded, 5, 3), x)
    assert ix.pad_lanes(jnp.float32(2.0), 3).shape == ()  # scalars broadcast as they are
    assert ix.unpad_lanes(jnp.float32(2.0), 5, 3).shape == ()
    np.testing.assert_array_equal(ix.pad_lanes(x, 0), x)
    # take pads after reading, whichever form the read takes (all, runs, gather)
    for inds, want in ((np.arange(5), [0, 1, 2, 3, 4, 4]), (np.array([1, 2, 4]), [1, 2, 4, 4]),
                       (np.array([3, 0]), [3, 0, 0])):
        np.testing.assert_array_equal(ix.take(x, inds, 1), want)


def _cable(ncomp, channel, pump=None):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=[-1])
    cell.insert(channel)
    if pump is not None:
        cell.insert(pump)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(0).comp(ncomp - 1).record("v", verbose=False)
    return cell


def _run(cell, amp):
    stim = cell.branch(0).comp(0).data_stimulate(
        amp * jx.step_current(1.0, 5.0, 1.0, 0.025, 10.0), verbose=False)
    return jx.integrate(cell, t_max=10.0, delta_t=0.025, data_stimuli=stim)


@pytest.mark.parametrize("ncomp", [10, 13])
def test_padded_hh_equals_unpadded(ncomp, x64):
    padded, plain = _cable(ncomp, HH()), _cable(ncomp, UnpaddedHH("HH"))
    assert ix.lane_padding(ncomp, jnp.float64) > 0
    amps = jnp.array([0.2, 0.5, 1.0])
    atol = ATOL
    np.testing.assert_allclose(_run(padded, 1.0), _run(plain, 1.0), rtol=0, atol=atol)
    got = jax.vmap(lambda a: _run(padded, a))(amps)
    want = jax.vmap(lambda a: _run(plain, a))(amps)
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)
    assert np.all(np.isfinite(np.asarray(got)))


def test_padded_gradients_equal_unpadded(x64):
    """Reverse and forward mode through the padding equal the unpadded derivatives.
    Measured relative difference: 3e-15 (reverse), 4e-15 (forward)."""
    cells = (_cable(13, HH()), _cable(13, UnpaddedHH("HH")))

    def loss(cell, g):
        params = [{"HH_gNa": g[None]}]
        return jnp.sum(jx.integrate(cell, params=params, t_max=5.0, delta_t=0.025) ** 2)

    for cell in cells:
        cell.make_trainable("HH_gNa")
    g = jnp.array(0.12)
    grads = [jax.grad(lambda x, c=c: loss(c, x))(g) for c in cells]
    assert np.isfinite(float(grads[0]))
    np.testing.assert_allclose(float(grads[0]), float(grads[1]), rtol=1e-9)
    tangents = [jax.jvp(lambda x, c=c: loss(c, x), (g,), (jnp.ones(()),))[1] for c in cells]
    np.testing.assert_allclose(float(tangents[0]), float(tangents[1]), rtol=1e-9)


def test_padded_pump_and_calcium_channel_equal_unpadded(x64):
    padded = _cable(13, CaL(), CaPump())
    plain = _cable(13, UnpaddedCaL("CaL"), UnpaddedCaPump("CaPump"))
    for cell in (padded, plain):
        cell.record("CaCon_i", verbose=False)
    got = jax.vmap(lambda a: _run(padded, a))(jnp.array([0.5, 2.0]))
    want = jax.vmap(lambda a: _run(plain, a))(jnp.array([0.5, 2.0]))
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_channel_that_mixes_nodes_can_opt_out(x64):
    """A channel whose update uses a sum over its nodes would see the padded copies; with
    ``lane_padding = False`` it sees exactly its nodes."""
    seen = []

    class Mixing(UnpaddedHH):
        def update_states(self, states, dt, v, params):
            seen.append(v.shape)
            return super().update_states(states, dt, v, params)

    jx.integrate(_cable(13, Mixing("HH")), t_max=0.05, delta_t=0.025)
    assert seen and all(shape == (13,) for shape in seen)
