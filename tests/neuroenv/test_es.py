"""``neuroenv.es.train_es``: evolution strategies learn from returns alone."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.es import _centred_ranks, train_es
from neuroenv.evaluation import evaluate_family


def _target_env():
    env, params = neuroenv.make("VoltageTarget-v0")
    return env, params.replace(max_steps_in_episode=4)


def _constant(theta):
    return lambda obs, key: jnp.tanh(theta)


def test_centred_ranks_span_minus_half_to_half():
    w = np.asarray(_centred_ranks(jnp.asarray([3.0, -1.0, 10.0, 0.0])))
    # measured: 2e-8 (1/6 in float32)
    np.testing.assert_allclose(w, [1 / 6, -0.5, 0.5, -1 / 6], atol=1e-7)


#: θ far below the target's holding current (a ≈ −0.96), and the run both tests make.
THETA0 = -2.0
RUN = {"generations": 6, "population": 4, "episodes": 2, "sigma": 0.3, "learning_rate": 0.3}


def test_es_improves_the_return():
    env, params = _target_env()
    theta0 = jnp.full(1, THETA0)
    theta, history = train_es(env, params, _constant, theta0, jax.random.key(3), **RUN)
    assert theta.shape == (1,) and history.theta.shape == (7, 1)
    assert history.mean_return.shape == (6,)
    eval_keys = jax.random.split(jax.random.key(99), 4)
    before, after = np.asarray(evaluate_family(
        env, params, _constant, jnp.stack([theta0, theta]), eval_keys)).mean(axis=1)
    assert after > before, (before, after)


@pytest.mark.slow  # a second compilation of the whole training (seeds vmapped): 15-35 s
def test_seeds_in_one_call_are_independent():
    """Two seeds in one call: the first equals the single-seed run with its key."""
    env, params = _target_env()
    theta0, key = jnp.full(1, THETA0), jax.random.key(3)
    theta, _ = train_es(env, params, _constant, theta0, key, **RUN)
    keys = jnp.stack([key, jax.random.key(4)])
    thetas, hist2 = train_es(env, params, _constant, theta0, keys, **RUN)
    assert thetas.shape == (2, 1) and hist2.mean_return.shape == (6, 2)
    # measured: equal to 0 in float32 (the same members, episodes and arithmetic)
    np.testing.assert_allclose(np.asarray(thetas[0]), np.asarray(theta), atol=1e-6)
    assert not np.allclose(np.asarray(thetas[0]), np.asarray(thetas[1]))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"population": 3}, "population must be even"),
    ({"sigma": 0.0}, "sigma must be a positive finite number"),
    ({"learning_rate": float("nan")}, "learning_rate must be a positive finite"),
    ({"generations": 0}, "generations"),
    ({"theta0": jnp.zeros((2, 1))}, "theta0 must be a flat"),
])
def test_bad_arguments_are_named(kwargs, match):
    env, params = _target_env()
    args = {"theta0": jnp.zeros(1), **kwargs}
    with pytest.raises(ValueError, match=match):
        train_es(env, params, _constant, key=jax.random.key(0), **args)


def test_sigma_schedule_is_geometric():
    from neuroenv.es import _sigmas

    np.testing.assert_allclose(_sigmas(0.4, 0.1, 3), [0.4, 0.2, 0.1], rtol=1e-12)
    np.testing.assert_allclose(_sigmas(0.4, None, 3), [0.4] * 3)


@pytest.mark.parametrize("resample", [True, False])
def test_fixed_training_episodes(resample):
    """Without resampling every generation scores its members on generation 0's episodes:
    with θ barely moving (σ 1e-6, learning rate 1e-12: steps ≈ 1e-6) the generations' mean
    returns agree; with resampling they are other episodes (other initial-voltage jitter)
    and differ."""
    env, params = _target_env()
    _, history = train_es(env, params, _constant, jnp.zeros(1), jax.random.key(5),
                          generations=3, population=2, episodes=2, sigma=1e-6,
                          learning_rate=1e-12, resample=resample)
    spread = float(np.ptp(history.mean_return))
    if resample:
        assert spread > 1e-3, history.mean_return
    else:
        # measured: 8e-6 (the same episodes; θ moved by ~1e-6 between generations)
        assert spread < 1e-4, history.mean_return
