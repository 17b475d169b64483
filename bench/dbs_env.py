"""Throughput of BasalGangliaDBS-v0 (the Rubin & Terman network, 50 cells, 160 synapses) as
vmapped functional envs, against the same network's plain ``integrate`` vmapped over the
same batch (the env's overhead: DBS and sensorimotor pulse trains, the relay-error and
beta-sensor bookkeeping, the numerical guard).

1,024 envs (``--quick``: 64), 2 control periods of 10 ms (2,000 solver steps of 0.01 ms,
``fwd_euler``), in the process's dtype (float32 unless x64 is on), jitted; medians of
interleaved repeats after a first call.

    python -m bench --only dbs [--quick]
    python bench/dbs_env.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import interleaved, median, timed, timer  # noqa: E402

N_PERIODS = 2


def _env_rollout(n_envs: int):
    import jax
    import jax.numpy as jnp

    import neuroenv

    env, params = neuroenv.make("BasalGangliaDBS-v0")

    def one(key):
        _, state = env.reset(key, params)

        def body(state, k):
            _, state, reward, _, _ = env.step_env(k, state, jnp.ones(1, jnp.float32), params)
            return state, reward

        return jax.lax.scan(body, state, jax.random.split(key, N_PERIODS))[1]

    keys = jax.random.split(jax.random.key(0), n_envs)
    return jax.jit(jax.vmap(one)), (keys,), env.substeps


def _integrate_batch(n_envs: int, substeps: int):
    import jax
    import jax.numpy as jnp

    from simulator import integrate
    from simulator.models.basal_ganglia import basal_ganglia_network

    net, cells = basal_ganglia_network(16, "parkinsonian")
    for i in cells["TC"]:
        net.cell(int(i)).record(verbose=False)
    net.cell(cells["STN"].tolist()).make_trainable("SubthalamicRT_i_app", verbose=False)
    t_max = N_PERIODS * substeps * 0.01

    def one(i_app):
        return integrate(net, params=[{"SubthalamicRT_i_app": i_app}], delta_t=0.01,
                         t_max=t_max, solver="fwd_euler")

    i_app = jnp.linspace(0.02, 0.03, n_envs, dtype=jnp.float32)[:, None] * jnp.ones(16)  # mA/cm²
    return jax.jit(jax.vmap(one)), (i_app,)


def measure(quick: bool = False, repeats: int | None = None) -> dict:
    """``{"n_envs", "solver_steps", "dtype", "env_s", "integrate_s", "first_call_s"}`` (seconds per
    batch of ``N_PERIODS`` periods, medians)."""
    import jax

    n = 64 if quick else 1024
    repeats = repeats or (3 if quick else 5)
    env_run, env_args, substeps = _env_rollout(n)
    int_run, int_args = _integrate_batch(n, substeps)
    first = timed(env_run, *env_args)[0]
    timed(int_run, *int_args)
    t = interleaved({"env": timer(env_run, *env_args), "integrate": timer(int_run, *int_args)},
                    repeats)
    dtype = "float64" if jax.config.jax_enable_x64 else "float32"
    return {"n_envs": n, "solver_steps": N_PERIODS * substeps, "dtype": dtype,
            "env_s": median(t["env"]),
            "integrate_s": median(t["integrate"]), "first_call_s": first}


def main(argv=None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    r = measure(quick)
    steps = r["n_envs"] * r["solver_steps"]
    print(f"BasalGangliaDBS-v0 x{r['n_envs']}: env {r['env_s']:.3f} s "
          f"({steps / r['env_s']:.3g} env solver steps/s), integrate {r['integrate_s']:.3f} s,"
          f" ratio {r['env_s'] / r['integrate_s']:.2f}, first call {r['first_call_s']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
