"""Reverse-mode memory of long runs: ``checkpoint_lengths`` keeps the gradient's buffers small.

Compile only (nothing is run, no timing): XLA's ``memory_analysis()`` of the jitted gradient
of a 10,000-step CA1 run (as ``bench/memory.py``, which also measures the peak RSS of the
run itself).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import simulator as jx
from simulator.channels import HH

DATA = Path(__file__).parents[1] / "data" / "swc"
DELTA_T = 0.025
N_STEPS = 10_000
T_MAX = (N_STEPS - 1) * DELTA_T  # int(T_MAX // DELTA_T + 1) == 10_000 steps


def _grad_temp_bytes(cell, checkpoint_lengths):
    params = cell.get_parameters()

    def loss(p):
        v = jx.integrate(cell, params=p, t_max=T_MAX, delta_t=DELTA_T,
                         checkpoint_lengths=checkpoint_lengths)
        return jnp.sum(v)

    stats = jax.jit(jax.grad(loss)).lower(params).compile().memory_analysis()
    if stats is None:
        pytest.skip(f"no memory_analysis on backend {jax.default_backend()}")
    return stats.temp_size_in_bytes


@pytest.mark.slow  # two compilations of the CA1 gradient: ~20-35 s on 2 CPU cores
def test_checkpointed_gradient_of_10000_steps_fits_in_2_gb(x64):
    cell = jx.read_swc(DATA / "morph_ca1_n120.swc", ncomp=4, backend="neuron")
    cell.insert(HH())
    cell.branch(0).loc(0.5).stimulate(jx.step_current(1.0, 10.0, 0.5, DELTA_T, T_MAX),
                                      verbose=False)
    cell.branch(0).loc(0.5).record("v", verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    assert int(T_MAX // DELTA_T + 1) == N_STEPS

    checkpointed = _grad_temp_bytes(cell, (100, 100))
    plain = _grad_temp_bytes(cell, None)
    # Measured (jax 0.10.2, CPU, float64, 624 nodes; bench/memory.py): checkpointed
    # (100, 100) 34-38 MB, un-checkpointed 3.1-3.5 GB (~330 kB of residuals per step),
    # a ratio of ~92; the peak RSS of the runs grows by the same amounts.
    assert checkpointed < 2e9
    assert checkpointed * 20 < plain
