"""Sharded batches (``simulator.sharding``, ``neuroenv.sharding``) on 4 fake CPU devices.

The device count is fixed when JAX initialises, and this process's JAX is already running, so
the sharded checks run in a fresh interpreter (this file run as a script) with
``XLA_FLAGS=--xla_force_host_platform_device_count=4``; it prints its measurements as JSON and
the tests below assert on them. Error messages are tested in-process (one device suffices).

Tolerances: sharded and unsharded results are expected to be bitwise equal on CPU (measured:
max |difference| 0.0 for every check); the tests allow 1e-6 relative in float32 and 1e-12 in
float64, in case XLA vectorises the per-device blocks differently (fused multiply-adds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from simulator.sharding import (
    batch_mesh,
    integrate_sweep,
    pad_batch,
    shard_batch,
    sharded_vmap,
)

N_DEVICES = 4
RTOL = {"float32": 1e-6, "float64": 1e-12}
REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------- run in the subprocess
def _max_rel_error(a, b) -> float:
    """max |a - b| / max(1, max |b|) over all leaves (bools and ints compared as floats)."""
    err = 0.0
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        assert x.shape == y.shape, (x.shape, y.shape)
        scale = max(1.0, float(np.max(np.abs(y)))) if y.size else 1.0
        err = max(err, float(np.max(np.abs(x - y))) / scale if x.size else 0.0)
    return err


def _placement(x) -> dict:
    """How a jax.Array is laid out: spec, number of devices, rows per device."""
    return {"spec": str(x.sharding.spec), "n_devices": len(x.sharding.device_set),
            "rows": sorted({int(s.data.shape[0]) for s in x.addressable_shards}),
            "shape": list(x.shape)}


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
    return jnp.tanh((obs[-1:] - obs[:1]) / 10.0) + 0.1 * jax.random.normal(key, (1,))


def _sweep_checks(dtype: str) -> dict:
    import simulator as jx

    jax.config.update("jax_enable_x64", dtype == "float64")
    cell = _tiny_cell()
    sweep = integrate_sweep(cell, t_max=3.0)
    reference = jax.jit(jax.vmap(lambda g: jx.integrate(cell, [{"HH_gNa": g}], t_max=3.0)))
    gs8 = jnp.linspace(0.08, 0.16, 8, dtype=dtype)[:, None]
    ref = np.asarray(reference(gs8))  # unsharded; rows are independent, so 6 rows = ref[:6]
    out = {}
    for n in (6, 8) if dtype == "float32" else (6,):  # 6: padded to 8, trimmed; 8: even split
        v = sweep([{"HH_gNa": gs8[:n]}])
        out[f"sweep{n}"] = {"error": _max_rel_error(v, ref[:n]), "dtype": str(v.dtype),
                            "placement": _placement(v),
                            "finite": bool(np.all(np.isfinite(np.asarray(v))))}
    if dtype == "float32":
        padded = integrate_sweep(cell, t_max=3.0, trim=False)([{"HH_gNa": gs8[:6]}])
        out["sweep6_untrimmed"] = {
            "placement": _placement(padded), "error": _max_rel_error(padded[:6], ref[:6]),
            "pad_repeats_last": bool(np.all(np.asarray(padded[6:]) == np.asarray(padded[5])))}
    return out


def _env_checks() -> dict:
    from neuroenv.sharding import rollout, sharded_rollout

    jax.config.update("jax_enable_x64", False)
    env, params = _tiny_env()
    keys = jax.random.split(jax.random.key(1), 8)
    got = sharded_rollout(env, params, _policy, keys, 5)
    ref = jax.jit(jax.vmap(lambda k: rollout(env, params, _policy, k, 5)))(keys)
    return {"rollout": {"error": _max_rel_error(got, ref), "placement": _placement(got.rewards),
                        "n_resets": int(np.sum(np.asarray(got.truncated))),
                        "rows_differ": bool(np.ptp(np.asarray(got.rewards[:, 0])) > 0)}}


def _run_checks(which: str) -> dict:
    """``which``: "sweeps" (device layout, integrate sweeps in both precisions) or "rollouts"."""
    out = {"n_devices": len(jax.devices()), "platform": jax.devices()[0].platform}
    start = time.perf_counter()
    if which == "rollouts":
        out.update(_env_checks())
    else:
        out["mesh_size"] = int(batch_mesh().size)
        out["shard_batch"] = _placement(shard_batch(jnp.arange(8.0)))
        try:
            shard_batch(jnp.arange(6.0))
            out["shard_batch_uneven"] = "no error"
        except ValueError as err:
            out["shard_batch_uneven"] = str(err)
        out["float32"] = _sweep_checks("float32")
        out["float64"] = _sweep_checks("float64")
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


# ----------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def sharded():
    """Both subprocesses' measurements, run concurrently once for the whole module."""
    # Compile-time flags: the checks run tiny programs, so XLA's optimisation passes are most
    # of their time; sharded and unsharded programs are compiled alike.
    flags = (f"--xla_force_host_platform_device_count={N_DEVICES}"
             " --xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    path = str(Path(__file__).resolve())
    procs = {}
    for which in ("sweeps", "rollouts"):
        # -c (not the file as a script): sys.path[0] is then the repository, not tests/,
        # whose tests/simulator folder would shadow the simulator package.
        code = f"import runpy, sys; sys.argv = ['', {which!r}]; runpy.run_path({path!r}," \
               " run_name='__main__')"
        procs[which] = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
    out = {}
    for which, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-4000:]
        out[which] = json.loads(stdout.strip().splitlines()[-1])
    return out


