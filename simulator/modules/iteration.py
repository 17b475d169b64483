"""Iterating a module or a view over its parts, and views as context managers.

``for cell in net``, ``for branch in cell``, ``for comp in branch`` walk one level down, as
in jaxley: a Network (or a view made by ``.cell(...)``) yields cells, a Cell (or a
``.branch(...)`` view) yields branches, a Branch yields compartments. ``module.cells``,
``module.branches`` and ``module.comps`` walk a named level of any module or view.

The parts are made one at a time, when the loop reaches them, from the module as it is
then. So the documented jaxley idiom ``for b in cell.branches: b.set_ncomp(4)`` works: each
``set_ncomp`` renumbers the cell's compartments (views made before it are stale), and the
next branch view is only made after it.

``with net.cell(0).branch(0) as b:`` binds ``b`` to the view itself and does nothing on
exit (jaxley's semantics: a readability aid, no transaction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from simulator.modules import selection
from simulator.modules.levels import level_of

#: The level below each level (a Compartment and views of compartments have none).
_CHILD = {"network": "cell", "cell": "branch", "branch": "comp"}
_COLUMN = {"cell": "cell_index", "branch": "branch_index", "comp": "comp_index"}


class Parts(Sequence):
    """The cells, branches or compartments of a selection, each view made on access.

    Indexing and ``len`` follow the selection's scope: locally, part ``i`` is the i-th cell,
    the i-th branch of every cell, or the i-th compartment of every branch (jaxley's
    ``cell.comps``); in global scope it is the part with global index ``i`` that lies in
    the selection, in the order of the nodes.
    """

    def __init__(self, module, level: str) -> None:
        self._module, self._level = module, level

    def _labels(self) -> list[int]:
        table = selection.view_table(self._module)
        scope = self._module._scope
        if scope == "global":
            return list(dict.fromkeys(table[f"global_{_COLUMN[self._level]}"].tolist()))
        if self._level == "cell":
            return list(range(table["global_cell_index"].nunique()))
        group = "global_cell_index" if self._level == "branch" else "global_branch_index"
        column = f"global_{_COLUMN[self._level]}"
        return list(range(int(table.groupby(group)[column].nunique().max())))

    def _make(self, label: int):
        module = self._module
        if self._level == "cell":
            return selection.cell(module, label)
        if self._level == "branch":
            return selection.branch(module, label)
        if module._scope == "local":  # compartment i of every branch, as jaxley, no warning
            module = selection.branch(module, "all")
        return selection.comp(module, label)

    def __len__(self) -> int:
        return len(self._labels())

    def __getitem__(self, index):
        labels = self._labels()
        if isinstance(index, slice):
            return [self._make(label) for label in labels[index]]
        return self._make(labels[index])

    def __iter__(self) -> Iterator:
        for label in self._labels():  # counted once, each view made when reached
            yield self._make(label)

    def __repr__(self) -> str:
        return f"<{len(self)} {self._level} views of {self._module!r}>"


def cells(module) -> Parts:
    """The cells of this selection (see :class:`Parts`)."""
    return Parts(module, "cell")


def branches(module) -> Parts:
    """The branches of this selection (see :class:`Parts`)."""
    return Parts(module, "branch")


def comps(module) -> Parts:
    """The compartments of this selection (see :class:`Parts`)."""
    return Parts(module, "comp")


def iterate(module) -> Iterator:
    """``iter(module)``: the parts one level below the module's or view's level.

    Raises:
        TypeError: a Compartment, a compartment view or a group/channel/``select`` view
            (those have no single level below; use ``.cells``, ``.branches``, ``.comps``).
    """
    level = level_of(module)
    if level not in _CHILD:
        raise TypeError(
            f"cannot iterate a {level} view: it has no single level of parts below it; use"
            " .cells, .branches or .comps to walk a named level"
        )
    return iter(Parts(module, _CHILD[level]))


def enter(module):
    """``with view as v``: ``v`` is the view itself."""
    return module


def leave(module, exc_type, exc_value, traceback) -> None:
    """Leaving a ``with`` block changes nothing (exceptions propagate)."""
    return None
