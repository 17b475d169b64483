"""jaxley's descriptive attributes of modules and views, and ``show``/``copy``.

Every attribute is computed from the base module's data when it is read (nothing is stored),
so it is always current, also after ``set_ncomp`` or ``connect``. On a base module they
describe the whole module; on a view, the part in view, with jaxley 0.14's semantics:

* ``ncomp``: a view's number of compartments; a base module's largest number of
  compartments in one branch (1 for a Compartment).
* ``comb_parents`` (n_branches,), ``branch_edges`` (DataFrame): the branch tree with global
  branch indices, over all cells.
* ``total_nbranches``, ``nbranches_per_cell``: branches that have a compartment in view.
* ``ncomp_per_branch`` (n_branches,): each such branch's number of compartments in the
  module (also where only some of them are in view); ``cumsum_ncomp`` (n_branches + 1,)
  its cumulative sum after a leading 0.
* ``membrane_current_names``: current names of the channels (base modules: and pumps) that
  are inserted somewhere in view; ``synapse_names``: the synapse types in view (a view of
  compartments holds the synapses between its compartments); ``group_names``: every
  group of the base module.
* ``xyzr`` on a view: the traced points of each branch in view, interpolated to the ends of
  the compartments in view where only part of a branch is (NaN rows between gaps).
* ``trainable_params`` / ``indices_set_by_trainables`` on a view: the trainable parameters
  that act on the view, each reduced to its values with an index in view. Unlike jaxley
  (which filters only channel and synapse parameters), geometry trainables such as
  ``radius`` are filtered too.
"""

from __future__ import annotations

import copy as copy_module
import warnings

import jax.numpy as jnp
import numpy as np
import pandas as pd

from simulator.modules.selection import view_table

#: Index columns that ``show(indices=True)`` lists first.
INDEX_COLUMNS = ("local_comp_index", "global_comp_index", "local_branch_index",
                 "global_branch_index", "local_cell_index", "global_cell_index")


def _branches_in_view(module) -> np.ndarray:
    return np.unique(view_table(module)["global_branch_index"].to_numpy())


def _edge_table(module) -> pd.DataFrame:
    return module.base._edges.loc[module._edge_inds]


def owning_synapse(base, key: str) -> str | None:
    """Name of the synapse type whose parameter or state ``key`` is (None: a node column)."""
    owner = [s.name for s in base._synapses if key in {*s.synapse_params, *s.synapse_states}]
    return owner[0] if owner else None


def _in_view_targets(module, key: str) -> np.ndarray:
    """Indices (node, or within-type synapse) that a trainable ``key`` may write in view."""
    owner = owning_synapse(module.base, key)
    if owner is None:
        return np.asarray(module._node_inds)
    edges = _edge_table(module)
    return edges.loc[edges["type"] == owner, "index_within_type"].to_numpy(dtype=np.int64)


def _filter_trainable(values, indices, targets) -> list[tuple[np.ndarray, np.ndarray]]:
    """The parts of one trainable entry in view: rows with every index in view, then rows
    with some (their in-view indices, padded with -1)."""
    indices = np.asarray(indices)
    valid = indices >= 0
    inside = np.isin(indices, targets) & valid
    complete = inside.sum(axis=1) == valid.sum(axis=1)
    partial = inside.any(axis=1) & ~complete
    parts = []
    if complete.any():
        parts.append((np.asarray(values)[complete], indices[complete]))
    if partial.any():
        kept = np.where(inside[partial], indices[partial], -1)
        order = np.argsort(kept < 0, axis=1, kind="stable")
        kept = np.take_along_axis(kept, order, axis=1)[:, : inside[partial].sum(axis=1).max()]
        parts.append((np.asarray(values)[partial], kept))
    return parts


def _trainables_in_view(module) -> tuple[list[dict], list[np.ndarray]]:
    base = module.base
    params, inds = [], []
    for entry, indices in zip(base._trainable_params, base._indices_set_by_trainables,
                              strict=True):
        (key, values), = entry.items()
        for vals, kept in _filter_trainable(values, indices, _in_view_targets(module, key)):
            params.append({key: jnp.asarray(vals)})
            inds.append(kept)
    return params, inds


def _interpolated_xyzr(points: np.ndarray, locs: np.ndarray) -> np.ndarray:
    """(len(locs), 4) points at relative path lengths ``locs`` in [0, 1] (NaN stays NaN)."""
    if len(points) < 2:
        return np.repeat(points[:1], len(locs), axis=0) if len(points) else \
            np.full((len(locs), 4), np.nan)
    steps = np.linalg.norm(np.diff(points[:, :3], axis=0), axis=1)
    path = np.concatenate([[0.0], np.cumsum(steps)])
    relative = path / path[-1] if path[-1] > 0 else np.linspace(0.0, 1.0, len(points))
    return np.column_stack([np.interp(locs, relative, points[:, i]) for i in range(4)]) + \
        np.where(np.isnan(locs), np.nan, 0.0)[:, None]


