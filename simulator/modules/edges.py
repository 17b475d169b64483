"""Synapses of a network: the ``.edges`` table, edge views and synapse parameters.

One row of ``.edges`` per synapse: ``global_edge_index, index_within_type, pre_index,
post_index, type, type_ind, pre_locs, post_locs``, the parameters and states of each synapse
type (NaN for other types) and ``controlled_by_param``. ``pre_index``/``post_index`` are node
indices. Views by compartment (``net.cell(0)``) hold the synapses whose pre- and
postsynaptic compartments are both in view, as in jaxley 0.14; edge views come from
``net.<SynapseName>``, ``.edge(i)`` and ``.select(edges=...)`` and hold the synapses' pre-
and postsynaptic compartments.
Synapse parameters and states are stored per type: ``all_params["IonotropicSynapse_gS"]``
has one entry per synapse of that type, in ``index_within_type`` order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.modules import io, parameters
from simulator.modules.parameters import checked_values, shared_parameters
from simulator.modules.selection import labels_in, parse_index
from simulator.param_ranges import mechanisms_of
from simulator.synapses.synapse import Synapse

EDGE_COLUMNS = ("global_edge_index", "index_within_type", "pre_index", "post_index", "type",
                "type_ind", "pre_locs", "post_locs")


def empty_edges() -> pd.DataFrame:
    table = pd.DataFrame({c: pd.Series(dtype=np.int64) for c in EDGE_COLUMNS})
    table["type"] = table["type"].astype(object)
    table[["pre_locs", "post_locs"]] = table[["pre_locs", "post_locs"]].astype(float)
    table["controlled_by_param"] = pd.Series(dtype=np.int64)
    return table


def synapse_keys(base) -> set[str]:
    return {k for syn in base._synapses for k in (*syn.synapse_params, *syn.synapse_states)}


# ------------------------------------------------------------------ tables and views
def edges(module) -> pd.DataFrame:
    """Synapses of this selection (a copy for views), with ``controlled_by_param``."""
    if not module._is_view:
        return module._edges
    table = module.base._edges.loc[module._edge_inds].copy()
    table["controlled_by_param"] = module._edge_controlled_by
    return table


def _edge_view(module, inds, controlled_by, what: str, shared_nodes: bool = False):
    """A view of the synapses ``inds`` with their pre- and postsynaptic compartments that
    lie in this selection (as jaxley 0.14's edge views); those compartments share one
    trainable parameter if ``shared_nodes``, else each has its own."""
    inds = np.asarray(inds, dtype=np.int64)
    if inds.size == 0:
        raise ValueError(f"{what} selects no synapse")
    ends = module.base._edges.loc[inds, ["pre_index", "post_index"]].to_numpy()
    nodes = np.intersect1d(ends.ravel(), module._node_inds)
    return module.base._view_type(
        module.base, nodes, np.zeros_like(nodes) if shared_nodes else nodes,
        scope=module._scope, edge_inds=inds, edge_controlled_by=np.asarray(controlled_by))


def edge(module, idx):
    """Synapses of this selection by position (one trainable parameter per synapse)."""
    inds = module._edge_inds
    chosen = inds[parse_index(idx, len(inds), "edge")]
    return _edge_view(module, chosen, chosen, f"edge({idx!r})")


def _synapse_type_view(module, name: str):
    table = module.base._edges.loc[module._edge_inds]
    inds = table.index[table["type"].to_numpy() == name].to_numpy()
    return _edge_view(module, inds, np.zeros(len(inds), dtype=np.int64), f"synapse type {name!r}",
                      shared_nodes=True)


def _select_edges(module, edges, node_inds=None):
    """``select(edges=...)``: the synapses ``edges`` (labels of ``.edges``, a mask or
    ``"all"``) with the compartments ``node_inds`` (node indices), or without them, as in
    jaxley, the pre- and postsynaptic compartments of those synapses that lie in the
    selection. Each synapse and each compartment gets its own trainable parameter."""
    inds = module._edge_inds
    if isinstance(edges, str) and edges == "all":
        wanted = np.sort(inds)
    else:  # labels in the order given (as jaxley), each once
        wanted = labels_in(edges, inds, "select: edges", "edge")
        wanted = wanted[np.sort(np.unique(wanted, return_index=True)[1])]
    if wanted.size == 0:
        raise ValueError(f"select(edges={edges!r}) selects no synapse")
    if node_inds is None:
        ends = module.base._edges.loc[wanted, ["pre_index", "post_index"]].to_numpy()
        node_inds = np.intersect1d(ends.ravel(), module._node_inds)
    node_inds = np.asarray(node_inds, dtype=np.int64)
    return module.base._view_type(module.base, node_inds, node_inds, scope=module._scope,
                                  edge_inds=wanted, edge_controlled_by=wanted,
                                  keep_order=True)


# ------------------------------------------------------------------ building
def _append_synapses(module, pre_nodes, post_nodes, synapse) -> None:
    """Add one synapse of type ``synapse`` per (pre, post) node pair (vectorised)."""
    base = module.base
    if not isinstance(synapse, Synapse):
        raise TypeError(f"expected a Synapse instance, got {synapse!r}")
    synapse._validate()
    known = {s.name: s for s in base._synapses}
    if synapse.name in known and type(known[synapse.name]) is not type(synapse):
        raise ValueError(f"a different synapse type is already named {synapse.name!r}")
    clash = ({*synapse.synapse_params, *synapse.synapse_states} & {*base._nodes.columns})
    if clash:
        raise ValueError(f"synapse {synapse.name!r} parameters clash with columns {clash}")
    if synapse.name not in known:
        base._synapses.append(synapse)
    type_ind = [s.name for s in base._synapses].index(synapse.name)
    pre_nodes = np.asarray(pre_nodes, dtype=np.int64)
    post_nodes = np.asarray(post_nodes, dtype=np.int64)
    n_old = len(base._edges)
    n_type = int((base._edges["type"] == synapse.name).sum())
    locs = _relative_locs(base)
    rows = pd.DataFrame({
        "global_edge_index": np.arange(n_old, n_old + len(pre_nodes)),
        "index_within_type": np.arange(n_type, n_type + len(pre_nodes)),
        "pre_index": pre_nodes,
        "post_index": post_nodes,
        "type": synapse.name,
        "type_ind": type_ind,
        "pre_locs": locs.loc[pre_nodes].to_numpy(),
        "post_locs": locs.loc[post_nodes].to_numpy(),
        "controlled_by_param": 0,
    })
    for key, value in {**synapse.synapse_params, **synapse.synapse_states}.items():
        rows[key] = float(value)
    frames = [base._edges, rows] if n_old else [rows]
    table = pd.concat(frames, ignore_index=True)
    table.index = pd.RangeIndex(len(table))
    base._edges = table
    base._invalidate()


def copy_node_property_to_edges(module, properties_to_import,
                                pre_or_post=("pre", "post")) -> None:
    """Add ``pre_<prop>`` / ``post_<prop>`` columns to ``.edges`` from ``.nodes`` for each
    name in ``properties_to_import`` (a str or a list)."""
    base = module.base
    for name, value in (("properties_to_import", properties_to_import),
                        ("pre_or_post", pre_or_post)):
        if not isinstance(value, str | list | tuple) or not all(
                isinstance(v, str) for v in ([value] if isinstance(value, str) else value)):
            raise TypeError(f"{name} must be a str or a list of str; got {value!r}")
    props = ([properties_to_import] if isinstance(properties_to_import, str)
             else list(properties_to_import))
    sides = [pre_or_post] if isinstance(pre_or_post, str) else list(pre_or_post)
    for side in sides:
        if side not in ("pre", "post"):
            raise ValueError(f"pre_or_post must be 'pre' and/or 'post', got {side!r}")
        for prop in props:
            if prop not in base._nodes.columns:
                raise ValueError(f"unknown node property {prop!r}")
            base._edges[f"{side}_{prop}"] = base._nodes.loc[
                base._edges[f"{side}_index"].to_numpy(), prop].to_numpy()


def _relative_locs(base) -> pd.Series:
    """(0.5 + local compartment index) / ncomp of its branch, per node."""
    nodes = base._nodes
    ncomp = base._topology.ncomp[nodes["global_branch_index"].to_numpy()]
    first = base._data.first_comp
    local = nodes["global_comp_index"].to_numpy() - first[nodes["global_branch_index"].to_numpy()]
    return pd.Series((0.5 + local) / ncomp, index=nodes.index)


def _edge_rows(module, key: str, action: str) -> pd.DataFrame:
    table = module.base._edges.loc[module._edge_inds]
    table = table[table[key].notna()] if key in table.columns else table.iloc[0:0]
    if table.empty:
        raise ValueError(
            f"cannot {action} {key!r}: no synapse in this selection has it (select synapses"
            f" with net.<SynapseName>, .edge(i) or .select(edges=...))"
        )
    return table


def set(module, key: str, val) -> None:
    if key not in synapse_keys(module.base):
        return parameters.set(module, key, val)

    rows = _edge_rows(module, key, "set")
    values = checked_values(key, val, len(rows), "synapse", mechanisms_of(module))
    module.base._edges.loc[rows.index, key] = values
    module._invalidate()


def data_set(module, key: str, val, param_state):
    if key not in synapse_keys(module.base):
        return parameters.data_set(module, key, val, param_state)

    rows = _edge_rows(module, key, "data_set")
    return parameters.data_set_entries(module, key, val, param_state,
                                       rows["index_within_type"].to_numpy(), "synapse")


def make_trainable(module, key: str, init_val=None, verbose: bool = True) -> None:
    if key not in synapse_keys(module.base):
        return parameters.make_trainable(module, key, init_val, verbose)

    rows = _edge_rows(module, key, "make_trainable")
    control = pd.Series(module._edge_controlled_by, index=module._edge_inds).loc[rows.index]
    values, indices = shared_parameters(
        key, control.to_numpy(), rows["index_within_type"].to_numpy(),
        rows[key].to_numpy(), init_val, mechanisms_of(module))
    parameters._add_trainable(module, key, values, indices, verbose)


def _synapse_state_rows(module, state: str):
    """index_within_type of the selection's synapses that have ``state``, or None."""
    for syn in module.base._synapses:
        if state in syn.synapse_states or state == syn.current_name:
            table = module.base._edges.loc[module._edge_inds]
            rows = table[table["type"] == syn.name]
            if rows.empty:
                raise ValueError(f"no {syn.name} synapse in this selection to use {state!r}")
            return rows["index_within_type"].to_numpy().astype(np.int64)
    return None


def record(module, state: str = "v", verbose: bool = True) -> None:
    rows = _synapse_state_rows(module, state)
    if rows is None:
        return io.record(module, state, verbose)
    io.add_recordings(module.base, rows, state)
    if verbose:
        print(f"Added {len(rows)} recordings.")


def clamp(module, state_name: str, state_array, verbose: bool = True) -> None:
    rows = _synapse_state_rows(module, state_name)
    if rows is None:
        return io.clamp(module, state_name, state_array, verbose)
    values = io._input_array(module, state_name, state_array, len(rows), f"clamp of {state_name!r}")
    io._add_external(module, state_name, values, rows)


def data_clamp(module, state_name: str, state_array, data_clamps=None, verbose: bool = False):
    rows = _synapse_state_rows(module, state_name)
    if rows is None:
        return io.data_clamp(module, state_name, state_array, data_clamps, verbose)
    return io._data_external(module, state_name, state_array, data_clamps, rows)


# These synapse-aware versions are the modules' methods; they document the compartment case.
for _method, _compartment_version in ((set, parameters.set), (data_set, parameters.data_set),
                                      (make_trainable, parameters.make_trainable),
                                      (record, io.record), (clamp, io.clamp),
                                      (data_clamp, io.data_clamp)):
    _method.__doc__ = _compartment_version.__doc__
