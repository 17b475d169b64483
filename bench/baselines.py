"""Baselines of every task: zero current, best constant current, a tuned P/rule controller,
PPO (rejax, on the functional env) and PPO from sbx (on the gymnasium env).

Run: ``python bench/baselines.py`` (all tasks; about an hour on two CPU cores) or
``python bench/baselines.py --tasks VoltageTarget-v0 SpikeRate-v0 --quick``. Needs
``pip install -e ".[baselines]"`` (rejax for PPO, sbx-rl for the gymnasium-side trainer; a
trainer that is not installed is skipped). Prints a Markdown table (the README's) and writes
it to ``--out`` (default ``bench/baselines.md``), where it replaces the rows of the tasks run
and keeps the others.

Protocol
--------
- **Seeds**: ``--seeds`` (default 5). Every number is mean ± std over seeds of the seed's
  mean return on ``--episodes`` (default 16) held-out episodes of the task's full length
  (episode keys differ per seed and from the tuning episodes).
- **Best constant**: every site at the same action a ∈ {−1, −0.75, …, 1}, chosen on 16
  tuning episodes.
- **Tuned controller**: a task's hand-written controller (P + feed-forward, rectified P,
  timing rule, delayed feedback; :data:`CONTROLLERS`) with its gains chosen from a grid on
  the tuning episodes.
- **PPO (rejax)**: :mod:`neuroenv.ppo` (its ``CONFIG``), ``--ppo-steps`` env steps per
  seed, all seeds trained at once (``vmap``); the deterministic (mean) policy is evaluated.
  Wall time includes compilation.
- **PPO (sbx)**: ``sbx.PPO("MlpPolicy")`` with default hyperparameters on
  ``gymnasium.make("neuroenv:neuroenv/<task>")``, ``--sbx-steps`` env steps per seed, seeds in
  sequence; evaluated deterministically on held-out gymnasium episodes (seeded resets).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import neuroenv
from neuroenv.evaluation import evaluate_family
from neuroenv.registry import BASE_TASKS

TUNE_EPISODES = 16


# ------------------------------------------------------------------ hand-written controllers
# They read observations in physical units (mV, Hz, ms): run_task evaluates them on the task
# made with ``obs_units="physical"`` (same dynamics and rewards as the default scaled one).
def _off(env) -> np.ndarray:
    """(n_sites,) the action of no current: −1 for unipolar actuators
    (:mod:`neuroenv.electrodes`), 0 elsewhere."""
    off = np.zeros(env.n_sites, np.float32)
    if env._contacts is not None:
        off[env.n_cell_sites:] = np.where(env._contacts.unipolar, -1.0, 0.0)
    return off


def constant_family(n_sites):
    """``theta`` (1,) -> the policy that puts action theta[0] on every site."""
    return lambda theta: (lambda obs, key: jnp.broadcast_to(theta[0], (n_sites,)))


def _p_ff(obs_v, obs_target, kp, kf):
    """P on the voltage error plus feed-forward of the target's distance from rest (per mV)."""
    return jnp.clip(kp * (obs_target - obs_v) + kf * (obs_target + 65.0), -1.0, 1.0)[None]


def _voltage_target(kp, kf):  # obs: [v, target, error integral]
    return lambda obs, key: _p_ff(obs[0], obs[1], kp, kf)


def _voltage_track(kp, kf):  # obs: [v, target(t), target(t+1), target(t+2), ...]
    return lambda obs, key: _p_ff(obs[0], obs[2], kp, kf)


def _spike_rate(kf, kp):  # obs: [v, rate (Hz), target (Hz)]
    return lambda obs, key: jnp.clip(kf * obs[2] / 100.0 + kp * (obs[2] - obs[1]) / 100.0,
                                     -1.0, 1.0)[None]


def _spike_timing(amplitude, lead):  # obs: [v x 5, time to next request (ms), since spike]
    def policy(obs, key):
        fire = (obs[-2] > lead) & (obs[-2] <= lead + 1.0)
        return jnp.where(fire, amplitude, 0.0)[None].astype(jnp.float32)

    return policy


def _silence(gain, v0):  # obs: [v x 5, spikes]; hyperpolarise only when depolarised
    return lambda obs, key: (-jnp.clip(gain * (obs[-2] - v0), 0.0, 1.0))[None]


def _energy_efficient_spike(amplitude, threshold):  # obs: [v x 4]; pulse while at rest
    return lambda obs, key: jnp.where(obs[-1] < threshold, amplitude, 0.0)[None].astype(
        jnp.float32)


def _desynchronize(gain, delay):
    from neuroenv.tasks.desynchronize import delayed_feedback

    return lambda obs, key: delayed_feedback(obs, gain, jnp.asarray(delay).astype(jnp.int32),
                                             obs_units="physical")


