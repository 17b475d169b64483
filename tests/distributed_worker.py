"""One process of the multi-process check in ``tests/test_distributed.py`` (also a demo).

Run one copy per process, all with the same arguments except ``--process-id``::

    JAX_PLATFORMS=cpu XLA_FLAGS=--xla_force_host_platform_device_count=2 \\
        python tests/distributed_worker.py --coordinator 127.0.0.1:12345 \\
        --num-processes 2 --process-id 0 --out /tmp/p0.npz   # and --process-id 1 --out ...

With ``--num-processes 1`` it runs alone without ``jax.distributed`` (the reference run).
Every process runs the same calls on a global mesh over ``jax.devices()`` (the devices of
every process): ``integrate_sweep`` in float32 and float64 and ``sharded_evaluate`` /
``sharded_rollout`` in float32, each with a batch that splits evenly over the devices and one
that has to be padded. Each process gathers the full results (``gather``) and saves them to
``--out`` (``.npz``: one array per result, plus ``n_devices``, ``n_local_devices``,
``process_index`` and, for each result, ``<name>__local_rows``: the rows this process
computed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _tiny_cell():
    import simulator as jx
    from simulator.channels import HH

    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    cell.insert(HH())
    cell.branch(1).loc(0.0).record(verbose=False)
    cell.branch(1).loc(0.0).stimulate(jx.step_current(0.5, 1.0, 0.3, 0.025, 3.0), verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    return cell


def _tiny_env():
    import simulator as jx
    from neuroenv.neuron_env import NeuronEnv
    from neuroenv.tasks.voltage_target import VoltageTarget
    from simulator.channels import HH

    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    env = NeuronEnv(comp, [comp], VoltageTarget(), substeps=4, max_steps_in_episode=3,
                    init_v_jitter=1.0, obs_noise_std=0.5, voltage_solver="dense")
    return env, env.default_params


def _policy(obs, key):
    """Feedback towards the target plus exploration noise (uses both arguments)."""
    import jax.numpy as jnp

    return jnp.tanh((obs[-1:] - obs[:1]) / 10.0) + 0.1 * jax.random.normal(key, (1,))


def _local_rows(x) -> np.ndarray:
    """Sorted row indices of ``x`` (leading axis) held by this process's devices."""
    rows = set()
    for shard in x.addressable_shards:
        rows.update(range(x.shape[0])[shard.index[0]])
    return np.array(sorted(rows), np.int64)


def _record(out: dict, name: str, tree) -> None:
    """Store every leaf of ``tree`` gathered to NumPy, and which rows were local."""
    from simulator.sharding import gather

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    for (path, leaf), full in zip(leaves, jax.tree.leaves(gather(tree)), strict=True):
        out[f"{name}{jax.tree_util.keystr(path)}"] = full
        out[f"{name}{jax.tree_util.keystr(path)}__local_rows"] = _local_rows(leaf)


def _from_local_rows(tree, mesh):
    """Global arrays split over ``mesh`` built from only this process's rows of ``tree``."""
    from simulator.sharding import batch_sharding

    sharding = batch_sharding(mesh)

    def one(x):
        rows = _local_rows(jax.device_put(np.zeros(x.shape[:1]), sharding))
        return jax.make_array_from_process_local_data(sharding, np.asarray(x)[rows], x.shape)
    return jax.tree.map(one, tree)


def run_global_input_checks(out: dict) -> None:
    """Inputs that are already global arrays: placed by ``shard_batch`` (keys, the same
    in every process) or assembled from each process's own rows (sweep values, env params)."""
    import jax.numpy as jnp

    from neuroenv.sharding import sharded_evaluate
    from simulator.sharding import batch_mesh, integrate_sweep, shard_batch

    mesh = batch_mesh()
    gs_host = np.linspace(0.08, 0.16, SIZES[0], dtype=np.float32)[:, None]
    sweep = integrate_sweep(_tiny_cell(), mesh, t_max=3.0)
    _record(out, "global_sweep", sweep([{"HH_gNa": _from_local_rows(gs_host, mesh)}]))
    env, params = _tiny_env()
    many = jax.tree.map(lambda x: np.broadcast_to(x, (SIZES[0], *np.shape(x))), params)
    many = many.replace(action_scale=np.linspace(0.2, 1.0, SIZES[0], dtype=np.float32))
    keys = shard_batch(jax.random.split(jax.random.key(2), SIZES[0]), mesh)
    episodes = sharded_evaluate(env, _from_local_rows(many, mesh), _policy, keys,
                                batched_params=True, mesh=mesh)
    _record(out, "global_evaluate", episodes)
    # A batch committed to one local device (not a global array): placed by sharded_vmap.
    local = jax.device_put(jnp.asarray(np.asarray(gs_host)), jax.local_devices()[0])
    _record(out, "committed_sweep", sweep([{"HH_gNa": local}]))


#: Batch sizes: 8 splits evenly over 1, 2 or 4 devices, 7 is padded to 8 over 2 or 4.
SIZES = (8, 7)


def run_checks() -> dict:
    """The sharded calls; returns ``{name: np.ndarray}`` (identical in every process)."""
    import jax.numpy as jnp

    from neuroenv.sharding import sharded_evaluate, sharded_rollout
    from simulator.sharding import integrate_sweep

    out: dict = {}
    cell = _tiny_cell()
    for dtype in ("float32", "float64"):
        jax.config.update("jax_enable_x64", dtype == "float64")
        sweep = integrate_sweep(cell, t_max=3.0)
        gs = jnp.linspace(0.08, 0.16, SIZES[0], dtype=dtype)[:, None]
        for n in SIZES:
            _record(out, f"sweep_{dtype}_{n}", sweep([{"HH_gNa": gs[:n]}]))
    jax.config.update("jax_enable_x64", False)
    env, params = _tiny_env()
    keys = jax.random.split(jax.random.key(1), SIZES[0])
    for n in SIZES:
        episodes = sharded_evaluate(env, params, _policy, keys[:n], keep_traces=True)
        _record(out, f"evaluate_{n}", episodes)
    _record(out, "rollout", sharded_rollout(env, params, _policy, keys, 4))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinator", default=None,
                        help="host:port of process 0 (not needed with --num-processes 1)")
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--out", required=True, help=".npz file for this process's results")
    args = parser.parse_args(argv)
    if args.num_processes > 1:
        jax.distributed.initialize(coordinator_address=args.coordinator,
                                   num_processes=args.num_processes,
                                   process_id=args.process_id)
    out = run_checks()
    run_global_input_checks(out)
    out.update(n_devices=len(jax.devices()), n_local_devices=len(jax.local_devices()),
               process_index=jax.process_index())
    np.savez(args.out, **out)
    if args.num_processes > 1:
        jax.distributed.shutdown()


if __name__ == "__main__":
    # Run as a script, sys.path[0] is tests/, whose tests/simulator would shadow the package.
    sys.path[0] = str(REPO)
    main()
