"""Views: subsets of a module's compartments that write through to the module."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.modules import base as base_module
from simulator.modules.base import Module
from simulator.modules.selection import view_table


class StaleViewError(RuntimeError):
    """A view was used after a structural change of its module renumbered the rows it holds."""


class View(Module):
    """A set of compartments of a base module.

    A view owns no data. ``set``, ``insert``, ``record``, ``stimulate``, ``make_trainable`` and
    the other mutations write into the base module at the view's node indices. Views are
    created by indexing (``cell.branch(1).loc(0.5)``), by group and channel names
    (``cell.soma``, ``cell.HH``) and by ``select``.

    A view holds node (and edge) indices, so it belongs to the module's structure at the time
    it was made. A structural change of the module (``set_ncomp``, ``set_ncomp_d_lambda``:
    anything that renumbers rows) makes it stale: every later use raises
    :class:`StaleViewError` naming the change; make the view again from the module.

    Attributes:
        base: the module that owns the data.
    """

    def __init__(
        self,
        base: Module,
        node_inds: np.ndarray | None = None,
        controlled_by: np.ndarray | None = None,
        scope: str = "local",
        explicit_branches: bool = False,
        edge_inds: np.ndarray | None = None,
        edge_controlled_by: np.ndarray | None = None,
        keep_order: bool = False,
    ) -> None:
        if node_inds is None:  # View(module) or View(view): everything it holds (jaxley)
            base, node_inds, edge_inds = _everything_in(base)
            edge_controlled_by = None
        controlled_by = node_inds if controlled_by is None else controlled_by
        edge_controlled_by = edge_inds if edge_controlled_by is None else edge_controlled_by
        self._is_view = True
        self._view_base = base
        # Views by compartment hold the synapses between their compartments (jaxley 0.14).
        self._view_edge_inds = np.asarray([] if edge_inds is None else edge_inds, dtype=np.int64)
        self._view_edge_controlled_by = np.asarray(
            [] if edge_controlled_by is None else edge_controlled_by, dtype=np.int64)
        # Node order: ascending, except for select(nodes=labels) (jaxley keeps the labels').
        order = (np.arange(len(node_inds)) if keep_order
                 else np.argsort(node_inds, kind="stable"))
        self._view_inds = np.asarray(node_inds, dtype=np.int64)[order]
        self._view_controlled_by = np.asarray(controlled_by, dtype=np.int64)[order]
        self._scope = scope
        self._explicit_branches = explicit_branches
        self._made_at_version = len(base._data.structure_log)  # structural changes so far

    @property
    def base(self) -> Module:
        return self._view_base

    def __getattribute__(self, name: str):
        # Every public method and property of a view checks first that the view is not
        # stale, before it reads or writes anything. ``base`` stays reachable (to recreate
        # the view); private attributes are the view's own machinery.
        if name[0] != "_" and name != "base":
            object.__getattribute__(self, "_check_fresh")()
        return object.__getattribute__(self, name)

    def _check_fresh(self) -> None:
        """StaleViewError if the base changed its structure since this view was made."""
        made_at = self.__dict__.get("_made_at_version", 0)
        log = self._view_base._data.structure_log
        if len(log) != made_at:
            changes = "; ".join(log[made_at:])
            raise StaleViewError(
                f"this view was made before a structural change of its"
                f" {type(self._view_base).__name__} ({changes}) that renumbered its"
                " compartments, so its node indices now point at other compartments: recreate"
                " the view from the module (e.g. cell.branch(2) again) after the change"
            )

    # The view's indices, each read after the freshness check.
    _node_inds = property(lambda self: self._fresh("_view_inds"))
    _controlled_by = property(lambda self: self._fresh("_view_controlled_by"))
    _edge_inds = property(lambda self: self._fresh("_view_edge_inds"))
    _edge_controlled_by = property(lambda self: self._fresh("_view_edge_controlled_by"))

    def _fresh(self, name: str) -> np.ndarray:
        self._check_fresh()
        return self.__dict__[name]

    @property
    def nodes(self) -> pd.DataFrame:
        """The base's rows in this view (a copy) with local indices re-ranked in the view."""
        table = view_table(self).copy()
        cells, branches = table["global_cell_index"], table["global_branch_index"]
        table["local_cell_index"] = _rank_within(cells, np.zeros(len(table)))
        table["local_branch_index"] = _rank_within(branches, cells)
        table["local_comp_index"] = _rank_within(table["global_comp_index"], branches)
        table["controlled_by_param"] = self._view_controlled_by
        return table

    def __repr__(self) -> str:
        try:
            self._check_fresh()
        except StaleViewError:
            return f"Stale view of a {type(self.base).__name__} (made before a structural change)"
        return (
            f"View of {len(self._view_inds)} compartments of a {type(self.base).__name__} "
            f"(node indices {self._view_inds[:8].tolist()}{'...' if len(self) > 8 else ''})"
        )


def _everything_in(module) -> tuple[Module, np.ndarray, np.ndarray]:
    """(base, node indices, edge indices) of everything ``module`` (a module or view) holds."""
    return (module.base, np.asarray(module._node_inds, dtype=np.int64),
            np.asarray(module._edge_inds, dtype=np.int64))


def _rank_within(values, groups) -> np.ndarray:
    """Rank of each value among the values of its group (0 = smallest, equal values share)."""
    frame = pd.DataFrame({"v": np.asarray(values), "g": np.asarray(groups)})
    return frame.groupby("g")["v"].rank(method="dense").to_numpy(dtype=np.int64) - 1


# jaxley defines View in its ``modules/base.py`` and its users import it from there. View
# subclasses Module, so ``base`` cannot import it (that would be an import cycle): it is
# registered there from here instead. ``import simulator`` always loads this module, so
# ``from simulator.modules.base import View`` works.
base_module.View = View