def _dendrite_control(gain, feedforward):
    from neuroenv.tasks.dendrite_control import p_controller

    return lambda obs, key: p_controller(obs, gain, feedforward, obs_units="physical")


def _beta_threshold(amplitude, threshold):  # obs: [beta power (µV²)]; adaptive DBS
    return lambda obs, key: jnp.where(obs[-1] > threshold, -amplitude, 0.0)[None].astype(
        jnp.float32)


def _dbs_threshold(amplitude, threshold):  # obs: [beta power (µV²)]; unipolar adaptive DBS
    return lambda obs, key: jnp.where(obs[-1] > threshold, amplitude, -1.0)[None].astype(
        jnp.float32)


#: task -> (description, controller factory, grid of its arguments)
CONTROLLERS = {
    "VoltageTarget-v0": ("P + feed-forward", _voltage_target,
                         (0.02, 0.04, 0.08, 0.12), (0.0, 0.02, 0.04, 0.06)),
    "VoltageTrack-v0": ("P + feed-forward on target(t+1 ms)", _voltage_track,
                        (0.02, 0.04, 0.08, 0.12), (0.0, 0.02, 0.04, 0.06)),
    "SpikeRate-v0": ("feed-forward + P on the rate", _spike_rate,
                     (0.2, 0.3, 0.4, 0.6), (0.0, 0.5, 1.0, 2.0)),
    "SpikeTiming-v0": ("pulse 1 ms before a request", _spike_timing,
                       (0.6, 0.8, 1.0), (0.4, 0.9, 1.4)),
    "Silence-v0": ("rectified P (hyperpolarise when v > v0)", _silence,
                   (0.1, 0.3, 1.0), (-65.0, -63.0, -61.0, -59.0)),
    "EnergyEfficientSpike-v0": ("pulse while at rest", _energy_efficient_spike,
                                (0.1, 0.125, 0.15, 0.2), (-62.0, -60.0, -58.0)),
    "Desynchronize-v0": ("delayed mean-field feedback", _desynchronize,
                         (0.05, 0.1, 0.15), (0, 1, 2)),
    "DendriteControl-v0": ("P + feed-forward at the nearest site", _dendrite_control,
                           (0.05, 0.1, 0.2, 0.4), (0.0, 0.01, 0.02, 0.03)),
    "BetaSuppression-v0": ("stimulate while beta power > threshold (aDBS)", _beta_threshold,
                           (0.75, 1.0), (10.0, 25.0, 50.0, 100.0)),
    "BasalGangliaDBS-v0": ("DBS while beta power > threshold (aDBS)", _dbs_threshold,
                           (-0.2, 0.2, 0.6, 1.0), (1e-4, 3e-4, 1e-3, 3e-3)),
}


# ------------------------------------------------------------------ evaluation helpers
def _tune(env, params, make_policy, grid):
    """The row of ``grid`` ((G, k)) whose policy has the best mean return on the tuning
    episodes (all candidates in one compiled call)."""
    keys = jax.random.split(jax.random.key(999), TUNE_EPISODES)
    grid = jnp.asarray(grid, jnp.float32)
    returns = np.asarray(evaluate_family(env, params, make_policy, grid, keys))
    return np.asarray(grid[int(np.argmax(returns.mean(axis=1)))])


def _seed_keys(seeds, episodes):
    return jnp.stack([jax.random.split(jax.random.key(1000 + s), episodes) for s in seeds])


def _over_seeds(env, params, make_policy, thetas, seeds, episodes):
    """Per-seed mean return: member i of ``thetas`` on seed i's held-out episodes."""
    returns = evaluate_family(env, params, make_policy, thetas, _seed_keys(seeds, episodes))
    return np.asarray(returns).mean(axis=1)


def _repeat(theta, n):
    return jnp.broadcast_to(jnp.asarray(theta, jnp.float32), (n, *np.shape(theta)))


def _sbx(task, seeds, steps, episodes):
    import gymnasium as gym
    import sbx

    scores, start = [], time.perf_counter()
    for s in seeds:
        env = gym.make(f"neuroenv:neuroenv/{task}")
        model = sbx.PPO("MlpPolicy", env, seed=int(s), verbose=0)
        model.learn(total_timesteps=steps)
        returns = []
        for e in range(episodes):
            obs, _ = env.reset(seed=10_000 * (s + 1) + e)
            done, total = False, 0.0
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += reward
                done = terminated or truncated
            returns.append(total)
        scores.append(np.mean(returns))
        env.close()
    return np.array(scores), time.perf_counter() - start


