"""Train an agent to hold a neuron's soma at a target voltage (VoltageTarget-v0).

The agent is a small feedback policy a = tanh(θ · features) of the voltage error, the target
and a bias, trained with antithetic evolution strategies (OpenAI-ES with centred-rank fitness shaping) on the functional env:
each generation runs ``POPULATION`` full episodes of the Hodgkin–Huxley cell at once
(``jit(vmap(rollout))``, every episode a ``lax.scan`` of env steps). It prints the return
and the mean voltage error of the trained policy against doing nothing, and saves
``agent.png`` (trace and target of one test episode) when matplotlib is installed.

Run: ``python examples/train_agent.py`` (about a minute on two CPU cores).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import neuroenv

EPISODE = 100  # control periods (1 ms each)
POPULATION = 32  # antithetic pairs per generation
GENERATIONS = 30
SIGMA, LEARNING_RATE = 0.2, 0.3


def features(obs):
    """Voltage error (per 10 mV), target (per 100 mV) and a bias."""
    v, target = obs[0], obs[-1]
    return jnp.stack([(target - v) / 10.0, target / 100.0, jnp.ones_like(v)])


def policy(theta, obs):
    return jnp.tanh(jnp.dot(theta, features(obs)))[None]


def main() -> None:
    env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=EPISODE)

    def episode(theta, key):
        obs, state = env.reset(key, params)

        def body(carry, k):
            obs, state = carry
            action = policy(theta, obs)
            obs_next, state, reward, *_ = env.step_env(k, state, action, params)
            error = jnp.abs(state.last_trace[:, 0] - state.task["target"]).mean()
            return (obs_next, state), (reward, error, state.last_trace[:, 0])

        _, (rewards, errors, trace) = jax.lax.scan(body, (obs, state),
                                                   jax.random.split(key, EPISODE))
        return rewards.sum(), errors.mean(), trace.reshape(-1), state.task["target"]

    evaluate = jax.jit(jax.vmap(episode, in_axes=(None, 0)))

    @jax.jit
    def generation(theta, key):
        k_noise, k_env = jax.random.split(key)
        noise = jax.random.normal(k_noise, (POPULATION, theta.size))
        keys = jax.random.split(k_env, POPULATION)  # both members of a pair see one episode
        plus = jax.vmap(episode)(theta + SIGMA * noise, keys)[0]
        minus = jax.vmap(episode)(theta - SIGMA * noise, keys)[0]
        # Centred ranks (fitness shaping): robust to the rare episodes that spike.
        ranks = jnp.argsort(jnp.argsort(jnp.concatenate([plus, minus])))
        shaped = ranks / (2 * POPULATION - 1) - 0.5
        weight = shaped[:POPULATION] - shaped[POPULATION:]
        grad = jnp.mean(weight[:, None] * noise, axis=0) / SIGMA
        return theta + LEARNING_RATE * grad, jnp.mean((plus + minus) / 2)

    test_keys = jax.random.split(jax.random.key(123), 16)
    zero_return, zero_error, *_ = evaluate(jnp.zeros(3), test_keys)
    theta = jnp.zeros(3)
    key = jax.random.key(0)
    start = time.perf_counter()
    for gen in range(GENERATIONS):
        key, sub = jax.random.split(key)
        theta, mean_return = generation(theta, sub)
        if gen % 10 == 0 or gen == GENERATIONS - 1:
            print(f"generation {gen:2d}: mean return {float(mean_return):8.2f}")
    elapsed = time.perf_counter() - start
    ret, err, traces, targets = evaluate(theta, test_keys)
    print(f"trained in {elapsed:.1f} s ({GENERATIONS * 2 * POPULATION} episodes of"
          f" {EPISODE} ms); policy θ = {np.round(np.asarray(theta), 3).tolist()}")
    print(f"test episodes: return {float(ret.mean()):.2f} (no stimulation:"
          f" {float(zero_return.mean()):.2f}); mean |v - target| {float(err.mean()):.2f} mV"
          f" (no stimulation: {float(zero_error.mean()):.2f} mV)")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: pip install -e '.[plot]' for the plot")
        return
    t = np.arange(traces.shape[1]) * env.delta_t
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i in range(3):
        (line,) = ax.plot(t, np.asarray(traces[i]), lw=1)
        ax.axhline(float(targets[i]), ls="--", color=line.get_color(), lw=1)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("soma voltage (mV)")
    ax.set_title("trained agent (solid) holding three targets (dashed)")
    fig.tight_layout()
    fig.savefig("agent.png", dpi=120)
    print("saved agent.png")


if __name__ == "__main__":
    main()
