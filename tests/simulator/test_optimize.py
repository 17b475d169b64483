"""simulator.optimize (jaxley's jaxley.optimize): transforms, TypeOptimizer, l2_norm.

The installed jaxley 0.14.0 is the reference for the transforms' values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jaxley.optimize.transforms as jaxley_transforms
import numpy as np
import optax
import pytest
from jaxley.optimize.utils import l2_norm as jaxley_l2_norm

import simulator as jx
import simulator.optimize.transforms as jt
from simulator.optimize import TypeOptimizer
from simulator.optimize.utils import l2_norm


def _pairs():
    """(ours, jaxley's) transform pairs with the same arguments, and the interval of x."""
    return {
        "identity": (jt.IdentityTransform(), jaxley_transforms.IdentityTransform()),
        "sigmoid": (jt.SigmoidTransform(-2.0, 3.0), jaxley_transforms.SigmoidTransform(-2.0, 3.0)),
        "logistic": (jt.LogisticTransform(1e-3, 1e3),
                     jaxley_transforms.LogisticTransform(1e-3, 1e3)),
        "softplus": (jt.SoftplusTransform(2.0), jaxley_transforms.SoftplusTransform(2.0)),
        # jaxley's NegSoftplusTransform(upper) bounds at -upper (a bug, see
        # test_negsoftplus_bound_is_upper); both agree for upper = 0.
        "negsoftplus": (jt.NegSoftplusTransform(0.0), jaxley_transforms.NegSoftplusTransform(0.0)),
        "affine": (jt.AffineTransform(3.0, -1.0), jaxley_transforms.AffineTransform(3.0, -1.0)),
        "chain": (jt.ChainTransform([jt.AffineTransform(0.5, 0.0), jt.SoftplusTransform(0.1)]),
                  jaxley_transforms.ChainTransform([jaxley_transforms.AffineTransform(0.5, 0.0),
                                                    jaxley_transforms.SoftplusTransform(0.1)])),
        "masked": (jt.MaskedTransform(jnp.arange(9) % 2 == 0, jt.SigmoidTransform(0.0, 1.0)),
                   jaxley_transforms.MaskedTransform(jnp.arange(9) % 2 == 0,
                                                     jaxley_transforms.SigmoidTransform(0.0, 1.0))),
        "custom": (jt.CustomTransform(jnp.exp, jnp.log),
                   jaxley_transforms.CustomTransform(jnp.exp, jnp.log)),
    }


@pytest.mark.parametrize("name", list(_pairs()))
def test_transform_matches_jaxley_and_inverts(name, precision):
    ours, ref = _pairs()[name]
    dtype = jnp.float32 if precision == "float32" else jnp.float64
    x = jnp.linspace(-4.0, 4.0, 9, dtype=dtype)
    y = ours.forward(x)
    assert y.dtype == dtype
    # Measured: largest |ours - jaxley| 0 (float64 and float32: the same expressions).
    np.testing.assert_allclose(y, ref.forward(x), rtol=1e-12 if dtype == jnp.float64 else 1e-6)
    np.testing.assert_allclose(ours(x), y)
    # Measured round-trip error: float64 9e-16; float32 2.9e-5 (logistic at x = 4, where
    # 1 - sigmoid = 7e-4 keeps 4 digits), so 1e-12 / 1e-4 absolute on |x| <= 4.
    atol = 1e-12 if dtype == jnp.float64 else 1e-4
    np.testing.assert_allclose(ours.inverse(y), x, atol=atol)


def test_inverse_matches_jaxley_inside_bounds(x64):
    # Softplus' inverse uses expm1 (jaxley: exp - 1): measured difference 2e-16 at y - lower
    # in [0.1, 30], so 1e-12.
    for ours, ref, y in [
        (jt.SoftplusTransform(2.0), jaxley_transforms.SoftplusTransform(2.0),
         jnp.linspace(2.1, 32.0, 50)),
        (jt.SigmoidTransform(-2.0, 3.0), jaxley_transforms.SigmoidTransform(-2.0, 3.0),
         jnp.linspace(-1.9, 2.9, 50)),
        (jt.NegSoftplusTransform(0.0), jaxley_transforms.NegSoftplusTransform(0.0),
         jnp.linspace(-30.0, -0.1, 50)),
    ]:
        np.testing.assert_allclose(ours.inverse(y), ref.inverse(y), rtol=1e-12, atol=1e-12)


def test_bounded_transforms_respect_their_bounds(x64):
    x = jnp.linspace(-50.0, 50.0, 101)
    y = jt.SigmoidTransform(-2.0, 3.0).forward(x)
    assert np.all(y > -2.0) and np.all(y <= 3.0)
    # softplus(-30) = 9e-14 still shows next to 1.5 in float64 (softplus(-50) would not).
    x = jnp.linspace(-30.0, 30.0, 61)
    assert np.all(jt.SoftplusTransform(1.5).forward(x) > 1.5)
    assert np.all(jt.NegSoftplusTransform(1.5).forward(-x) < 1.5)
    # The clipped exponential keeps the sigmoid invertible at its lower end.
    assert np.all(np.isfinite(jt.SigmoidTransform(-2.0, 3.0).inverse(y[:50])))


def test_negsoftplus_bound_is_upper(x64):
    """NegSoftplusTransform(upper) maps onto (-inf, upper), as jaxley documents; jaxley
    0.14's own code bounds at -upper (forward(0) = -upper - log 2)."""
    tf = jt.NegSoftplusTransform(2.0)
    np.testing.assert_allclose(tf.forward(jnp.asarray(0.0)), 2.0 - np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(tf.forward(jnp.asarray(40.0)), 2.0, rtol=1e-15)
    np.testing.assert_allclose(jaxley_transforms.NegSoftplusTransform(2.0).forward(0.0),
                               -2.0 - np.log(2.0), rtol=1e-15)


def test_transforms_jit_and_grad(precision):
    tf = jt.ChainTransform([jt.SigmoidTransform(-2.0, 2.0), jt.SoftplusTransform(2.0)])
    x = jnp.linspace(-1.0, 1.0, 4)
    np.testing.assert_allclose(jax.jit(tf.forward)(x), tf.forward(x), rtol=1e-6)
    grad = jax.grad(lambda z: jnp.sum(tf.forward(z)))(x)
    assert np.all(np.isfinite(grad)) and np.all(grad > 0)


def test_param_transform_on_parameter_list_and_single_transform(x64):
    params = [{"radius": jnp.asarray([1.0, 2.0])}, {"HH_gNa": jnp.asarray([0.12])}]
    tf = jx.ParamTransform([{"radius": jt.SoftplusTransform(0.0)},
                            {"HH_gNa": jt.SigmoidTransform(0.0, 1.0)}])
    unconstrained = tf.inverse(params)
    back = tf.forward(unconstrained)
    for got, want in zip(back, params, strict=True):
        # Measured round-trip error 2e-16.
        np.testing.assert_allclose(next(iter(got.values())), next(iter(want.values())),
                                   rtol=1e-12)
    one = jx.ParamTransform(jt.AffineTransform(2.0, 1.0))
    assert np.allclose(one.forward(params)[0]["radius"], [3.0, 5.0])
    assert np.allclose(one.forward(jnp.ones((4, 4))), 3.0)


def test_param_transform_structure_mismatch_names_it():
    tf = jx.ParamTransform([{"radius": jt.IdentityTransform()}])
    with pytest.raises(ValueError, match="structure"):
        tf.forward([{"radius": jnp.ones(2)}, {"length": jnp.ones(2)}])


@pytest.mark.parametrize("make, error", [
    (lambda: jt.SigmoidTransform(2.0, 1.0), ValueError),
    (lambda: jt.LogisticTransform(1.0, 1.0), ValueError),
    (lambda: jt.AffineTransform(0.0, 1.0), ValueError),
    (lambda: jt.ChainTransform([jt.IdentityTransform(), "softplus"]), TypeError),
    (lambda: jt.MaskedTransform(jnp.ones(2, dtype=bool), lambda x: x), TypeError),
    (lambda: jt.CustomTransform(jnp.exp, 3), TypeError),
])
def test_bad_transform_arguments(make, error):
    with pytest.raises(error):
        make()


def test_l2_norm_matches_numpy_and_jaxley(x64):
    tree = [{"a": 0.01}, {"b": jnp.asarray([[0.003, 0.05]])}, {"c": jnp.asarray([0.006, 0.07])},
            0.04]
    expected = np.sqrt(np.sum(np.asarray([0.01, 0.003, 0.05, 0.006, 0.07, 0.04]) ** 2))
    # Same summation order as numpy's on six numbers: equal to the last bit.
    assert l2_norm(tree).item() == expected
    assert l2_norm(tree).item() == jaxley_l2_norm(tree).item()
    assert l2_norm([]).item() == 0.0


def _quadratic_problem():
    params = [{"radius": jnp.asarray([1.0])}, {"HH_gNa": jnp.asarray([1.0])}]

    def loss(p):
        return (p[0]["radius"][0] - 3.0) ** 2 + (p[1]["HH_gNa"][0] - 0.5) ** 2

    return params, loss


def test_type_optimizer_equals_one_optax_optimizer_per_name(x64):
    params, loss = _quadratic_problem()
    lrs = {"radius": 0.1, "HH_gNa": 0.01}
    opt = TypeOptimizer(optax.adam, lrs, params)
    state = opt.init(params)
    ref_opts = [optax.adam(0.1), optax.adam(0.01)]
    ref_states = [o.init(p) for o, p in zip(ref_opts, params, strict=True)]
    ref_params = params
    for _ in range(5):
        grads = jax.grad(loss)(params)
        updates, state = opt.update(grads, state)
        params = optax.apply_updates(params, updates)
        ref_grads = jax.grad(loss)(ref_params)
        new = [o.update(g, s) for o, g, s in zip(ref_opts, ref_grads, ref_states, strict=True)]
        ref_states = [s for _, s in new]
        ref_params = optax.apply_updates(ref_params, [u for u, _ in new])
    # Identical arithmetic: bit-equal.
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(np.array_equal, params, ref_params))
    assert params[0]["radius"][0] > 1.4 and params[1]["HH_gNa"][0] < 0.96


def test_type_optimizer_passes_per_name_arguments():
    params, _ = _quadratic_problem()
    seen = []
    TypeOptimizer(lambda args: seen.append(args) or optax.sgd(args[0], momentum=args[1]),
                  {"radius": [1.0, 0.2], "HH_gNa": [0.01, 0.9]}, params)
    assert seen == [[1.0, 0.2], [0.01, 0.9]]


def test_type_optimizer_bad_input():
    params, _ = _quadratic_problem()
    with pytest.raises(ValueError, match="HH_gNa"):
        TypeOptimizer(optax.adam, {"radius": 0.1}, params)
    with pytest.raises(ValueError, match="one parameter name"):
        TypeOptimizer(optax.adam, {"radius": 0.1}, [{"radius": 1.0, "length": 2.0}])
    with pytest.raises(TypeError, match="callable"):
        TypeOptimizer(0.1, {"radius": 0.1}, params)
    opt = TypeOptimizer(optax.adam, {"radius": 0.1, "HH_gNa": 0.1}, params)
    with pytest.raises(ValueError, match="opt_params has 1 entries, expected 2"):
        opt.init(params[:1])
