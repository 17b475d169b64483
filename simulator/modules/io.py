"""Recordings, stimuli and clamps (static ones and jit-safe ``data_*`` ones)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd

from simulator.modules.selection import require_compartments, view_table
from simulator.param_ranges import check_parameter, mechanisms_of


# ------------------------------------------------------------------ names
def _state_names(module) -> list[str]:
    names = ["v"]
    for channel in module.base._channels:
        names += [k for k in channel.channel_states if k not in names]
    return names


def _current_names(module) -> list[str]:
    names: list[str] = []
    for channel in module.base._channels:
        if channel.current_name not in names:
            names.append(channel.current_name)
    return names


def _rows_with(module, state: str, action: str) -> np.ndarray:
    """Node indices of this selection where ``state`` exists; ValueError if unknown."""
    table = view_table(module)
    if state == "v":
        return table.index.to_numpy()
    if state in _state_names(module) and state in table.columns:
        return table.index[table[state].notna().to_numpy()].to_numpy()
    if state in _current_names(module):
        mask = np.zeros(len(table), dtype=bool)
        for channel in module.base._channels:
            if channel.current_name == state:
                mask |= table[channel.name].to_numpy(dtype=bool)
        return table.index[mask].to_numpy()
    raise ValueError(
        f"cannot {action} {state!r}: expected one of the states {_state_names(module)} or"
        f" membrane currents {_current_names(module)}"
    )


# ------------------------------------------------------------------ recordings
def record(module, state: str = "v", verbose: bool = True) -> None:
    """Record ``state`` (``"v"``, a channel state or a current name) in every compartment.

    One output row of ``integrate`` per compartment, in ``.recordings`` order.
    """
    rows = _rows_with(module, state, "record")
    if rows.size == 0:
        raise ValueError(f"no compartment of this selection has {state!r} to record")
    added = add_recordings(module.base, rows, state)
    if verbose:
        print(f"Added {added} recordings.")


def add_recordings(base, rows: np.ndarray, state: str) -> int:
    """Record ``state`` at ``rows`` (node or within-type synapse indices) unless already
    recorded; returns how many recordings were added."""
    new = pd.DataFrame({"rec_index": rows.astype(np.int64), "state": state})
    merged = pd.concat([base._recordings, new], ignore_index=True)
    base._recordings = merged.drop_duplicates(ignore_index=True)
    return len(base._recordings) - len(merged) + len(new)


# ------------------------------------------------------------------ inputs
def _input_array(module, key: str, values, n_rows: int, what: str, traced: bool = False):
    """``values`` of the input ``key`` (``"i"`` or a clamped state) as (n_rows, T).

    Real numbers only (TypeError for bool, complex, str); concrete values within
    ``key``'s range (:mod:`simulator.param_ranges`: finite, a clamped gate in [0, 1],
    ...); a traced value is checked by ``integrate(..., checks=True)``.
    """
    where = ("stimulus" if key == "i" else f"clamp of {key!r}") + (" data" if traced else "")
    checked = check_parameter(key, values, mechanisms_of(module), where=where)
    arr = jnp.asarray(values) if traced else checked
    if arr.ndim == 1:
        arr = (jnp if traced else np).broadcast_to(arr[None, :], (n_rows, arr.shape[0]))
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise ValueError(
            f"{what} must have shape (T,) or ({n_rows}, T) for the {n_rows} compartments of"
            f" this selection, got shape {tuple(arr.shape)}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{what} has no time samples (shape {tuple(arr.shape)})")
    return arr


def _add_external(module, key: str, values: np.ndarray, rows: np.ndarray) -> None:
    base = module.base
    # Inputs of one key are stacked, so they need equal lengths; different keys may
    # differ (integrate() with t_max pads or cuts them; without t_max it refuses).
    if key in base._externals and base._externals[key].shape[1] != values.shape[1]:
        raise ValueError(
            f"the new {key!r} input has {values.shape[1]} time samples but the earlier"
            f" {key!r} inputs have {base._externals[key].shape[1]}; give every"
            f" {'stimulus' if key == 'i' else 'clamp of ' + repr(key)} the same length"
        )
    if key in base._externals:
        base._externals[key] = np.concatenate([base._externals[key], values])
        base._external_inds[key] = np.concatenate([base._external_inds[key], rows])
    else:
        base._externals[key] = np.array(values)
        base._external_inds[key] = rows.astype(np.int64)


def stimulate(module, current=None, verbose: bool = True) -> None:
    """Inject ``current`` (nA) into every compartment of the selection.

    Args:
        current: (T,) for the same current everywhere or (n_compartments, T); sample k
            drives integration step k. Repeated calls add up. Required (the None default
            is jaxley's signature; None raises TypeError).
    """
    if current is None:
        raise TypeError("stimulate: current is required: a (T,) or (n_compartments, T) array"
                        " of nA, got None")
    require_compartments(module, "stimulate")
    rows = view_table(module).index.to_numpy()
    values = _input_array(module, "i", current, len(rows), "current")
    _add_external(module, "i", values, rows)
    if verbose:
        print(f"Added {len(rows)} external_states.")


def clamp(module, state_name: str, state_array, verbose: bool = True) -> None:
    """Hold ``state_name`` at ``state_array`` ((T,) or (n, T)) in the selection."""
    if state_name == "i":
        raise ValueError("'i' is reserved for stimuli; use stimulate() to inject current")
    rows = _rows_with(module, state_name, "clamp")
    if rows.size == 0:
        raise ValueError(f"no compartment of this selection has {state_name!r} to clamp")
    values = _input_array(module, state_name, state_array, len(rows), f"clamp of {state_name!r}")
    _add_external(module, state_name, values, rows)
    if verbose:
        print(f"Added {len(rows)} external_states.")


# ------------------------------------------------------------------ jit-safe inputs
def _data_external(module, key: str, values, existing, rows):
    names, arrays, inds = existing if existing is not None else ([], [], [])
    arr = _input_array(module, key, values, len(rows), f"data for {key!r}", traced=True)
    return [*names, key], [*arrays, arr], [*inds, rows]


def data_stimulate(module, current, data_stimuli=None, verbose: bool = False):
    """Jit-safe stimulus: returns ``(names, arrays, inds)`` for ``integrate(data_stimuli=)``.

    ``current`` may be traced (vmap over stimuli); shape (T,) or (n_compartments, T), nA.
    """
    require_compartments(module, "data_stimulate")
    rows = view_table(module).index.to_numpy()
    return _data_external(module, "i", current, data_stimuli, rows)


def data_clamp(module, state_name: str, state_array, data_clamps=None, verbose: bool = False):
    """Jit-safe clamp: returns ``(names, arrays, inds)`` for ``integrate(data_clamps=)``."""
    if state_name == "i":
        raise ValueError("'i' is reserved for stimuli; use data_stimulate()")
    rows = _rows_with(module, state_name, "clamp")
    if rows.size == 0:
        raise ValueError(f"no compartment of this selection has {state_name!r} to clamp")
    return _data_external(module, state_name, state_array, data_clamps, rows)
