"""BasalGangliaDBS-v0: relay error index and delivered charge of DBS policies.

The issue's bar for a learned or optimised policy: an error index (EI) at or below open-loop
130 Hz DBS's with at least 40 % less delivered charge, over 5 seeds × 16 held-out episodes.
Each policy is evaluated on the same held-out episodes (keys 1000 + seed); EI is the
So et al. (2012) error index of the whole 1 s episode (misses, bad responses and spurious
spikes over 20 pulses × 2 TC cells, the network's initial transient included), recovered
from the rewards: errors = −2 (Σ reward + charge_penalty Σ f), f = (a + 1)/2 the amplitude
as a fraction of full DBS (400 µA/cm²). Charge is the mean f, the fraction of open-loop DBS's
charge. An episode that ends early (a numerical error) stops counting there.

Policies (the action a sets the amplitude (a + 1)/2 × 400 µA/cm²): no DBS (a = −1);
open-loop 130 Hz at full amplitude (a = 1); the constant amplitude
with the best mean return on separate tuning episodes (a 1-parameter policy optimised by
search); the beta-threshold aDBS controller tuned the same way; a beta-feedback policy
learned by evolution strategies (:func:`neuroenv.es.train_es`; ``--es-generations``, 0 to
skip); PPO (rejax, the project's ``neuroenv.ppo`` configuration, all seeds vmapped;
``--ppo-steps``, 0 to skip).

    python bench/dbs_policies.py [--ppo-steps 32768] [--es-generations 12] [--seeds 5]
        [--episodes 16]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baselines import _dbs_threshold  # noqa: E402  (the aDBS controller)

TUNE_EPISODES = 8


def _metrics(env, params, returns, rewards, currents, lengths):
    """(n,) EI, charge fraction and return per episode from rewards (n, T), currents
    (n, T, 1) and episode lengths (n,)."""
    import numpy as np

    amp = np.abs(np.asarray(currents)[..., -1]) / float(env._contacts.scales[-1])
    amp = amp * (np.arange(amp.shape[1]) < np.asarray(lengths)[:, None])  # until the end
    penalty = float(params.task["charge_penalty"])
    errors = -2.0 * (np.asarray(rewards).sum(axis=1) + penalty * amp.sum(axis=1))
    n_pulses = 2 * int(round(env.period_ms * int(params.max_steps_in_episode) / 50.0))
    return errors / n_pulses, amp.mean(axis=1), np.asarray(returns)


def _evaluate(env, params, make_policy, thetas, seeds, episodes):
    """EI, charge and return of member i of ``thetas`` on seed i's held-out episodes,
    each (n_seeds, episodes)."""
    import jax
    import numpy as np

    from neuroenv.episode import episode

    keys = [jax.random.split(jax.random.key(1000 + s), episodes) for s in seeds]

    def member(theta, ks):
        run = jax.vmap(lambda k: episode(env, params, make_policy(theta), k,
                                         int(params.max_steps_in_episode), False))
        out = run(ks)
        return out.returns, out.rewards, out.currents, out.lengths

    results = jax.jit(jax.vmap(member))(thetas, jax.numpy.stack(keys))
    out = [_metrics(env, params, *r) for r in zip(*results, strict=True)]
    return [np.stack(x) for x in zip(*out, strict=True)]


def _tuned(env, params, make_policy, grid):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from neuroenv.evaluation import evaluate_family

    keys = jax.random.split(jax.random.key(999), TUNE_EPISODES)
    grid = jnp.asarray(grid, jnp.float32)
    returns = np.asarray(evaluate_family(env, params, make_policy, grid, keys))
    return grid[int(np.argmax(returns.mean(axis=1)))]


def _beta_policy(theta):
    """a = tanh(θ₀ + θ₁ log(1 + β)), β the observed beta power in ``POWER_REF`` units."""
    import jax.numpy as jnp

    return lambda obs, key: jnp.tanh(theta[0] + theta[1] * jnp.log1p(obs))


def _es_row(env, params, seeds, args):
    """The beta-feedback policy learned by evolution strategies on training episodes (keys
    seed·7919, never the held-out 1000 + seed), evaluated on the held-out episodes."""
    import jax
    import jax.numpy as jnp

    from neuroenv.es import train_es

    start = time.perf_counter()
    keys = jnp.stack([jax.random.key(7919 * (s + 1)) for s in seeds])
    generations = args.es_generations
    thetas, history = train_es(env, params, _beta_policy, jnp.zeros(2), keys,
                               generations=generations, population=4,
                               episodes=args.es_episodes, sigma=args.es_sigma,
                               learning_rate=args.es_lr, sigma_final=args.es_sigma_final or None,
                               resample=not args.es_fixed_episodes)
    print("ES mean training return per generation:",
          " ".join(f"{r:.2f}" for r in history.mean_return.mean(axis=1)))
    print("ES θ per seed:", [tuple(float(x) for x in t) for t in thetas])
    sigma = f"σ {args.es_sigma}" + (f"→{args.es_sigma_final}" if args.es_sigma_final else "")
    episodes = ("fixed " if args.es_fixed_episodes else "") + f"{args.es_episodes} episodes"
    name = (f"ES-learned a = tanh(θ₀ + θ₁ log(1+β)) ({generations} generations × "
            f"{episodes}, {sigma}, lr {args.es_lr}, {time.perf_counter() - start:.0f} s)")
    return (name, *_evaluate(env, params, _beta_policy, thetas, seeds, args.episodes))


def _constant(theta):
    return lambda obs, key: theta


def _threshold(theta):  # theta: (amplitude action, beta power µV²)
    return _dbs_threshold(theta[0], theta[1])


def _fixed_rows(env, physical, params, seeds, episodes):
    """No DBS, open loop, and the constant and aDBS policies tuned on separate episodes."""
    import jax.numpy as jnp

    best = _tuned(env, params, _constant, [[a] for a in jnp.linspace(-0.6, 1.0, 17)])
    aDBS = _tuned(physical, params, _threshold,
                  list(itertools.product((-0.2, 0.2, 0.6, 1.0), (1e-4, 3e-4, 1e-3, 3e-3))))
    cases = [("no DBS", env, _constant, [-1.0]), ("open-loop 130 Hz", env, _constant, [1.0]),
             (f"tuned constant a = {float(best[0]):.2f}", env, _constant, best),
             (f"tuned aDBS {tuple(round(float(x), 4) for x in aDBS)}", physical, _threshold,
              aDBS)]
    rows = []
    for name, e, factory, theta in cases:
        thetas = jnp.broadcast_to(jnp.asarray(theta, jnp.float32), (len(seeds), len(theta)))
        rows.append((name, *_evaluate(e, params, factory, thetas, seeds, episodes)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ppo-steps", type=int, default=32_768)
    parser.add_argument("--es-generations", type=int, default=10)
    parser.add_argument("--es-episodes", type=int, default=8,
                        help="training episodes per ES member and generation")
    parser.add_argument("--es-sigma", type=float, default=0.4)
    parser.add_argument("--es-lr", type=float, default=0.4)
    parser.add_argument("--es-sigma-final", type=float, default=0.1,
                        help="σ decays geometrically to this (0: constant σ)")
    parser.add_argument("--es-fixed-episodes", action=argparse.BooleanOptionalAction,
                        default=True, help="train on one fixed set of episodes per seed")
    parser.add_argument("--skip-fixed", action="store_true",
                        help="only the learned policies (no DBS, open loop, tuned rows)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    args = parser.parse_args(argv)
    import neuroenv

    env, params = neuroenv.make("BasalGangliaDBS-v0")
    physical, _ = neuroenv.make("BasalGangliaDBS-v0", obs_units="physical")
    seeds = list(range(args.seeds))

    rows = [] if args.skip_fixed else _fixed_rows(env, physical, params, seeds, args.episodes)
    if args.es_generations:
        rows.append(_es_row(env, params, seeds, args))
    if args.ppo_steps:
        from neuroenv import ppo

        start = time.perf_counter()
        make_policy, states, _ = ppo.train_seeds(env, params, args.ppo_steps, seeds)
        name = f"PPO (rejax, {args.ppo_steps // 1000}k steps, {time.perf_counter() - start:.0f} s)"
        rows.append((name, *_evaluate(env, params, make_policy, states, seeds, args.episodes)))
    print("| policy | EI (mean ± std over seeds) | charge (fraction of open loop) | return |")
    print("|---|---|---|---|")
    for name, ei, charge, ret in rows:
        print(f"| {name} | {ei.mean():.3f} ± {ei.mean(axis=1).std():.3f} | "
              f"{charge.mean():.3f} | {ret.mean():.2f} ± {ret.mean(axis=1).std():.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