def test_four_fake_devices(sharded):
    for which in ("sweeps", "rollouts"):
        assert sharded[which]["platform"] == "cpu"
        assert sharded[which]["n_devices"] == N_DEVICES
    sharded = sharded["sweeps"]
    assert sharded["mesh_size"] == N_DEVICES
    assert sharded["shard_batch"] == {"spec": "P('batch',)", "n_devices": 4,
                                      "rows": [2], "shape": [8]}
    assert "cannot be split evenly over 4 devices" in sharded["shard_batch_uneven"]
    assert "pad_batch(tree, 4)" in sharded["shard_batch_uneven"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_integrate_sweep_sharded_equals_unsharded(sharded, dtype):
    res = sharded["sweeps"][dtype]
    assert res["sweep6"]["error"] <= RTOL[dtype], res["sweep6"]["error"]
    assert res["sweep6"]["dtype"] == dtype and res["sweep6"]["finite"]
    # 6 rows: padded to 8 for the computation, then trimmed (replicated: no uneven sharding)
    assert res["sweep6"]["placement"]["shape"] == [6, 1, 121]
    assert res["sweep6"]["placement"]["spec"] == "P()"
    if dtype == "float64":
        return
    assert res["sweep8"]["error"] <= RTOL[dtype], res["sweep8"]["error"]
    # 8 rows over 4 devices: 2 rows on each, left sharded
    assert res["sweep8"]["placement"] == {"spec": "P('batch',)", "n_devices": 4,
                                          "rows": [2], "shape": [8, 1, 121]}
    # trim=False keeps the padded, sharded result; the padding repeats the last row
    assert res["sweep6_untrimmed"]["error"] <= RTOL[dtype]
    assert res["sweep6_untrimmed"]["placement"] == {"spec": "P('batch',)",
                                                    "n_devices": 4, "rows": [2],
                                                    "shape": [8, 1, 121]}
    assert res["sweep6_untrimmed"]["pad_repeats_last"]


def test_rollouts_sharded_equal_unsharded(sharded):
    res = sharded["rollouts"]["rollout"]
    assert res["error"] <= RTOL["float32"], res["error"]
    assert res["placement"] == {"spec": "P('batch',)", "n_devices": 4,
                                "rows": [2], "shape": [8, 5]}
    assert res["n_resets"] == 8  # every row truncated once (3-step episodes, 5 steps)
    assert res["rows_differ"]  # the keys give each row its own episode


# ----------------------------------------------------------------- errors (in-process)
def test_batch_mesh_errors():
    with pytest.raises(ValueError, match="at least one device"):
        batch_mesh([])
    with pytest.raises(ValueError, match="jax.Device objects"):
        batch_mesh(["cpu:0"])
    with pytest.raises(ValueError, match="distinct"):
        batch_mesh([jax.devices()[0]] * 2)
    assert batch_mesh().axis_names == ("batch",)


def test_sharded_vmap_errors():
    with pytest.raises(ValueError, match=r"in_axes must be 0.*got 1"):
        sharded_vmap(jnp.sin, in_axes=1)
    with pytest.raises(ValueError, match=r"in_axes must be 0.*got None"):
        sharded_vmap(jnp.sin, in_axes=None)
    with pytest.raises(ValueError, match="mesh has no axis 'batch'"):
        sharded_vmap(jnp.sin, Mesh(np.array(jax.devices()[:1]), ("x",)))
    with pytest.raises(ValueError, match="mesh must be a jax.sharding.Mesh"):
        sharded_vmap(jnp.sin, jax.devices())
    f = sharded_vmap(lambda a, b: a + b)
    with pytest.raises(ValueError, match=r"args\[0\]: 3, args\[1\]: 4"):
        f(jnp.zeros(3), jnp.zeros(4))
    with pytest.raises(ValueError, match=r"empty batch: args\[0\] has 0 rows"):
        f(jnp.zeros(0), jnp.zeros(0))
    with pytest.raises(ValueError, match=r"args\[1\] is a scalar"):
        f(jnp.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"args\[0\]\['g'\]: 2, args\[0\]\['h'\]: 3"):
        sharded_vmap(lambda d: d["g"])({"g": jnp.zeros(2), "h": jnp.zeros(3)})
    g = sharded_vmap(lambda a, b: a * b, in_axes=(0, None))
    with pytest.raises(ValueError, match="in_axes has 2 entries but .* 3 positional"):
        g(jnp.zeros(3), 1.0, 2.0)
    with pytest.raises(ValueError, match="no batched argument"):
        sharded_vmap(lambda a: a, in_axes=(None,))(jnp.zeros(3))


def test_pad_and_shard_batch_errors():
    with pytest.raises(ValueError, match="multiple must be a positive int, got 0"):
        pad_batch(jnp.zeros(3), 0)
    padded, n = pad_batch({"a": jnp.arange(3.0), "k": jax.random.split(jax.random.key(0), 3)},
                          4)
    assert n == 3 and padded["a"].tolist() == [0.0, 1.0, 2.0, 2.0]
    assert padded["k"].shape == (4,)
    with pytest.raises(ValueError, match="no array leaves"):
        shard_batch({})


def test_sharded_vmap_one_device_matches_vmap():
    f = sharded_vmap(lambda a, b: (a * b, a.sum()), in_axes=(0, None))
    x = jnp.arange(15.0).reshape(5, 3)
    got = f(x, jnp.float32(2.0))
    np.testing.assert_array_equal(got[0], x * 2.0)
    np.testing.assert_array_equal(got[1], x.sum(axis=1))


def test_integrate_sweep_errors():
    cell = _tiny_cell()
    with pytest.raises(ValueError, match="params is what integrate_sweep sweeps over"):
        integrate_sweep(cell, params=[], t_max=1.0)
    with pytest.raises(ValueError, match="params must be a list of dicts"):
        integrate_sweep(cell, t_max=1.0)({"HH_gNa": jnp.zeros((2, 1))})


def test_rollout_errors():
    from neuroenv.sharding import sharded_evaluate, sharded_rollout

    env, params = _tiny_env()
    keys = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(ValueError, match="n_steps must be a positive int, got 0"):
        sharded_rollout(env, params, _policy, keys, 0)
    with pytest.raises(ValueError, match="keys is empty"):
        sharded_rollout(env, params, _policy, keys[:0], 2)
    with pytest.raises(ValueError, match="keys must be a batch of JAX keys"):
        sharded_evaluate(env, params, _policy, jax.random.key(0), 2)
    with pytest.raises(ValueError, match=r"params\.action_scale must have shape .* got shape \(\)"):
        sharded_rollout(env, params, _policy, keys, 2, batched_params=True)


if __name__ == "__main__":
    print(json.dumps(_run_checks(sys.argv[1])))


def test_evaluate_with_mesh_matches_evaluate():
    """``evaluate(..., mesh=)`` on this process's device(s) equals the plain vmapped run."""
    import neuroenv
    from neuroenv.evaluation import constant, evaluate

    env, params = neuroenv.make("VoltageTarget-v0")
    key = jax.random.key(3)
    policy = constant(jnp.asarray([0.2], jnp.float32))
    plain = evaluate(env, params, policy, key, 3, n_steps=4)
    sharded = evaluate(env, params, policy, key, 3, n_steps=4, mesh=batch_mesh())
    np.testing.assert_array_equal(np.asarray(sharded.returns), np.asarray(plain.returns))