def _view_xyzr(module) -> list[np.ndarray]:
    base = module.base
    table = view_table(module)
    out = []
    for b in _branches_in_view(module):
        points = np.asarray(base.xyzr[b])
        n = int(base._topology.ncomp[b])
        local = np.sort(table.loc[table["global_branch_index"] == b, "global_comp_index"]
                        .to_numpy() - base._data.first_comp[b])
        if len(local) == n:
            out.append(points)
            continue
        ends = np.linspace(0.0, 1.0, n + 1)
        locs = [([ends[i], ends[i + 1]] if i in set(local) else [np.nan])
                for i in range(local.min(), local.max() + 1)]
        out.append(_interpolated_xyzr(points, np.concatenate(locs)))
    return out


class SummaryAttributes:
    """Mixin of :class:`~simulator.modules.base.Module`: see the module docstring."""

    @property
    def ncomp(self) -> int:
        if self._is_view:
            return len(self._node_inds)
        return int(np.max(self.base._topology.ncomp))

    @property
    def total_nbranches(self) -> int:
        return len(_branches_in_view(self))

    @property
    def ncomp_per_branch(self) -> np.ndarray:
        return np.asarray(self.base._topology.ncomp)[_branches_in_view(self)]

    @property
    def cumsum_ncomp(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.ncomp_per_branch)]).astype(np.int64)

    @property
    def nbranches_per_cell(self) -> list[int]:
        table = view_table(self)
        return table.groupby("global_cell_index")["global_branch_index"].nunique().to_list()

    @property
    def comb_parents(self) -> jnp.ndarray:
        """(n_branches,) global index of each branch's parent (-1: a cell's root), over all
        cells in global branch order; on a view, the branches in view (indices unchanged)."""
        parents = np.asarray(self.base._topology.parents)
        return jnp.asarray(parents[_branches_in_view(self)] if self._is_view else parents)

    @property
    def branch_edges(self) -> pd.DataFrame:
        """One row per branch with a parent: ``parent_branch_index``, ``child_branch_index``
        (global indices); on a view, the rows whose parent and child are both in view."""
        parents = np.asarray(self.base._topology.parents, dtype=np.int64)
        children = np.flatnonzero(parents >= 0)
        edges = pd.DataFrame({"parent_branch_index": parents[children],
                              "child_branch_index": children})
        if not self._is_view:
            return edges
        in_view = _branches_in_view(self)
        keep = np.isin(edges["parent_branch_index"], in_view) & \
            np.isin(edges["child_branch_index"], in_view)
        return edges.loc[keep]

    @property
    def membrane_current_names(self) -> list[str]:
        base = self.base
        if not self._is_view:
            return [c.current_name for c in base._channels]
        table = view_table(self)
        pumps = set(map(id, base.pumps))
        return [c.current_name for c in base._channels
                if id(c) not in pumps and table[c.name].to_numpy(dtype=bool).any()]

    @property
    def synapse_names(self) -> list[str]:
        if not self._is_view:
            return [s.name for s in self.base._synapses]
        return sorted(np.unique(_edge_table(self)["type"]).tolist())

    @property
    def group_names(self) -> list[str]:
        return list(self.base._groups)

    def show(self, param_names=None, *, indices: bool = True, params: bool = True,
             states: bool = True, channel_names=None) -> pd.DataFrame:
        """A copy of ``.nodes`` with the index columns (``indices``), the channel
        parameters (``params``) and states (``states``) of the module's channels, and the
        channels' own boolean columns if ``channel_names`` is given; ``param_names`` (a
        name or a list) keeps only those parameters (as jaxley's ``show``)."""
        nodes = self.nodes.copy()
        channels = [c for c in self.base._channels]
        index_cols = list(INDEX_COLUMNS) if indices else []
        cols = [*([c.name for c in channels] if channel_names else []),
                *(k for c in channels for k in c.channel_params if params),
                *(k for c in channels for k in c.channel_states if states)]
        if param_names is not None:
            names = [param_names] if isinstance(param_names, str) else list(param_names)
            cols = [c for c in cols if c in names] if params else names
        return nodes[index_cols + [c for c in cols if c in nodes.columns]]

    def copy(self, reset_index: bool = False, as_module: bool = False):
        """A deep copy of this module or view (a view's copy keeps its own copy of the
        base). ``reset_index`` and ``as_module=True`` are not supported, as in jaxley
        (NotImplementedError)."""
        if as_module or reset_index:
            raise NotImplementedError("copy(reset_index=True) and copy(as_module=True) are not"
                                      " supported (as in jaxley); copy the whole module")
        warnings.warn("copy() is experimental (as in jaxley)", UserWarning, stacklevel=2)
        return copy_module.deepcopy(self)


def trainable_params_of(module) -> list[dict]:
    """``trainable_params``: the base's list; on a view, the part in view (module docstring)."""
    if not module._is_view:
        return module._trainable_params
    return _trainables_in_view(module)[0]


def indices_set_by_trainables_of(module) -> list[np.ndarray]:
    """``indices_set_by_trainables``, like :func:`trainable_params_of`."""
    if not module._is_view:
        return module._indices_set_by_trainables
    return _trainables_in_view(module)[1]


def xyzr_of(module) -> list[np.ndarray]:
    """``xyzr``: per branch, (n_points, 4) traced x, y, z, radius (µm; NaN: none); on a
    view, the part in view (module docstring)."""
    if not module._is_view:
        return module._data.xyzr
    return _view_xyzr(module)


def set_xyzr(module, value) -> None:
    if module._is_view:
        raise AttributeError("xyzr of a view is read only: set it on the module (view.base)")
    module._data.xyzr = value
