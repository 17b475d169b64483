"""Parameters: ``set``, ``data_set``, ``make_trainable``, ``get_parameters``, ``to_jax``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from simulator.compile import compile_module
from simulator.modules.columns import BOOKKEEPING_COLUMNS
from simulator.modules.geometry import cylinder_columns
from simulator.modules.selection import view_table
from simulator.modules.summary import owning_synapse
from simulator.param_ranges import check_parameter, mechanisms_of


def _settable(module) -> list[str]:
    nodes = module.base._nodes
    return [c for c in nodes.columns if c not in BOOKKEEPING_COLUMNS and nodes[c].dtype != bool]


def checked_values(key: str, val, n: int, what: str, mechanisms=()) -> np.ndarray:
    """``val`` as a scalar or (n,) float array for ``set(key)`` on n ``what``s, within
    ``key``'s range (:func:`~simulator.param_ranges.check_parameter`; ``mechanisms``: the
    module's channels, pumps and synapses that may declare it)."""
    values = check_parameter(key, val, mechanisms, where=f"set({key!r})")
    if values.ndim > 1 or (values.ndim == 1 and values.shape[0] != n):
        raise ValueError(
            f"set({key!r}) expects a scalar or {n} values (one per {what}), got shape"
            f" {values.shape}"
        )
    return values


def shared_parameters(key: str, control: np.ndarray, targets: np.ndarray, current: np.ndarray,
                      init_val, mechanisms=()) -> tuple[np.ndarray, np.ndarray]:
    """Group ``targets`` by ``control`` into one parameter each.

    Args:
        control: (n,) sharing label of each target (equal labels share one parameter).
        targets: (n,) indices written by the parameters (node or within-type synapse indices).
        current: (n,) current values (the default initial value is their mean per group).
        init_val: None, a float, or one value per group (checked against ``key``'s range,
            declared by one of ``mechanisms`` or built in).

    Returns:
        ``(values (g,), indices (g, max_group_size) padded with -1)``.
    """
    groups, inverse = np.unique(control, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(groups))]
    indices = np.full((len(groups), max(len(m) for m in members)), -1, dtype=np.int32)
    for g, m in enumerate(members):
        indices[g, : len(m)] = targets[m]
    if init_val is None:
        return np.array([np.nanmean(current[m]) for m in members]), indices
    values = check_parameter(key, init_val, mechanisms, where="make_trainable init_val")
    if values.ndim > 1 or (values.ndim == 1 and values.shape[0] != len(groups)):
        raise ValueError(
            f"init_val for {key!r} must be a scalar or {len(groups)} values (one per"
            f" parameter), got shape {values.shape}"
        )
    return np.broadcast_to(values, (len(groups),)).copy(), indices


def _rows_defined(module, key: str, action: str) -> np.ndarray:
    """Node indices of the selection where ``key`` is defined (not NaN)."""
    valid = _settable(module)
    if action != "set":
        # Compartment centres are for plotting only: the simulation never reads them.
        valid = [c for c in valid if c not in ("x", "y", "z")]
    if key not in valid:
        raise ValueError(f"cannot {action} unknown parameter or state {key!r}; valid: {valid}")
    table = view_table(module)
    rows = table.index[table[key].notna().to_numpy()].to_numpy()
    if rows.size == 0:
        raise ValueError(
            f"{key!r} is not defined in any compartment of this selection (is its channel"
            " inserted here?)"
        )
    return rows


def set(module, key: str, val) -> None:
    """Set parameter or initial state ``key`` in every compartment of the selection.

    Args:
        key: a column of ``.nodes`` (``"radius"``, ``"HH_gNa"``, ``"v"``, ...).
        val: a scalar, or an array with one value per compartment that has ``key``.
    Setting ``radius`` or ``length`` recomputes area, volume and resistive loads as
    cylinders. Values outside the parameter's range (:mod:`simulator.param_ranges`:
    a negative conductance, a gate outside [0, 1], a non-positive radius, ...) raise
    ValueError; bools, strings and complex numbers TypeError.
    """
    rows = _rows_defined(module, key, "set")
    values = checked_values(key, val, len(rows), "compartment", mechanisms_of(module))
    nodes = module.base._nodes
    nodes.loc[rows, key] = values
    if key in ("radius", "length"):
        geometry = cylinder_columns(*nodes.loc[rows, ["radius", "length"]].to_numpy().T)
        nodes.loc[rows, list(geometry)] = np.column_stack(list(geometry.values()))
    module._invalidate()


def data_set(module, key: str, val, param_state: list[dict] | None):
    """Jit-safe ``set``: returns ``param_state`` plus one entry for ``integrate``.

    Args:
        key: parameter or state name.
        val: scalar or (n,) array (may be traced), n = compartments that have ``key``.
            A concrete value is range-checked now (as by ``set``); a traced one by
            ``integrate(..., checks=True)``.
        param_state: earlier entries or None.
    Returns:
        list of ``{"indices": (n, 1) int32, "key": key, "val": (n,)}``.
    """
    rows = _rows_defined(module, key, "data_set")
    return data_set_entries(module, key, val, param_state, rows, f"compartment that has {key!r}")


