"""The solver steps of one control period: a ``lax.scan`` of the simulator's step that
records after every step, run node-major under ``vmap`` where the module allows
(:mod:`simulator.batch_last`: 1,024 vmapped VoltageTarget envs 1.3x faster in float32,
DendriteControl 2–2.6x; docs/performance.md, "Fourth pass: node-major batches")."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from neuroenv.extracellular_obs import lfp
from neuroenv.numerical_guard import plausible_period
from simulator.batch_last import batch_last


class PeriodSteps(NamedTuple):
    """What the period's steps need besides the step, states and inputs (static per env).

    Attributes:
        delta_t: solver step (ms).
        rec_states, rec_inds: the recorded states' names and node indices.
        n_lfp: number of recorded electrode contacts.
        masks: the entries of each state that hold a value
            (:func:`neuroenv.numerical_guard.state_masks`).
        node_major: run node-major under ``vmap``
            (:func:`simulator.batch_last.supports_batch_last`).
    """

    delta_t: float
    rec_states: tuple
    rec_inds: object
    n_lfp: int
    masks: dict
    node_major: bool


def recorded(states: dict, rec_states, rec_inds) -> jax.Array:
    """(n_rec,) float32: ``states[rec_states[k]][rec_inds[k]]`` for every recording ``k``
    (with trailing batch axes where ``states`` has them)."""
    return jnp.stack([states[s][i] for s, i in zip(rec_states, rec_inds, strict=True)]
                     ).astype(jnp.float32)


def run_period(step, steps: PeriodSteps, sim: dict, sim_params: dict, prepared: dict,
               xs: dict, inds: dict):
    """The solver steps of a period: ``step`` (:class:`simulator.step.Step`) from states
    ``sim`` with parameters ``sim_params``, the solver's ``prepared`` data and step inputs
    ``xs`` (name -> (substeps, n)) at ``inds``.

    Returns:
        ``(sim, trace, lfp_trace, plausible)``: the states after the period, the recorded
        states after every step ((substeps, n_rec), float32), the electrode potentials
        ((substeps, n_lfp), µV) and whether the period stayed physically possible
        (:func:`neuroenv.numerical_guard.plausible_period`, reduced node-major too: as
        ``vmap``'s batch-first reductions over 235 nodes it cost DendriteControl x1,024
        float32 a quarter of its time).
    """
    # Built from `steps`, not from the env: batch_last's rules stay in the compiled
    # program's cache, which must not keep the env alive.
    delta_t, rec_states, rec_inds, n_lfp, masks, node_major = steps

    def period(sim, sim_params, prepared, xs):
        v_dtype = sim["v"].dtype

        def solver_step(sim, ext):
            ext = {k: e.astype(v_dtype) for k, e in ext.items()}
            sim = step(sim, sim_params, ext, inds, delta_t, prepared)
            # No potentials without electrodes (batch_last's outputs must not be empty).
            potentials = lfp(prepared, sim["v"], ext, inds) if n_lfp else None
            return sim, (recorded(sim, rec_states, rec_inds), potentials)

        end, (trace, lfp_trace) = jax.lax.scan(solver_step, sim, xs)
        return end, trace, lfp_trace, plausible_period(sim, end, trace, masks)

    if node_major:
        period = batch_last(period, carried=(0,), shared=(2,))
    sim, trace, lfp_trace, plausible = period(sim, sim_params, prepared, xs)
    if lfp_trace is None:
        lfp_trace = jnp.zeros((trace.shape[0], 0), jnp.float32)
    return sim, trace, lfp_trace, plausible
