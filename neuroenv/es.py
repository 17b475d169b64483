"""Evolution strategies: derivative-free policy search on a functional env.

Where returns are not differentiable (spike counts, relay errors) or too chaotic for
gradients through a whole episode, the policy's parameters can still be learned from returns
alone. This is the antithetic, rank-shaped evolution strategy of Salimans et al. (2017,
"Evolution Strategies as a Scalable Alternative to Reinforcement Learning"): each generation
perturbs θ by ±σε for ``population // 2`` Gaussian directions ε, runs every member on the
same fresh training episodes (common random numbers: the members differ only by their
parameters), and moves θ along the rank-weighted sum of the directions. All members and
episodes of a generation are one compiled call
(:func:`neuroenv.evaluation.evaluate_family`), so a generation costs one batched rollout.

    theta, history = train_es(env, params, make_policy, theta0, jax.random.key(0))
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.evaluation import evaluate_family
from neuroenv.validation import positive_int


class ESHistory(NamedTuple):
    """What :func:`train_es` did, one row per generation.

    Attributes:
        mean_return: (generations,) mean return of the generation's members on its
            training episodes ((generations, S) for S seeds).
        theta: (generations + 1, d) the flat parameters before each generation and after
            the last ((generations + 1, S, d) for S seeds).
    """

    mean_return: np.ndarray
    theta: np.ndarray


def _centred_ranks(returns: jax.Array) -> jax.Array:
    """Ranks of ``returns`` ((n,)) mapped linearly onto [−0.5, 0.5] (ties broken by order)."""
    ranks = jnp.argsort(jnp.argsort(returns))
    return ranks / (returns.shape[0] - 1) - 0.5


def _check(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _sizes(generations, population, episodes) -> tuple[int, int, int]:
    """The counts, checked: positive integers, ``population`` even."""
    out = tuple(positive_int(name, value) for name, value in (
        ("generations", generations), ("population", population), ("episodes", episodes)))
    if out[1] % 2:
        raise ValueError(f"population must be even (antithetic pairs), got {population}")
    return out


def _sigmas(sigma: float, sigma_final: float | None, generations: int) -> np.ndarray:
    """(generations,) perturbation scales: constant, or geometric from ``sigma`` to
    ``sigma_final`` (each checked: a positive finite number)."""
    sigma = _check("sigma", sigma)
    if sigma_final is None or generations == 1:
        return np.full(generations, sigma)
    sigma_final = _check("sigma_final", sigma_final)
    return sigma * (sigma_final / sigma) ** (np.arange(generations) / (generations - 1))


def _draws(keys, g: int, half: int, d: int, episodes: int, resample: bool):
    """Generation ``g``'s antithetic directions ((S, 2·half, d)) and training-episode keys
    ((S, episodes)) from ``fold_in(key, g)`` of each seed's key ((S,)); without
    ``resample`` the episodes are always generation 0's."""
    def split(h):
        return jax.vmap(jax.random.split)(jax.vmap(jax.random.fold_in, (0, None))(keys, h))

    eps = jax.vmap(lambda k: jax.random.normal(k, (half, d), jnp.float32))(split(g)[:, 0])
    ep_src = split(g if resample else 0)[:, 1]
    ep_keys = jax.vmap(lambda k: jax.random.split(k, episodes))(ep_src)
    return jnp.concatenate([eps, -eps], axis=1), ep_keys


def train_es(env, params, make_policy, theta0, key, generations: int = 20,
             population: int = 8, episodes: int = 4, sigma: float = 0.1,
             learning_rate: float = 0.05, sigma_final: float | None = None,
             resample: bool = True):
    """Learn ``theta`` maximising the mean episode return of ``make_policy(theta)``.

    Args:
        env, params: a functional env and its params.
        make_policy: ``make_policy(theta) -> policy(obs, key) -> action``, traceable in
            ``theta`` (a flat (d,) float32 array).
        theta0: (d,) initial parameters.
        key: a JAX key, or (S,) keys to train S independent seeds in the same compiled
            calls; generation g of a seed draws its directions and training episodes
            from ``fold_in(key, g)``.
        generations: number of updates.
        population: members per generation, even (``population // 2`` antithetic pairs).
        episodes: training episodes per member and generation (shared by the members).
        sigma: perturbation scale (units of ``theta``).
        learning_rate: step size of the gradient ascent on the rank-shaped return,
            θ += learning_rate × Σᵢ wᵢ εᵢ / (population σ), wᵢ ∈ [−½, ½] the centred rank
            of member i.
        sigma_final: if given, σ decays geometrically from ``sigma`` (first generation) to
            ``sigma_final`` (last): large steps explore, small ones settle near a cliff of
            the return that a large σ smooths over. The learning rate decays with σ²,
            so the step (∝ learning_rate / σ) shrinks in proportion to σ.
        resample: draw fresh training episodes every generation (``True``), or optimise on
            one fixed set of ``episodes`` drawn from ``fold_in(key, 0)`` (``False``: a
            deterministic objective, the sample average over those episodes).

    Returns:
        ``(theta, history)``: the (d,) learned parameters ((S, d) for S keys) and an
        :class:`ESHistory` (with a seed axis after the generation axis for S keys).
    """
    generations, population, episodes = _sizes(generations, population, episodes)
    learning_rate = _check("learning_rate", learning_rate)
    sigmas = _sigmas(sigma, sigma_final, generations)
    theta = jnp.asarray(theta0, jnp.float32)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be a flat (d,) array, got shape {theta.shape}")
    keys = jnp.asarray(key)
    n_seeds, d, half = (keys.shape[0] if keys.ndim else 1), theta.shape[0], population // 2
    keys = keys.reshape(n_seeds)
    theta = jnp.broadcast_to(theta, (n_seeds, d))
    means, thetas = [], [np.asarray(theta)]
    for g in range(generations):
        eps, ep_keys = _draws(keys, g, half, d, episodes, resample)
        members = (theta[:, None] + sigmas[g] * eps).reshape(-1, d)
        member_keys = jnp.repeat(ep_keys, population, axis=0)  # (S·population, episodes)
        returns = evaluate_family(env, params, make_policy, members, member_keys)
        returns = returns.mean(axis=1).reshape(n_seeds, population)
        weights = jax.vmap(_centred_ranks)(returns)
        rate = learning_rate * (sigmas[g] / sigmas[0]) ** 2  # the step shrinks with σ
        theta = theta + rate * jnp.einsum("sp,spd->sd", weights, eps) / (
            population * sigmas[g])
        means.append(np.asarray(returns.mean(axis=1)))
        thetas.append(np.asarray(theta))
    if not jnp.asarray(key).ndim:
        theta, means, thetas = theta[0], [m[0] for m in means], [t[0] for t in thetas]
    return theta, ESHistory(np.asarray(means), np.stack(thetas))