def data_set_entries(module, key: str, val, param_state, targets: np.ndarray, what: str):
    """``param_state`` plus the ``data_set`` entry writing ``val`` into ``targets`` (n,)
    (node or within-type synapse indices, one per ``what``)."""
    check_parameter(key, val, mechanisms_of(module), where=f"data_set({key!r})")
    shape = jnp.shape(val)
    if shape not in ((), (len(targets),)):
        raise ValueError(f"data_set({key!r}) expects a scalar or shape ({len(targets)},) (one"
                         f" value per {what}), got shape {shape}")
    entry = {"indices": jnp.asarray(targets[:, None], dtype=jnp.int32), "key": key,
             "val": jnp.broadcast_to(jnp.asarray(val), (len(targets),))}
    return [*(param_state or []), entry]


def make_trainable(module, key: str, init_val=None, verbose: bool = True) -> None:
    """Make ``key`` a trainable parameter, shared according to the selection.

    One scalar per cell after ``.cell()``, per branch after ``.branch()``, per compartment
    after ``.comp()``/``.loc()``, per row after ``.select()``, one for the whole selection
    otherwise (module, group, channel). ``init_val``: float or one value per parameter;
    default the mean of the current values of each parameter's compartments.
    """
    rows = _rows_defined(module, key, "make_trainable")
    table = view_table(module)
    control = module._controlled_by[np.isin(table.index.to_numpy(), rows)]
    current = module.base._nodes.loc[rows, key].to_numpy()
    values, indices = shared_parameters(key, control, rows, current, init_val,
                                        mechanisms_of(module))
    _add_trainable(module, key, values, indices, verbose)


def _add_trainable(module, key: str, values: np.ndarray, indices: np.ndarray,
                   verbose: bool) -> None:
    module.base._trainable_params.append({key: jnp.asarray(values)})
    module.base._indices_set_by_trainables.append(indices)
    if verbose:
        print(
            f"Number of newly added trainable parameters: {len(values)}. "
            f"Total number of trainable parameters: {module.num_trainable_params}"
        )


def get_parameters(module) -> list[dict]:
    """Trainable parameters as a list of ``{key: (n_params,) array}`` (the grad pytree)."""
    return [dict(p) for p in module.base._trainable_params]


def num_trainable_params(module) -> int:
    """Number of trainable values (on a view: of those that act on the view)."""
    return sum(int(v.size) for p in module.trainable_params for v in p.values())


def write_trainables(module, trainable_params: list[dict]) -> None:
    """Write trained values ``trainable_params`` (as ``get_parameters()`` returns them)
    into ``.nodes`` and ``.edges`` (``set`` semantics: area etc. follow radius and length).

    Only on a whole module (ValueError on a view). The trainable parameters stay
    registered (as in jaxley), now with the written values, so ``integrate(module)``
    simulates what ``integrate(module, params=trainable_params)`` did; call
    ``delete_trainables()`` to drop them.
    """
    base, params = module.base, trainable_params
    if module._is_view:
        raise ValueError("write_trainables writes every trainable parameter: call it on the"
                         f" module (view.base), not on a view ({module!r})")
    if not isinstance(params, list | tuple) or len(params) != len(base._indices_set_by_trainables):
        raise ValueError(
            f"expected a list of {len(base._indices_set_by_trainables)} parameter dicts"
            f" (from get_parameters()), got {params!r}"
        )
    for i, (entry, indices) in enumerate(zip(params, base._indices_set_by_trainables,
                                             strict=True)):
        for key, values in entry.items():
            values = np.atleast_1d(np.asarray(values, dtype=float))
            if values.shape != (len(indices),):
                raise ValueError(
                    f"parameter {key!r} needs shape ({len(indices)},), got {values.shape}"
                )
            for value, row in zip(values, np.asarray(indices), strict=True):
                _written_by(base, key, row[row >= 0]).set(key, float(value))
            base._trainable_params[i] = {key: jnp.asarray(values)}


def _written_by(base, key: str, targets: np.ndarray):
    """The selection of ``base`` that trainable indices ``targets`` of ``key`` address:
    nodes, or (a synapse parameter) the synapses of its type with those within-type indices."""
    owner = owning_synapse(base, key)
    if owner is None:
        return base.select(nodes=targets)
    edges = base._edges
    rows = (edges["type"] == owner) & edges["index_within_type"].isin(targets)
    return base.select(edges=edges.index[rows.to_numpy()].to_numpy())


def to_jax(module) -> None:
    """Compile the module: node arrays (``.jaxnodes``) and the static structure."""
    base = module.base
    base._compiled = compile_module(base)
    base.jaxnodes = {k: jnp.asarray(v) for k, v in base._compiled.node_arrays.items()}
