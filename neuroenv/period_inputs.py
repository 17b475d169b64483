"""The inputs of one control period of :class:`~neuroenv.NeuronEnv`.

The action's entries are, in order, the current amplitudes at the env's stimulation sites
(nA, one compartment each, held for the period or biphasic: ``pulse``) and one amplitude per
actuator (:mod:`neuroenv.electrodes`: µA at electrode contacts, nA into compartments, as
pulse trains on the global solver-step grid). The task adds its own drive currents.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from neuroenv.extracellular_obs import CONTACTS
from neuroenv.params_validation import check_action


def site_waveform(current, substeps: int, pulse: str):
    """(substeps, n_sites) injected current (nA) over a period for amplitudes ``current``
    ((n_sites,) nA): held (``pulse="constant"``) or +I then −I (``"biphasic"``)."""
    steps = jnp.broadcast_to(current, (substeps, current.shape[0]))
    if pulse == "biphasic":
        sign = jnp.where(jnp.arange(substeps) < substeps // 2, 1.0, -1.0)
        steps = steps * sign[:, None].astype(steps.dtype)
    return steps


def period_inputs(env, key, state, action, params):
    """``(task_state, current, current_ok, xs, inds)`` of a period of ``env``: the action's
    amplitudes ((n_sites,): nA at the stimulation sites, then µA or nA per actuator; zeros
    unless all finite), the task's state after its drive, and the step inputs ``xs``
    (name -> (substeps, n)) at indices ``inds``."""
    action = jnp.clip(check_action(action, env.n_sites), -1.0, 1.0)
    n, drive = env.n_cell_sites, env._contacts
    current = action[:n] * params.action_scale  # nA
    if drive is not None:
        current = jnp.concatenate([current, drive.amplitudes(action[n:])])
    current_ok = jnp.all(jnp.isfinite(current))
    current = jnp.where(current_ok, current, 0.0)  # what info["current_nA"] reports
    columns, nodes = [env.waveform(current[:n])], [env.site_nodes]
    xs, inds = {}, {}
    if drive is not None:
        pulses = drive.waveform(current[n:], state.time * env.substeps, env.substeps)
        columns.append(pulses[:, drive.node_owner])
        nodes.append(drive.nodes)
        if len(drive.inds):
            xs[CONTACTS], inds[CONTACTS] = pulses[:, drive.owner], drive.inds
    task_state = state.task
    if env.n_drive:
        task_state, currents = env.task.drive(task_state, key, params.task, env.substeps,
                                              env.delta_t)
        columns.append(currents.astype(columns[0].dtype))
        nodes.append(env.drive_nodes)
    nodes = np.concatenate(nodes)
    if len(nodes):
        xs["i"] = jnp.concatenate([c.astype(columns[0].dtype) for c in columns], axis=1)
        inds["i"] = nodes
    return task_state, current, current_ok, xs, inds
