"""Finite-value sweep: what the agent receives under random and bang-bang actions.

Run from the repository root: ``python bench/finite_sweep.py [--steps N] [--envs E]
[--ids ...] [--solvers ...]``. For every registered id (:data:`neuroenv.registry.TASKS`, 32)
and every solver (``bwd_euler``, ``crank_nicolson``, ``fwd_euler``, ``exp_euler``) it builds
the functional env in float32, vmaps its auto-resetting ``step`` over ``E`` rows and runs
``⌈N / (ids · solvers · E)⌉`` steps in one jitted ``lax.scan`` (default N = 10⁶ env steps in
all). Half of the rows act uniformly at random in [−1, 1]ⁿ, the other half bang-bang (each
site ±1 with a sign redrawn with probability 0.2 per step). Per id × solver it counts

* ``non_finite``: non-finite entries handed to the agent (observation, reward and every
  ``info`` leaf, including ``final_observation``; the flags are bools);
* ``guard``: steps that ended an episode with ``info["numerical_error"]``;
* ``episodes``: episodes ended (terminated or truncated);
* ``warned``: whether building the env gave a ``NumericalStabilityWarning``;

and prints one row each plus the totals and the wall time. Exit status 1 if any
``non_finite`` is not 0.

Measured (2 shared CPU cores, default arguments: 32 rows × 245 steps per id × solver):
1,003,520 env steps, **0 non-finite values** handed to the agent, 242,504 episodes ended by
the guard, all of them with ``fwd_euler`` (whose dt 0.025 ms is past its stability bound on
every task's cell: 0.0058 ms for the HH cell, 0.0208 ms for Desynchronize's network,
1.4e-5 ms for DendriteControl's CA1 cell; each such env warns when built); none with the
other three solvers; wall time 247 s including compilation (variants run through their base
task's compiled program).
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.solvers.stability import NumericalStabilityWarning  # noqa: E402

SOLVERS = ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler")
#: Probability per step that a bang-bang row flips the sign of a site.
FLIP_PROBABILITY = 0.2


def _non_finite(tree) -> jax.Array:
    """Number of non-finite entries in the floating-point leaves of ``tree`` (int32)."""
    count = jnp.zeros((), jnp.int32)
    for leaf in jax.tree_util.tree_leaves(tree):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            count = count + jnp.sum(~jnp.isfinite(leaf)).astype(jnp.int32)
    return count


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _sweep(env, params, key, n_envs: int, n_steps: int):
    """``(non_finite, guard, episodes)`` over ``n_steps`` steps of ``n_envs`` rows."""
    n_sites = env.num_actions
    k_reset, k_run, k_sign = jax.random.split(key, 3)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, n_envs),
                                                         params)
    bang = jnp.arange(n_envs) >= n_envs // 2
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n_envs, n_sites)), 1.0, -1.0)
    counts = (_non_finite(obs), jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def body(carry, key):
        state, sign, (bad, guard, episodes) = carry
        k_act, k_flip, k_step = jax.random.split(key, 3)
        uniform = jax.random.uniform(k_act, (n_envs, n_sites), jnp.float32, -1.0, 1.0)
        flip = jax.random.bernoulli(k_flip, FLIP_PROBABILITY, (n_envs, n_sites))
        sign = jnp.where(flip, -sign, sign)
        action = jnp.where(bang[:, None], sign, uniform).astype(jnp.float32)
        obs, state, reward, terminated, truncated, info = jax.vmap(
            env.step, in_axes=(0, 0, 0, None))(jax.random.split(k_step, n_envs), state, action,
                                               params)
        bad = bad + _non_finite((obs, reward, info))
        guard = guard + jnp.sum(info["numerical_error"]).astype(jnp.int32)
        episodes = episodes + jnp.sum(terminated | truncated).astype(jnp.int32)
        return (state, sign, (bad, guard, episodes)), None

    (_, _, counts), _ = jax.lax.scan(body, (state, sign, counts),
                                     jax.random.split(k_run, n_steps))
    return counts


def _env_and_params(task: str, solver: str):
    """The functional env of ``task``'s base task and ``task``'s default params.

    A variant (Noisy, Drift, Randomized) differs from its base task only in default params
    (``EnvParams`` fields, checked here), so it runs through the base task's compiled
    program: 32 ids need 8 compilations per solver.
    """
    from neuroenv.registry import TASKS, make

    base, _ = TASKS[task]
    env, params = make(base, solver=solver)
    if task != base:
        variant, params = make(task, solver=solver)
        if jax.tree_util.tree_structure(params) != jax.tree_util.tree_structure(
                env.default_params):
            raise AssertionError(f"{task} params differ in structure from {base}'s")
        variant._defaults = env._defaults  # then nothing but the defaults may differ
        variant.__dict__.pop("_structure_cache", None)
        if variant.structure_digest() != env.structure_digest():
            raise AssertionError(f"{task} differs from {base} in more than its params")
    return env, params


def sweep_one(task: str, solver: str, n_envs: int, n_steps: int, seed: int = 0) -> dict:
    """One id × solver in float32: the counts (see the module docstring) and timings."""
    with jax.enable_x64(False), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericalStabilityWarning)
        env, params = _env_and_params(task, solver)
        t0 = time.perf_counter()
        bad, guard, episodes = jax.block_until_ready(
            _sweep(env, params, jax.random.key(seed), n_envs, n_steps))
    return {"id": task, "solver": solver, "env_steps": n_envs * n_steps,
            "non_finite": int(bad), "guard": int(guard), "episodes": int(episodes),
            "warned": any(issubclass(w.category, NumericalStabilityWarning) for w in caught),
            "seconds": time.perf_counter() - t0}


def run(ids, solvers, total_steps: int, n_envs: int, seed: int = 0, out=print) -> list[dict]:
    """Every id × solver, ``⌈total_steps / (len(ids) · len(solvers) · n_envs)⌉`` steps each."""
    n_steps = max(1, math.ceil(total_steps / (len(ids) * len(solvers) * n_envs)))
    rows = []
    out(f"{'id':34s} {'solver':15s} {'steps':>7s} {'non-finite':>10s} {'guard':>6s} "
        f"{'episodes':>8s} {'warned':>6s} {'s':>6s}")
    for task in ids:
        for solver in solvers:
            row = sweep_one(task, solver, n_envs, n_steps, seed)
            rows.append(row)
            out(f"{task:34s} {solver:15s} {row['env_steps']:7d} {row['non_finite']:10d} "
                f"{row['guard']:6d} {row['episodes']:8d} {'yes' if row['warned'] else 'no':>6s} "
                f"{row['seconds']:6.1f}")
    return rows


def main(argv=None) -> int:
    from neuroenv.registry import TASKS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000, help="env steps in all")
    parser.add_argument("--envs", type=int, default=32, help="vmapped rows per id x solver")
    parser.add_argument("--ids", nargs="*", default=list(TASKS))
    parser.add_argument("--solvers", nargs="*", default=list(SOLVERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.ids, args.solvers, args.steps, args.envs, args.seed)
    wall = time.perf_counter() - t0
    total = sum(r["env_steps"] for r in rows)
    bad = sum(r["non_finite"] for r in rows)
    guard = sum(r["guard"] for r in rows)
    print(f"total: {total} env steps over {len(args.ids)} ids x {len(args.solvers)} solvers, "
          f"{bad} non-finite values to the agent, {guard} episodes ended by the guard; "
          f"wall {wall:.0f} s (compilation included)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
