"""The arithmetic floor (:mod:`bench.floor`) of every ``python -m bench`` workload.

Each function builds the workload's cell with our package exactly as its benchmark does
(same builder, same stimulus, same recordings), runs it through the floor kernel, and returns
the floor's time in the unit of the benchmark's row, so that ``bench/run.py`` can print
``ours / floor``. Compile time is excluded (printed as ``first``); run times are medians of
``repeats``; every call blocks on (and, where the workload reads it back, converts to NumPy)
the recorded voltages.

- :func:`ca1`: CA1 (``morph_ca1_n120.swc``, ncomp 4, HH), ``t_max`` ms: seconds per run.
- :func:`step_loop`: one HH compartment, a one-step kernel called from Python, v read back:
  µs per call (the floor of ``step_fn`` in a Python loop).
- :func:`gym_step`: the env cell, a 40-step kernel called from Python with its state
  carried and the env's current, v read back: µs per call (the floor of one ``env.step``).
- :func:`vmap`: the env cell x ``n_batch`` stimulus amplitudes, ``t_max`` ms: ns per solver
  step of one cell (1 / throughput).
- :func:`dendrite`: DendriteControl-v0's CA1 cell (156 compartments) x ``n_batch`` soma
  stimulus amplitudes, ``t_max`` ms: ns per solver step of one cell (1 / throughput).
- :func:`network`: ``n_cells`` HH point neurons with the benchmark's sparse synapses: seconds
  per run.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from bench import floor
from bench._common import DELTA_T, SWC_DIR, median


def _timed_runs(run, arg, repeats):
    """(first call s, median s of ``repeats`` further calls) of ``run(arg)``."""

    def once():
        t0 = time.perf_counter()
        jax.block_until_ready(run(arg))
        return time.perf_counter() - t0

    first = once()
    return first, median([once() for _ in range(max(1, repeats))])


def run_module(module, t_max, n_batch=1, repeats=3, dtype=None):
    """Floor of ``module`` for ``t_max`` ms x ``n_batch`` copies (stimulus scaled by factors
    evenly spaced over [-1, 1] when ``n_batch`` > 1): {"first", "run" (s), "n_steps",
    "n_nodes", "finite"}."""
    prob = floor.floor_problem(module, DELTA_T)
    n_steps = int(round(t_max / DELTA_T))
    run = floor.floor_runner(prob, n_steps, DELTA_T, dtype)
    amp = jnp.linspace(-1.0, 1.0, n_batch) if n_batch > 1 else jnp.ones(1)
    first, t = _timed_runs(run, amp, repeats)
    finite = bool(np.isfinite(np.asarray(run(amp))).all())
    return {"first": first, "run": t, "n_steps": n_steps, "n_nodes": prob.n, "finite": finite}


def ca1(t_max, repeats=3, ncomp=4):
    """Floor of the ``ca1`` rows (:func:`bench.swc_vs_reference.build`)."""
    import simulator
    from bench import swc_vs_reference as swc
    from simulator.channels import HH

    cell = swc.build(simulator, HH, SWC_DIR / "morph_ca1_n120.swc", ncomp, t_max)
    return run_module(cell, t_max, repeats=repeats)


def _per_call(call, n_calls, repeats):
    """{"first": s of the first ``call()``, "us": median over ``repeats`` of the median µs of
    ``n_calls`` individually timed further calls}; ``call`` reads its result back."""
    t0 = time.perf_counter()
    call()
    first = time.perf_counter() - t0

    def loop():
        times = []
        for _ in range(n_calls):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        return median(times) * 1e6

    return {"first": first, "us": median([loop() for _ in range(max(1, repeats))])}


def _per_call_us(module, n_steps, n_calls, repeats):
    prob = floor.floor_problem(module, DELTA_T)
    run = floor.floor_runner(prob, n_steps, DELTA_T)
    amp = jnp.ones(1)
    return {**_per_call(lambda: np.asarray(run(amp)), n_calls, repeats), "n_steps": n_steps}


def step_loop(n_calls, repeats=3):
    """Floor of the ``step`` row: µs per call of a one-step kernel (one HH compartment of
    :func:`bench.simulator_vs_reference.build_model`), v read back every call."""
    import simulator
    from bench import simulator_vs_reference as svr
    from simulator.channels import HH

    mod = svr.build_model("compartment", simulator, HH, 10.0)
    return _per_call_us(mod, 1, n_calls, repeats)


def env_cell(stim_amp=None, t_max=None):
    """The env cell of VoltageTarget-v0 (:func:`bench.env_vs_reference.build_cell`)."""
    import simulator
    from bench import env_vs_reference as evr
    from simulator.channels import HH

    return evr.build_cell(simulator, HH, stim_amp=stim_amp, t_max=t_max)


def gym_step(n_calls, substeps=40, repeats=3):
    """Floor of the ``gym`` row: µs per call of a ``substeps``-step kernel on the env cell,
    its state carried from call to call and the soma driven with the env's current for the
    row's action (``GYM_ACTION`` x the env's ``action_scale``: the cell spikes, as the env's
    does), v read back every call."""
    import neuroenv
    from bench.env_vs_reference import GYM_ACTION

    _, params = neuroenv.make("VoltageTarget-v0")
    amp = GYM_ACTION * float(params.action_scale)  # nA
    prob = floor.floor_problem(env_cell(amp, substeps * DELTA_T), DELTA_T)
    initial, run = floor.floor_stepper(prob, substeps, DELTA_T)
    carry = initial(jnp.ones(1))

    def call():
        nonlocal carry
        carry, v = run(carry)
        np.asarray(v)

    return {**_per_call(call, n_calls, repeats), "n_steps": substeps}


def vmap(n_batch, t_max=40.0, repeats=3, dtype=None):
    """Floor of the ``vmap`` rows: the env cell with a soma step current, ``n_batch``
    amplitudes, ``t_max`` ms; adds ``ns_per_step`` (ns per solver step of one cell)."""
    res = run_module(env_cell(0.5, t_max), t_max, n_batch, repeats, dtype)
    res["ns_per_step"] = res["run"] / (n_batch * res["n_steps"]) * 1e9
    return res


def dendrite(n_batch, t_max=25.0, repeats=3, dtype=None):
    """Floor of the DendriteControl row (:mod:`bench.dendrite_vmap`): the task's CA1 cell,
    soma stimulated from 1 ms (0.5 nA scaled by the batch's factors), ``n_batch`` copies,
    ``t_max`` ms; adds ``ns_per_step``."""
    import simulator
    from neuroenv.tasks.dendrite_control import ca1_cell

    cell = ca1_cell(1)[0]
    cell.delete_recordings()
    soma = cell.branch(0).comp(0)
    soma.record("v", verbose=False)
    soma.stimulate(simulator.step_current(1.0, t_max, 0.5, DELTA_T, t_max), verbose=False)
    res = run_module(cell, t_max, n_batch, repeats, dtype)
    res["ns_per_step"] = res["run"] / (n_batch * res["n_steps"]) * 1e9
    return res


def network(n_cells, t_max, repeats=3):
    """Floor of the ``network`` rows (:func:`bench.network_vs_reference.build_network` with
    the benchmark's sparse synapses and ``add_io``)."""
    from bench import network_vs_reference as nvr

    pkg = nvr.load_packages()["ours"]
    net, _ = nvr.build_network(pkg, n_cells,
                               lambda net: pkg["sparse"](net, nvr.P_CONNECT, nvr.SEED))
    nvr.add_io(pkg, net, n_cells, t_max)
    return run_module(net, t_max, repeats=repeats)
