"""The main demo: PPO learns to hold a Hodgkin–Huxley neuron at a target voltage.

Run ``python -m neuroenv.demo`` (about 1–2 minutes on two CPU cores). It

1. builds ``VoltageTarget-v0`` (a three-branch HH cell; every episode asks for a new target
   between −75 and −55 mV; the agent injects up to ±0.5 nA into the soma every 1 ms);
2. measures the zero-current policy and the untrained agent on 64 held-out episodes;
3. trains a PPO agent (rejax, through :class:`neuroenv.adapters.GymnaxLegacy`, with
   :data:`neuroenv.ppo.CONFIG` and rejax's default agent initialisation) on the functional
   env's default O(1)-scaled observations — many episodes at once, the whole training loop
   jitted — with a progress bar;
4. prints the returns and the mean voltage error before and after training next to the
   zero-current baseline, and saves a PNG of controlled voltage traces against their targets.

Options: ``--timesteps`` (training env steps), ``--seed``, ``--out`` (PNG path),
``--episodes`` (evaluation episodes).
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

import neuroenv
from neuroenv import ppo
from neuroenv.evaluation import constant, evaluate

TASK = "VoltageTarget-v0"


def _summary(name, result):
    err = mean_abs_error(result)
    r = np.asarray(result.returns)
    return f"{name:<22} {r.mean():9.2f} ± {r.std():6.2f}   {err:6.2f} mV"


def mean_abs_error(result) -> float:
    """Mean |v_soma − target| (mV) over every solver step of every episode."""
    v = np.asarray(result.traces)[..., 0]  # (n, T, substeps)
    target = np.asarray(result.task_states["target"])[..., None]  # (n, T, 1)
    return float(np.abs(v - target).mean())


def save_plot(path, zero, trained, delta_t: float, n_show: int = 3) -> bool:
    """Voltage traces of ``n_show`` held-out episodes, zero current vs trained, with targets."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install \"neuroenv[plot]\"): no plot saved")
        return False
    fig, axes = plt.subplots(n_show, 1, figsize=(8, 2.2 * n_show), sharex=True)
    for i, ax in enumerate(np.atleast_1d(axes)):
        v_trained = np.asarray(trained.traces)[i, :, :, 0].reshape(-1)
        v_zero = np.asarray(zero.traces)[i, :, :, 0].reshape(-1)
        t = np.arange(v_trained.size) * delta_t
        target = float(np.asarray(trained.task_states["target"])[i, 0])
        ax.plot(t, v_zero, color="0.6", lw=1, label="zero current")
        ax.plot(t, v_trained, color="tab:blue", lw=1.2, label="PPO agent")
        ax.axhline(target, color="tab:red", ls="--", lw=1, label="target")
        ax.set_ylabel("soma v (mV)")
        if i == 0:
            ax.legend(loc="upper right", fontsize=8, ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("time (ms)")
    fig.suptitle(f"{TASK}: trained agent vs zero current (held-out episodes)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=131_072)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--out", default="voltage_target_demo.png")
    args = parser.parse_args(argv)

    env, params = neuroenv.make(TASK)
    print(f"{TASK}: hold the soma of a Hodgkin–Huxley cell at a target voltage "
          f"({env.period_ms:g} ms control period, {int(params.max_steps_in_episode)} periods "
          f"per episode, ±{float(params.action_scale):g} nA)")
    eval_key = jax.random.key(10_000 + args.seed)
    zero = evaluate(env, params, constant(np.zeros(env.n_sites)), eval_key, args.episodes,
                    keep_traces=True)
    policy, info = ppo.train(env, params, args.timesteps, args.seed)
    wall, steps = info["wall_s"], info["env_steps"]
    untrained = evaluate(env, params, info["untrained"], eval_key, args.episodes,
                         keep_traces=True)
    trained = evaluate(env, params, policy, eval_key, args.episodes, keep_traces=True)
    print(f"\n{'policy':<22} {'return':>18}   mean |v − target|")
    print(_summary("zero current", zero))
    print(_summary("agent before training", untrained))
    print(_summary(f"PPO ({steps // 1000}k steps)", trained))
    improvement = mean_abs_error(zero) / max(mean_abs_error(trained), 1e-9)
    print(f"\ntrained in {wall:.0f} s; voltage error {improvement:.1f}x smaller than doing "
          f"nothing ({args.episodes} held-out episodes)")
    if save_plot(args.out, zero, trained, env.delta_t):
        print(f"saved {args.out}")


if __name__ == "__main__":
    main()
