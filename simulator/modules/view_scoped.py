"""Recordings, inputs and trainable parameters of a selection, as jaxley 0.14 scopes them.

On a base module these are the module's own. On a view (``branch.comp(1)``) they are the
part that acts on the view: ``recordings`` and ``externals``/``external_inds`` list only the
rows whose compartment (or, for a synapse state, synapse) is in view, and
``delete_recordings``, ``delete_stimuli``, ``delete_clamps`` and ``delete_trainables`` remove
only that part and keep the rest of the module's. A trainable entry shared by compartments
in and out of view keeps its out-of-view indices (as ``trainable_params`` of the rest).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd

from simulator.modules import summary


def _targets(module, key: str) -> np.ndarray:
    """Indices that rows of ``key`` use in view: within-type synapse indices for a synapse
    state or current, else node indices."""
    for syn in module.base._synapses:
        if key in syn.synapse_states or key in syn.synapse_params or key == syn.current_name:
            edges = module.base._edges.loc[module._edge_inds]
            return edges.loc[edges["type"] == syn.name, "index_within_type"].to_numpy(np.int64)
    return np.asarray(module._node_inds)


def _recording_in_view(module) -> np.ndarray:
    """(n_recordings,) bool: which of the base's recordings act on the view."""
    table = module.base._recordings
    inside = np.zeros(len(table), dtype=bool)
    for state in table["state"].unique():
        rows = (table["state"] == state).to_numpy()
        inside[rows] = np.isin(table["rec_index"].to_numpy()[rows], _targets(module, state))
    return inside


def recordings_of(module) -> pd.DataFrame:
    """``recordings``: (rec_index, state) rows; on a view, those in view."""
    if not module._is_view:
        return module._recordings
    return module.base._recordings[_recording_in_view(module)]


def _externals_in_view(module) -> dict[str, np.ndarray]:
    """Per input key, (n_rows,) bool: which rows act on the view."""
    base = module.base
    return {k: np.isin(inds, _targets(module, k)) for k, inds in base._external_inds.items()}


def externals_of(module) -> dict:
    """``externals``: input key -> (n_rows, T) array; on a view, the rows in view."""
    if not module._is_view:
        return module._externals
    return {k: module.base._externals[k][m] for k, m in _externals_in_view(module).items()
            if m.any()}


def external_inds_of(module) -> dict:
    """``external_inds``: input key -> (n_rows,) indices; on a view, the rows in view."""
    if not module._is_view:
        return module._external_inds
    return {k: module.base._external_inds[k][m] for k, m in _externals_in_view(module).items()
            if m.any()}


def delete_recordings(module) -> None:
    """Remove the recordings of this selection (of the whole module on a module)."""
    base = module.base
    keep = ~_recording_in_view(module) if module._is_view else np.zeros(len(base._recordings),
                                                                         dtype=bool)
    base._recordings = base._recordings[keep].reset_index(drop=True)


def _delete_inputs(module, keys) -> None:
    base = module.base
    masks = _externals_in_view(module) if module._is_view else None
    for key in keys:
        keep = ~masks[key] if masks is not None else np.zeros(len(base._external_inds[key]),
                                                               dtype=bool)
        if keep.any():
            base._externals[key] = base._externals[key][keep]
            base._external_inds[key] = base._external_inds[key][keep]
        else:
            base._externals.pop(key)
            base._external_inds.pop(key)


def delete_stimuli(module) -> None:
    """Remove the current stimuli of this selection (of the whole module on a module)."""
    _delete_inputs(module, [k for k in ("i",) if k in module.base._externals])


def delete_clamps(module, state_name: str | None = None) -> None:
    """Remove the clamps of ``state_name`` (None: of every clamped state) in this selection.

    Raises:
        ValueError: ``state_name`` is not clamped anywhere in the module.
    """
    externals = module.base._externals
    if state_name is None:
        keys = [k for k in externals if k not in ("i", "i_extracellular")]
    elif state_name not in externals:
        raise ValueError(f"no clamp of {state_name!r}; clamped: {list(externals)}")
    else:
        keys = [state_name]
    _delete_inputs(module, keys)


def delete_trainables(module) -> None:
    """Remove the trainable parameters that act on this selection (all on a module)."""
    base = module.base
    if not module._is_view:
        base._trainable_params.clear()
        base._indices_set_by_trainables.clear()
        return
    params, inds = [], []
    for entry, indices in zip(base._trainable_params, base._indices_set_by_trainables,
                              strict=True):
        (key, values), = entry.items()
        indices = np.asarray(indices)
        outside = np.setdiff1d(indices[indices >= 0], _targets(module, key))
        for vals, kept in summary._filter_trainable(values, indices, outside):
            params.append({key: _like(values, vals)})
            inds.append(kept.astype(indices.dtype))
    base._trainable_params[:] = params
    base._indices_set_by_trainables[:] = inds
    base._invalidate()


def _like(values, vals):
    """``vals`` as the array type of ``values`` (jax or numpy)."""
    return jnp.asarray(vals) if not isinstance(values, np.ndarray) else np.asarray(vals)
