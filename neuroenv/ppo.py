"""PPO on neuroenv tasks with rejax 0.1.3 (through :class:`neuroenv.adapters.GymnaxLegacy`).

::

    from neuroenv import ppo
    env, params = neuroenv.make("VoltageTarget-v0")
    policy, info = ppo.train(env, params, timesteps=131_072, seed=0)   # progress bar
    neuroenv.evaluation.evaluate(env, params, policy, jax.random.key(1), 64).returns.mean()

The whole training loop is jitted (rejax), running ``num_envs`` episodes at once; ``train``
calls it in chunks to show progress, and :func:`train_seeds` vmaps it over seeds. Policies
returned here act deterministically (the mean of rejax's Gaussian actor). Needs the ``rl``
extra (``pip install "neuroenv[rl]"``).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from neuroenv.adapters.legacy import GymnaxLegacy

#: PPO hyperparameters (rejax names) used by the demo and the baselines: more envs and a
#: shorter horizon than rejax's defaults, for a faster demo. rejax's defaults with its default
#: agent learn the tasks too (the observations are O(1) by default: ``bench/learning.py``);
#: the agent starts from rejax's default initialisation (Gaussian policy of std 1).
CONFIG = dict(num_envs=64, num_steps=64, num_epochs=8, num_minibatches=8,
              learning_rate=1e-3, gamma=0.9, gae_lambda=0.9, clip_eps=0.2, ent_coef=0.0,
              max_grad_norm=0.5, normalize_observations=True, normalize_rewards=True,
              agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "tanh"})


def _rejax():
    try:
        import rejax
    except ImportError as err:
        raise ImportError('PPO needs rejax: pip install "neuroenv[rl]"') from err
    return rejax


def make_algo(env, params, total_timesteps: int, **overrides):
    """A rejax ``PPO`` for ``env`` (``CONFIG`` updated by ``overrides``), without rejax's
    periodic evaluation (which would run 128 full episodes every ``eval_freq`` steps).

    Raises:
        RuntimeError: with ``jax_enable_x64`` on: rejax's PPO keeps its running observation
            statistics in float32 and its update promotes them to float64, which fails deep
            inside its training scan ("carry input and carry output must have equal
            types").
    """
    if jax.config.jax_enable_x64:
        raise RuntimeError("neuroenv.ppo trains with rejax, which runs in float32 only: turn "
                           "jax_enable_x64 off (jax.config.update('jax_enable_x64', False), "
                           "or unset JAX_ENABLE_X64) before building the env and training")
    config = {**CONFIG, **overrides}
    algo = _rejax().PPO.create(env=GymnaxLegacy(env), env_params=params,
                               total_timesteps=int(total_timesteps),
                               eval_freq=int(total_timesteps), skip_initial_evaluation=True,
                               **config)
    return algo.replace(eval_callback=lambda algo, ts, rng: ())


def deterministic_policy(algo, train_state, n_sites: int):
    """``policy(obs, key) -> (n_sites,)``: the mean action of the trained Gaussian actor
    (with the observation normalisation of training), clipped to [−1, 1]."""

    def policy(obs, key):
        if algo.normalize_observations:
            obs = algo.normalize_obs(train_state.obs_rms_state, obs)
        dist = algo.actor.apply(train_state.actor_ts.params, obs[None], method="_action_dist")
        return jnp.clip(jnp.reshape(dist.mean(), (n_sites,)), -1.0, 1.0)

    return policy


def train(env, params, timesteps: int, seed: int = 0, chunks: int = 16,
          progress: bool = True, **overrides):
    """Train PPO for about ``timesteps`` env steps (a multiple of ``num_envs·num_steps``).

    Returns:
        ``(policy, info)``: the trained deterministic policy and ``{"untrained": policy of
        the initial weights, "wall_s": training time, "env_steps": steps taken}``.
    """
    batch = {**CONFIG, **overrides}
    batch = batch["num_envs"] * batch["num_steps"]
    n_chunks = max(1, min(chunks, round(timesteps / batch)))
    per_chunk = batch * max(1, round(timesteps / n_chunks / batch))
    algo = make_algo(env, params, per_chunk, **overrides)
    step = jax.jit(lambda ts: algo.train(train_state=ts)[0])
    ts = algo.init_state(jax.random.key(seed))
    untrained = deterministic_policy(algo, ts, env.n_sites)
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=n_chunks * per_chunk, unit="step", unit_scale=True,
                       desc="training PPO")
        except ImportError:
            pass
    start = time.perf_counter()
    for _ in range(n_chunks):
        ts = jax.block_until_ready(step(ts))
        if bar is not None:
            bar.update(per_chunk)
    wall = time.perf_counter() - start
    if bar is not None:
        bar.close()
    info = {"untrained": untrained, "wall_s": wall, "env_steps": n_chunks * per_chunk}
    return deterministic_policy(algo, ts, env.n_sites), info


def train_seeds(env, params, timesteps: int, seeds, **overrides):
    """PPO for each seed at once (``vmap`` of rejax's jitted training).

    Returns:
        ``(make_policy, states, wall_s)``: ``make_policy(state)`` is the deterministic
        policy of one train state, ``states`` the train states stacked over seeds (for
        :func:`neuroenv.evaluation.evaluate_family`), ``wall_s`` the total time
        (including compilation).
    """
    algo = make_algo(env, params, timesteps, **overrides)
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    start = time.perf_counter()
    run = jax.vmap(lambda k: algo.train(rng=k)[0])
    states = jax.block_until_ready(jax.jit(run)(keys))
    wall = time.perf_counter() - start
    return (lambda ts: deterministic_policy(algo, ts, env.n_sites)), states, wall
