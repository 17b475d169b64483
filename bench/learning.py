"""Do standard RL trainers learn the tasks out of the box? PPO with default hyperparameters.

Run from the repository root::

    python -m bench.learning                       # every rejax task and SB3, 5 seeds
    python -m bench.learning --tasks VoltageTarget-v0 --seeds 1 --no-sb3   # a quick check
    python -m bench.learning --markdown bench/learning.md

For each task, rejax 0.1.3's PPO is created exactly as a user would::

    rejax.PPO.create(env=neuroenv.adapters.GymnaxLegacy(env), env_params=params,
                     total_timesteps=131_072, num_envs=16)

— rejax's default agent (Gaussian MLP policy, 64×64, swish, initial std 1) and default
hyperparameters; only ``total_timesteps`` and ``num_envs`` are set. (rejax's periodic
evaluation, which only reports and does not change the training, is switched off to save
time.) The seeds are trained at once (``vmap`` of rejax's jitted training loop). Each
trained agent then plays ``--episodes`` held-out episodes (keys never used in training)
with its deterministic policy (the mean of the Gaussian, clipped to [−1, 1]); the zero-current
policy plays the same episodes. A seed's score is its mean return; the table shows the
mean ± std over seeds, and the improvement ``(trained − zero) / |zero|``; the target is
≥ 30 % on every task.

SB3 (``--sb3``, on by default when stable-baselines3 is installed): ``PPO("MlpPolicy",
gymnasium.make("neuroenv/VoltageTarget-v0"), seed=s)`` with default hyperparameters, trained
for 100,000 steps, then scored the same way on held-out episodes (``reset(seed=...)``).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

#: Tasks of the rejax rows.
REJAX_TASKS = ("VoltageTarget-v0", "SpikeRate-v0", "VoltageTrack-v0", "Silence-v0",
               "Desynchronize-v0", "DendriteControl-v0")
#: The only rejax settings given (everything else is rejax's default).
REJAX_TIMESTEPS = 131_072
REJAX_NUM_ENVS = 16
SB3_TASK = "VoltageTarget-v0"
SB3_TIMESTEPS = 100_000
#: Required improvement over zero current.
TARGET = 0.30
#: Held-out evaluation keys start here (training uses jax.random.key(seed), seed < 1000).
EVAL_SEED = 123_456


def make_rejax_ppo(env, params, timesteps: int = REJAX_TIMESTEPS,
                   num_envs: int = REJAX_NUM_ENVS):
    """rejax's PPO with its default agent and hyperparameters (only ``total_timesteps`` and
    ``num_envs`` set), periodic evaluation off."""
    import rejax

    from neuroenv.adapters import GymnaxLegacy

    algo = rejax.PPO.create(env=GymnaxLegacy(env), env_params=params,
                            total_timesteps=int(timesteps), num_envs=int(num_envs),
                            eval_freq=int(timesteps), skip_initial_evaluation=True)
    return algo.replace(eval_callback=lambda algo, ts, rng: ())


def mean_policy(algo, train_state, n_sites: int):
    """``policy(obs, key)``: the mean action of a rejax Gaussian actor, clipped to [−1, 1]."""

    def policy(obs, key):
        dist = algo.actor.apply(train_state.actor_ts.params, obs[None], method="_action_dist")
        return jnp.clip(jnp.reshape(dist.mean(), (n_sites,)), -1.0, 1.0)

    return policy


def rejax_task(task: str, seeds, episodes: int, timesteps: int = REJAX_TIMESTEPS,
               num_envs: int = REJAX_NUM_ENVS, obs_units: str = "scaled") -> dict:
    """Train rejax PPO (defaults) on ``task`` for every seed at once and score it
    (``obs_units="physical"``: on the unscaled observations, for comparison).

    Returns:
        ``{"task", "zero", "trained" (per-seed mean returns), "wall_s", "steps"}``.
    """
    import neuroenv
    from neuroenv.evaluation import constant, evaluate, evaluate_family

    env, params = neuroenv.make(task, obs_units=obs_units)
    algo = make_rejax_ppo(env, params, timesteps, num_envs)
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    start = time.perf_counter()
    states = jax.block_until_ready(jax.jit(jax.vmap(lambda k: algo.train(rng=k)[0]))(keys))
    wall = time.perf_counter() - start
    eval_key = jax.random.key(EVAL_SEED)
    zero = evaluate(env, params, constant(np.zeros(env.n_sites)), eval_key, episodes)
    trained = evaluate_family(env, params, lambda ts: mean_policy(algo, ts, env.n_sites),
                              states, jax.random.split(eval_key, episodes))
    trainer = "rejax PPO" + ("" if obs_units == "scaled" else f" ({obs_units} obs)")
    return {"task": task, "trainer": trainer,
            "zero": float(np.mean(np.asarray(zero.returns))),
            "trained": np.asarray(trained).mean(axis=-1).tolist(),
            "wall_s": wall, "steps": int(timesteps)}


def sb3_task(task: str, seeds, episodes: int, timesteps: int = SB3_TIMESTEPS) -> dict:
    """SB3 PPO with default hyperparameters on the gymnasium env, one seed after another."""
    import gymnasium as gym
    from stable_baselines3 import PPO

    import neuroenv  # noqa: F401  (registers the ids)

    def play(env, act, seed_offset):
        returns = []
        for e in range(episodes):
            obs, _ = env.reset(seed=EVAL_SEED + seed_offset + e)
            done, total = False, 0.0
            while not done:
                obs, reward, terminated, truncated, _ = env.step(act(obs))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        return float(np.mean(returns))

    trained, start = [], time.perf_counter()
    env = gym.make(f"neuroenv:neuroenv/{task}")
    zero_action = np.zeros(env.action_space.shape, np.float32)
    zero = play(env, lambda obs: zero_action, 0)
    for s in seeds:
        model = PPO("MlpPolicy", env, seed=int(s), verbose=0, device="cpu")
        model.learn(total_timesteps=int(timesteps))
        trained.append(play(env, lambda obs, m=model: m.predict(obs, deterministic=True)[0], 0))
        print(f"  SB3 seed {s}: {trained[-1]:.1f} (zero current {zero:.1f}), "
              f"{time.perf_counter() - start:.0f} s so far", flush=True)
    env.close()
    return {"task": task, "trainer": "SB3 PPO", "zero": zero, "trained": trained,
            "wall_s": time.perf_counter() - start, "steps": int(timesteps)}


def improvement(result: dict) -> float:
    """(mean trained return − zero-current return) / |zero-current return| (NaN when the
    zero-current return is 0, e.g. SpikeTiming-v0)."""
    if result["zero"] == 0:
        return float("nan")
    return (np.mean(result["trained"]) - result["zero"]) / abs(result["zero"])


def markdown(results) -> str:
    """The README table of ``results`` (dicts of :func:`rejax_task` / :func:`sb3_task`)."""
    lines = ["| trainer | task | steps | zero current | trained (mean ± std over seeds) "
             "| per seed | improvement | met (≥ 30 %) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        t = np.asarray(r["trained"])
        gain = improvement(r)
        gain_text = "n/a" if np.isnan(gain) else f"{100 * gain:+.0f} %"
        lines.append(f"| {r['trainer']} | {r['task']} | {r['steps'] // 1000}k "
                     f"| {r['zero']:.1f} | {t.mean():.1f} ± {t.std():.1f} "
                     f"| {', '.join(f'{x:.1f}' for x in t)} "
                     f"| {gain_text} | {'yes' if gain >= TARGET else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="*", default=list(REJAX_TASKS),
                    help="rejax tasks (default: the six of the README table; none: skip)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=16, help="held-out episodes per seed")
    ap.add_argument("--timesteps", type=int, default=REJAX_TIMESTEPS)
    ap.add_argument("--sb3", dest="sb3", action="store_true", default=None)
    ap.add_argument("--no-sb3", dest="sb3", action="store_false")
    ap.add_argument("--sb3-timesteps", type=int, default=SB3_TIMESTEPS)
    ap.add_argument("--obs-units", default="scaled", choices=("scaled", "physical"),
                    help="observation units of the rejax rows (physical: the old mV)")
    ap.add_argument("--markdown", metavar="PATH", help="write the table to PATH")
    args = ap.parse_args(argv)
    seeds = list(range(args.seeds))
    results = []
    for task in args.tasks:
        r = rejax_task(task, seeds, args.episodes, args.timesteps, obs_units=args.obs_units)
        print(f"{task}: zero {r['zero']:.1f}, trained {np.mean(r['trained']):.1f} ± "
              f"{np.std(r['trained']):.1f} ({100 * improvement(r):+.0f} %), "
              f"{r['wall_s']:.0f} s", flush=True)
        results.append(r)
    sb3 = args.sb3
    if sb3 is None:
        try:
            import stable_baselines3  # noqa: F401
            sb3 = True
        except ImportError:
            print("stable-baselines3 is not installed: no SB3 row")
            sb3 = False
    if sb3:
        r = sb3_task(SB3_TASK, seeds, args.episodes, args.sb3_timesteps)
        print(f"SB3 {SB3_TASK}: zero {r['zero']:.1f}, trained {np.mean(r['trained']):.1f} ± "
              f"{np.std(r['trained']):.1f} ({100 * improvement(r):+.0f} %), "
              f"{r['wall_s']:.0f} s", flush=True)
        results.append(r)
    table = markdown(results)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0 if all(improvement(r) >= TARGET for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
