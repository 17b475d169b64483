"""Sharded rollouts and sweeps across 2 processes with JAX's multi-process runtime, for real.

Three fresh interpreters run ``tests/distributed_worker.py``: two form one JAX program with
``jax.distributed.initialize(coordinator_address="127.0.0.1:<free port>", num_processes=2,
process_id=i)`` and gloo CPU collectives (this jax's default for
``jax_cpu_collectives_implementation``, set explicitly here), each process with 2 CPU devices
(4 global devices, one mesh over all of them); the third runs the same calls alone on one
device (the reference). Each writes its gathered results to an ``.npz`` in ``tmp_path`` and
the tests compare them. The launch is the one ``docs/sharding.md`` shows.

Tolerance: none. Rows never interact and every device runs the same compiled per-row program,
so the 2-process results equal the single-process ones bitwise (measured: max |difference|
0.0 for every result, float32 and float64, in both processes, with XLA's default compile
flags; see ``_launch`` for the one flag under which they do not).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The 2-process tests are slow: three interpreters compile every program (measured: 37-61 s
# of user CPU in all, 1 min 40 s - 2 min 40 s of wall time on the loaded 2-core machine).

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "tests" / "distributed_worker.py"
N_PROCESSES = 2
LOCAL_DEVICES = 2
TIMEOUT_S = 900
META = ("n_devices", "n_local_devices", "process_index")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _launch(tmp_path: Path) -> dict[str, tuple[subprocess.Popen, Path]]:
    """Start both processes of the distributed run and the single-process reference."""
    # No compile-time flags beyond the device count: with test_sharding.py's
    # --xla_backend_optimization_level=0 the batched-params episodes (global_evaluate) came
    # out 5e-6 relative apart (returns; rewards 1.7e-5, currents 1.2e-5), every other result
    # bitwise; with XLA's defaults every result is bitwise equal (module docstring).
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_CPU_COLLECTIVES_IMPLEMENTATION": "gloo",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={LOCAL_DEVICES}"}
    coordinator = f"127.0.0.1:{_free_port()}"
    commands = {f"process{i}": ["--coordinator", coordinator, "--num-processes",
                                str(N_PROCESSES), "--process-id", str(i)]
                for i in range(N_PROCESSES)}
    commands["reference"] = []
    procs = {}
    for name, args in commands.items():
        out = tmp_path / f"{name}.npz"
        run_env = env if name != "reference" else {
            **env, "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
        procs[name] = (subprocess.Popen([sys.executable, str(WORKER), *args, "--out", str(out)],
                                        env=run_env, cwd=REPO, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True), out)
    return procs


def _collect(procs) -> dict[str, dict[str, np.ndarray]]:
    """Wait for every process; on any failure kill the rest and show every stderr."""
    logs, failed = {}, False
    for name, (proc, _) in procs.items():
        try:
            _, logs[name] = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            logs[name] = f"timed out after {TIMEOUT_S} s\n" + proc.communicate()[1]
        failed = failed or proc.returncode != 0
        if failed:  # a process that died leaves the other waiting for it: stop them all
            for other, _ in procs.values():
                if other.poll() is None:
                    other.kill()
    if failed:
        report = "\n".join(f"----- {name} (exit {proc.returncode}):\n{logs.get(name, '')[-3000:]}"
                           for name, (proc, _) in procs.items())
        pytest.fail(f"a worker failed:\n{report}")
    return {name: dict(np.load(out)) for name, (_, out) in procs.items()}


def test_gather_and_spans_processes_in_one_process():
    """Without jax.distributed: gather is np.asarray of every leaf, the mesh is local."""
    import jax
    import jax.numpy as jnp

    from simulator.sharding import batch_mesh, gather, shard_batch, spans_processes

    assert not spans_processes(batch_mesh())
    tree = {"a": shard_batch(jnp.arange(4.0)), "b": [np.int32(3)], "k": jnp.ones((2, 3))}
    got = gather(tree)
    assert jax.tree.structure(got) == jax.tree.structure(tree)
    assert all(isinstance(x, np.ndarray) for x in jax.tree.leaves(got))
    np.testing.assert_array_equal(got["a"], np.arange(4.0, dtype=np.float32))
    assert got["b"][0] == 3 and got["k"].shape == (2, 3)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _collect(_launch(tmp_path_factory.mktemp("distributed")))


def _names(res) -> list[str]:
    return sorted(k for k in res if k not in META and not k.endswith("__local_rows"))


@pytest.mark.slow
def test_two_processes_form_one_mesh(results):
    for i in range(N_PROCESSES):
        res = results[f"process{i}"]
        assert int(res["process_index"]) == i
        assert int(res["n_devices"]) == N_PROCESSES * LOCAL_DEVICES
        assert int(res["n_local_devices"]) == LOCAL_DEVICES
    assert int(results["reference"]["n_devices"]) == 1


@pytest.mark.slow
def test_results_equal_the_single_process_run(results):
    ref = results["reference"]
    names = _names(ref)
    assert len(names) == 31  # 4 sweeps, 2 x 7 + 4 episode fields, 7 rollout, 2 sweeps
    for i in range(N_PROCESSES):
        res = results[f"process{i}"]
        assert _names(res) == names
        for name in names:
            assert res[name].dtype == ref[name].dtype, name
            np.testing.assert_array_equal(res[name], ref[name], err_msg=name)  # bitwise
    assert ref["sweep_float64_8"].dtype == np.float64
    assert ref["sweep_float32_8"].dtype == np.float32
    # the rows are different runs (not one row repeated) and the traces are finite
    assert np.ptp(ref["sweep_float32_8"][:, 0, -1]) > 0
    assert np.ptp(ref["evaluate_8.returns"]) > 0
    assert np.all(np.isfinite(ref["evaluate_8.traces"]))


@pytest.mark.slow
def test_each_process_computed_its_own_rows(results):
    """8 rows over 4 devices: process i holds rows 4i..4i+3 of every result (nothing
    replicated), so the work was split; 7 rows (padded to 8, trimmed) come back replicated."""
    for i in range(N_PROCESSES):
        res = results[f"process{i}"]
        for name in _names(res):
            rows = res[f"{name}__local_rows"].tolist()
            n = res[name].shape[0]
            expected = list(range(n)) if n == 7 else list(range(4 * i, 4 * i + 4))
            assert rows == expected, (i, name, rows)