def run_task(task, args):
    env, params = neuroenv.make(task)  # the learners' (scaled observations)
    physical, _ = neuroenv.make(task, obs_units="physical")  # the hand-written controllers'
    seeds = list(range(args.seeds))
    rows = []

    def row(name, scores, steps="–", wall="–", detail=""):
        rows.append((task, name, f"{scores.mean():.2f} ± {scores.std():.2f}", steps, wall,
                     detail))
        print(f"  {name:<18} {rows[-1][2]:>16}  {steps:>8}  {wall:>7}  {detail}", flush=True)

    print(f"{task} ({int(params.max_steps_in_episode)} periods of {env.period_ms:g} ms)")
    n = len(seeds)
    constant_policy = constant_family(env.n_sites)
    row("zero current", _over_seeds(env, params, lambda theta: (lambda obs, key: theta),
                                    _repeat(_off(env), n), seeds, args.episodes))
    (best,) = _tune(env, params, constant_policy, np.linspace(-1.0, 1.0, 9)[:, None])
    row("best constant", _over_seeds(env, params, constant_policy, _repeat([best], n), seeds,
                                     args.episodes),
        detail=f"a = {best:+.2f} ({_constant_current(env, params, best)})")
    name, factory, *grid = CONTROLLERS[task]
    gains = _tune(physical, params, lambda theta: factory(*theta),
                  list(itertools.product(*grid)))
    row("tuned controller", _over_seeds(physical, params, lambda theta: factory(*theta),
                                        _repeat(gains, n), seeds, args.episodes),
        detail=f"{name}, args ({', '.join(f'{float(g):.3g}' for g in gains)})")
    if args.ppo_steps:
        try:
            from neuroenv import ppo

            make_policy, states, wall = ppo.train_seeds(env, params, args.ppo_steps, seeds)
            row("PPO (rejax)", _over_seeds(env, params, make_policy, states, seeds,
                                           args.episodes),
                f"{args.ppo_steps // 1000}k", f"{wall:.0f} s", "all seeds vmapped")
        except ImportError as err:
            print(f"  PPO (rejax) skipped: {err}")
    if args.sbx_steps:
        try:
            scores, wall = _sbx(task, seeds, args.sbx_steps, args.episodes)
            row("PPO (sbx, gym)", scores, f"{args.sbx_steps // 1000}k", f"{wall:.0f} s",
                "seeds in sequence")
        except ImportError as err:
            print(f"  PPO (sbx) skipped: {err}")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=list(BASE_TASKS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--ppo-steps", type=int, default=131_072)
    parser.add_argument("--sbx-steps", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds, 8 episodes, 16k PPO steps, 2k sbx steps")
    parser.add_argument("--out", default="bench/baselines.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.episodes, args.ppo_steps, args.sbx_steps = 2, 8, 16_384, 2_048
    rows = []
    for task in args.tasks:
        rows += run_task(task, args)
    lines = ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    print("\n" + "\n".join([TABLE_HEAD, *lines]))
    if args.out:
        _write(args.out, lines, args.tasks, f"python bench/baselines.py {' '.join(sys.argv[1:])}")


TABLE_HEAD = ("| task | policy | return (mean ± std over seeds) | env steps | wall | notes |\n"
              "|---|---|---|---|---|---|")


def _constant_current(env, params, a: float) -> str:
    """What constant action ``a`` delivers: nA per intracellular site, or the peak µA of
    each electrode actuator (``ElectrodeActuator.max_current``)."""
    drive = env._contacts
    parts = []
    if env.n_sites > (drive.n_actuators if drive else 0):
        parts.append(f"{a * float(params.action_scale):+.3f} nA per site")
    if drive is not None:
        amps = np.asarray(drive.amplitudes(jnp.full(drive.n_actuators, a, jnp.float32)))
        parts += [f"{amp:+.3g} {units} {shape}" for amp, units, shape
                  in zip(amps, drive.units, drive.shapes, strict=True)]
    return ", ".join(parts)


def _write(path: str, lines: list[str], tasks, command: str) -> None:
    """Write the table to ``path``, keeping the rows (and run comments) of tasks not run now,
    so ``--tasks`` updates its tasks' rows instead of replacing the whole file."""
    kept = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f.read().splitlines():
                task = line[2:].split(" | ")[0] if line.startswith("| ") else None
                if line.startswith("<!--") or (task and task != "task" and task not in tasks):
                    kept.append(line)
    comments = [line for line in kept if line.startswith("<!--")]
    rows = [line for line in kept if not line.startswith("<!--")]
    with open(path, "w") as f:
        f.write("\n".join([*comments, f"<!-- {command} -->", TABLE_HEAD, *rows, *lines]) + "\n")


if __name__ == "__main__":
    main()
