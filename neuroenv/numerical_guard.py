"""The numerical guard of :meth:`neuroenv.neuron_env.NeuronEnv.step_env` (one place, which the
functional, gymnasium, vector and adapter envs all run): every value handed to the agent is
finite. A control period is a *numerical error* when, at its start or end, any compartment's
|v| exceeds ``V_LIMIT`` = 1,000 mV (NaN included) or any other simulator state (where its
mechanism is; NaN placeholders elsewhere) is non-finite, or a recorded voltage exceeds
``V_LIMIT`` at any of its solver steps, or when its reward, observation or injected current
(a NaN action or ``action_scale``) is non-finite. (A non-finite value anywhere stays non-
finite or reaches v through the membrane current; checking every compartment at every solver
step cost 18-20 % of a vmapped step.) The period then ends the episode (``terminated=True``,
``info["numerical_error"]=True``) with reward ``NUMERICAL_ERROR_REWARD`` (−10) and an
observation that repeats the last finite voltages with the previous task state (fresh
measurement noise; any entry still non-finite, e.g. from non-finite params, is 0);
``info["current_nA"]`` is 0 for a non-finite current. The ``EnvState.sim`` of that step is
left as the solver produced it, for inspection.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.carry_packing import CHUNK_BYTES, one_buffer
from simulator.node_index import along_nodes

#: Numerical guard: a membrane voltage beyond ±V_LIMIT (mV) anywhere in the simulated cell
#: (checked at the start and end of each control period, and for the recorded voltages at
#: every solver step) is physically impossible (no neuron gets near 1 V; a blow-up of an
#: explicit solver passes it within a few steps): the period is a numerical error, as is
#: any non-finite state, reward or observation.
V_LIMIT = 1000.0
#: The reward of a period with a numerical error: a finite penalty (the voltage tasks'
#: per-period rewards lie in [−3, 0]; see the task cards).
NUMERICAL_ERROR_REWARD = -10.0


def state_masks(states: dict) -> dict:
    """name -> (n,) bool NumPy mask of the entries of each floating-point state other than
    ``v`` that hold a value in ``states`` (a module's initial states: the entries of
    compartments without the state's mechanism are NaN placeholders)."""
    return {name: np.isfinite(np.asarray(value)) for name, value in states.items()
            if name != "v" and np.issubdtype(np.asarray(value).dtype, np.floating)}


def plausible_states(sim: dict, masks: dict) -> jax.Array:
    """Whether simulator states are physically possible (a bool scalar): every
    compartment's |v| ≤ :data:`V_LIMIT` (False for NaN) and every other state finite at the
    entries of ``masks`` (:func:`state_masks` of the initial states). States with trailing
    batch axes (node-major, :mod:`simulator.batch_last`) give one answer per batch entry."""
    batch = sim["v"].ndim - 1
    names = ["v", *masks]
    skips = [np.zeros(sim["v"].shape[0], bool), *(~mask for mask in masks.values())]
    ok = None
    for group in _groups([sim[name] for name in names]):
        # One reduction per group of states (node axis first): XLA compiles a reduction per
        # array into kernels of its own (BasalGangliaDBS-v0: ~110 of the step program's ~330).
        values = jnp.concatenate([sim[names[i]] for i in group])
        # |v| <= V_LIMIT; another state's |x| <= its dtype's largest value: finite, not NaN.
        big = np.finfo(values.dtype).max
        limit = np.concatenate([np.full(skips[i].shape[0], V_LIMIT if i == 0 else big)
                                for i in group]).astype(values.dtype)
        skip = np.concatenate([skips[i] for i in group])
        good = _all((jnp.abs(values) <= along_nodes(limit, values))
                    | along_nodes(skip, values), batch)
        ok = good if ok is None else ok & good
    return ok


def _groups(arrays) -> list[list[int]]:
    """Indices of ``arrays`` in consecutive groups to concatenate: one group when they
    are too large for chunks together (:func:`neuroenv.carry_packing.one_buffer`: the
    program then runs on XLA's thread pool anyway), else groups of at most ``CHUNK_BYTES``
    each, so that a small cell's program keeps every buffer small enough to run on the
    calling thread (one 624-byte float64 group took VoltageTarget-v0's ``env.step`` from
    66 to 147 µs)."""
    sizes = [int(np.prod(a.shape)) * np.dtype(a.dtype).itemsize for a in arrays]
    if one_buffer(sum(sizes)):
        return [list(range(len(arrays)))]
    groups, total = [[]], 0
    for i, size in enumerate(sizes):
        if groups[-1] and total + size > CHUNK_BYTES:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += size
    return groups


def plausible_period(start: dict, end: dict, trace, masks: dict) -> jax.Array:
    """Whether a control period stayed physically possible (a bool scalar): the simulator
    states at its ``start`` and ``end`` (:func:`plausible_states`; a non-finite value
    anywhere stays non-finite or reaches v through the membrane current) and the recorded
    voltages ``trace`` (substeps, n_rec) at every solver step within ±:data:`V_LIMIT`. (A
    per-step check of every compartment cost 18-20 % of a vmapped step's time.) Trailing
    batch axes as in :func:`plausible_states`."""
    batch = start["v"].ndim - 1
    return (plausible_states(start, masks) & plausible_states(end, masks)
            & _all(jnp.abs(trace) <= V_LIMIT, batch))


def _all(x, batch: int):
    """``jnp.all`` over every axis of ``x`` but its ``batch`` trailing ones."""
    return jnp.all(x, axis=tuple(range(x.ndim - batch)))


def guarded_outputs(ok, obs, fallback, reward) -> tuple[jax.Array, jax.Array]:
    """``(obs, reward)`` handed out: ``obs`` and ``reward`` if ``ok``, else ``fallback``
    (the last finite voltages with the previous task state) and
    :data:`NUMERICAL_ERROR_REWARD`; entries still non-finite become 0 (float32)."""
    obs = jnp.where(ok, obs, fallback)
    obs = jnp.where(jnp.isfinite(obs), obs, 0.0).astype(jnp.float32)
    reward = jnp.where(ok, reward, jnp.float32(NUMERICAL_ERROR_REWARD)).astype(jnp.float32)
    return obs, reward
