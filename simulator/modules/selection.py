"""Indexing: ``cell``, ``branch``, ``comp``, ``loc``, ``select`` and scopes.

Indices are *local* by default, as in jaxley: ``cell.branch(1)`` is the
second branch of the current selection and ``x.comp(0)`` is the first compartment **of every
branch in the selection**. On a multi-branch cell that surprises people (jaxley's issue
#767), so ``cell.comp(i)`` on a selection spanning several branches without an explicit branch
selection emits a :class:`CompScopeWarning` and says how to be explicit:
``cell.branch("all").comp(i)`` (every branch, no warning) or ``cell.scope("global").comp(i)``
(the i-th compartment of the cell).
"""

from __future__ import annotations

import warnings

import numpy as np

from simulator.modules.arguments import (
    SelectionIndexError,
    SelectionTypeError,
    is_bool,
    real_array,
    show,
)
from simulator.modules.levels import mark_level

Index = int | list | range | slice | np.ndarray | str


class CompScopeWarning(UserWarning):
    """``comp(i)`` selected compartment i of several branches at once."""


def parse_index(idx: Index, n: int, what: str) -> np.ndarray:
    """Turn int / list / range / slice / bool mask / array / "all" into positions in [0, n).

    Raises:
        SelectionTypeError (a TypeError and ValueError): a bool, float, None, a nested list or
            another non-integer index; ValueError: a string other than ``"all"``;
        SelectionIndexError (an IndexError and ValueError): an index outside [-n, n) or a
            mask of the wrong length.
    """
    expected = (f"an integer, a list or 1-d array of integers, a slice, a boolean mask of"
                f" length {n} or 'all'")
    if isinstance(idx, str):
        if idx != "all":
            raise ValueError(
                f"{what} index must be an int, list, slice, mask or 'all', got {idx!r}"
            )
        return np.arange(n)
    if isinstance(idx, slice):
        for bound in (idx.start, idx.stop, idx.step):
            if bound is not None and (is_bool(bound) or not isinstance(bound, int | np.integer)):
                raise SelectionTypeError(
                    f"{what} index slice bounds must be integers or None; got {idx!r}"
                )
        if idx.step == 0:
            raise ValueError(f"{what} index slice step must not be zero; got {idx!r}")
        return np.arange(n)[idx]
    if isinstance(idx, list | tuple) and any(is_bool(i) for i in idx) and not all(
        is_bool(i) for i in idx
    ):
        raise SelectionTypeError(f"{what} index mixes bools and integers; got {show(idx)}")
    arr = node_labels(idx, n, f"{what} index", what, expected)
    if arr.dtype == bool:
        return np.flatnonzero(arr)
    bad = arr[(arr >= n) | (arr < -n)]
    if bad.size:
        if n == 0:
            raise SelectionIndexError(
                f"{what} index {bad[0]} out of range: this selection has no {what} to index"
            )
        raise SelectionIndexError(
            f"{what} index {bad[0]} out of range: expected -{n} <= index < {n}"
        )
    return np.unique(np.where(arr < 0, arr + n, arr))


def _positions_in_branch(idx: Index, count: int) -> np.ndarray:
    """Positions in a branch of ``count`` compartments for an index already checked by
    :func:`parse_index` against the longest branch: negative indices and slices count from
    each branch's own end; positions the branch does not have are dropped."""
    if isinstance(idx, str):
        return np.arange(count)
    if isinstance(idx, slice):
        return np.arange(count)[idx]
    arr = np.atleast_1d(np.asarray(list(idx) if isinstance(idx, range) else idx))
    if arr.dtype == bool:
        return np.flatnonzero(arr[:count])
    arr = arr.astype(np.int64)
    arr = np.where(arr < 0, arr + count, arr)
    return arr[(arr >= 0) & (arr < count)]


def view_table(module):
    return module.base._nodes.loc[module._node_inds]


def require_compartments(module, action: str) -> None:
    """ValueError if this selection holds no compartment (a view of synapses)."""
    if len(module._node_inds) == 0:
        raise ValueError(
            f"{action} acts on compartments, but this selection has none (a view of"
            f" {len(module._edge_inds)} synapses?); select compartments with .cell(),"
            " .branch(), .comp() or .select(nodes=...)"
        )


def require_whole_module(module, action: str, hint: str = "") -> None:
    """ValueError if this selection is a view: ``action`` acts on a whole module."""
    if module._is_view:
        raise ValueError(f"{action} acts on a whole module; call it on the module (view.base),"
                         f" not on a view{hint}")


def _subview(module, mask: np.ndarray, control: str, explicit_branches: bool | None = None,
             what: str = "the selection"):
    table = view_table(module)
    if not np.any(mask):
        raise ValueError(
            f"{what} selects no compartment of this {type(module).__name__}"
            f" ({len(table)} compartments, node indices {_preview(table.index)});"
            " check the indices"
        )
    if control == "group":
        controlled = np.zeros(len(table), dtype=np.int64)
    elif control == "keep":
        controlled = module._controlled_by
    elif control == "node":
        controlled = table.index.to_numpy()
    else:
        controlled = table[control].to_numpy()
    explicit = module._explicit_branches if explicit_branches is None else explicit_branches
    nodes = table.index.to_numpy()[mask]
    edges = edges_within(module, nodes)
    view = module.base._view_type(
        module.base,
        nodes,
        controlled[mask],
        scope=module._scope,
        explicit_branches=explicit,
        edge_inds=edges,
        edge_controlled_by=np.zeros(len(edges), dtype=np.int64),
    )
    return mark_level(view, module, control)


def edges_within(module, nodes: np.ndarray) -> np.ndarray:
    """Edge labels of this selection's synapses whose pre- and postsynaptic compartments
    are both among ``nodes`` (jaxley 0.14: a view of compartments holds those synapses)."""
    inds = module._edge_inds
    if len(inds) == 0:
        return np.asarray(inds, dtype=np.int64)
    ends = module.base._edges.loc[inds, ["pre_index", "post_index"]].to_numpy()
    return np.asarray(inds, dtype=np.int64)[np.isin(ends, nodes).all(axis=1)]


def _select_level(module, column: str, idx: Index, what: str):
    require_compartments(module, f"{what}({idx!r})")
    table = view_table(module)
    ids = table[column].to_numpy()
    if module._scope == "global":
        n_total = int(module.base._nodes[column].max()) + 1
        return np.isin(ids, parse_index(idx, n_total, what))
    unique = np.unique(ids)
    return np.isin(ids, unique[parse_index(idx, len(unique), what)])


def _select_within(module, column: str, group_column: str, idx: Index, what: str, positions):
    """Mask of rows whose ``column`` has local rank ``idx`` within its ``group_column``:
    ``positions(idx, size)`` gives those ranks in a group of ``size`` distinct values, after
    :func:`parse_index` has checked ``idx`` against the largest group."""
    require_compartments(module, f"{what}({idx!r})")
    table = view_table(module)
    ids, groups = table[column].to_numpy(), table[group_column].to_numpy()
    mask = np.zeros(len(table), dtype=bool)
    sizes = {g: len(np.unique(ids[groups == g])) for g in np.unique(groups)}
    parse_index(idx, max(sizes.values()), what)  # refuses indices beyond every group
    for g, size in sizes.items():
        members = groups == g
        mask |= members & np.isin(ids, np.unique(ids[members])[positions(idx, size)])
    return mask


def _branches_in_cell(idx: Index, count: int) -> np.ndarray:
    """Positions ``idx`` among a cell's ``count`` branches; none if it has fewer."""
    try:
        return parse_index(idx, count, "branch")
    except IndexError:
        return np.array([], dtype=np.int64)


def cell(module, idx: Index):
    """Cells of the selection (one trainable parameter per cell)."""
    mask = _select_level(module, "global_cell_index", idx, "cell")
    return _subview(module, mask, "global_cell_index", what=f"cell({idx!r})")


def branch(module, idx: Index):
    """Branches of the selection (one trainable parameter per branch).

    Locally, ``branch(i)`` is branch i of every cell in the selection (as in jaxley:
    ``net.cell("all").branch(0)`` is each cell's root branch).
    """
    if module._scope == "global":
        mask = _select_level(module, "global_branch_index", idx, "branch")
    else:
        mask = _select_within(module, "global_branch_index", "global_cell_index", idx, "branch",
                              _branches_in_cell)
    return _subview(module, mask, "global_branch_index", explicit_branches=True,
                    what=f"branch({idx!r})")


def comp(module, idx: Index):
    """Compartments; locally, compartment ``idx`` of every branch in the selection."""
    require_compartments(module, f"comp({idx!r})")
    if module._scope == "global":
        mask = _select_level(module, "global_comp_index", idx, "compartment")
        return _subview(module, mask, "global_comp_index", what=f"comp({idx!r}) (global scope)")
    n_branches = view_table(module)["global_branch_index"].nunique()
    if n_branches > 1 and not module._explicit_branches:
        warnings.warn(
            f"comp({idx!r}) selects compartment {idx!r} of each of the {n_branches} branches"
            " in this selection (local scope, as in jaxley). Write"
            f" .branch('all').comp({idx!r}) to mean that without this warning, or"
            f" .scope('global').comp({idx!r}) for the compartment with that index in the"
            " whole selection.",
            CompScopeWarning,
            stacklevel=2,
        )
    # Negative indices and slices count from each branch's end: comp(-1) is each one's last.
    mask = _select_within(module, "global_comp_index", "global_branch_index", idx,
                          "compartment", _positions_in_branch)
    return _subview(module, mask, "global_comp_index", what=f"comp({idx!r})")


def loc(module, at):
    """The compartment at relative position ``at`` in [0, 1] of every branch in the selection.

    ``at`` may be a float, an array of floats or ``"all"`` (every compartment). Position
    ``at`` falls into compartment ``floor(at * ncomp)`` (``at = 1`` into the last one).
    """
    table = view_table(module)
    if isinstance(at, str):
        if at != "all":
            raise ValueError(f"loc expects a float in [0, 1] or 'all', got {at!r}")
        return _subview(module, np.ones(len(table), dtype=bool), "global_comp_index")
    xs = np.atleast_1d(real_array("loc: at", at, "a position in [0, 1] (or an array of"
                                  " them, or 'all')"))
    if xs.ndim != 1 or np.any(~np.isfinite(xs)) or np.any((xs < 0) | (xs > 1)):
        raise ValueError(f"loc expects positions in [0, 1], got {show(at)}")
    ncomp, first_comp = module.base._topology.ncomp, module.base._data.first_comp
    branches = np.unique(table["global_branch_index"].to_numpy())
    wanted = []
    for b in branches:
        edges = np.linspace(0.0, 1.0 + 1e-10, ncomp[b] + 1)
        wanted.extend(first_comp[b] + np.searchsorted(edges, xs, side="right") - 1)
    mask = np.isin(table["global_comp_index"].to_numpy(), wanted)
    view = _subview(module, mask, "global_comp_index", what=f"loc({at!r})")
    view._loc_at = xs  # the positions asked for (morph_connect attaches at 0.0 or 1.0)
    return view


def select(module, nodes=None, edges=None, sorted: bool = False):  # noqa: A002 - jaxley name
    """Compartments by node index (``.nodes`` index labels; ``"all"``: every one) and/or
    synapses by edge index (``.edges`` index labels or ``"all"``); one parameter per row.

    Synapses alone come with their pre- and postsynaptic compartments in the selection
    (as in jaxley); with both, the view holds exactly the given nodes and synapses. Node
    labels keep their order (``.nodes`` and ``set`` with per-compartment values follow it)
    unless ``sorted=True``; masks and ``"all"`` are in node order. Compartments alone come
    with the synapses between them.
    """
    table = view_table(module)
    if isinstance(nodes, str) and nodes == "all":
        nodes = np.ones(len(table), dtype=bool)
    if edges is not None:
        node_inds = None if nodes is None else labels_in(
            nodes, table.index.to_numpy(), "select: nodes", "node")
        return module._select_edges(edges, node_inds)
    if nodes is None:
        return _subview(module, np.ones(len(table), dtype=bool), "node")
    wanted = labels_in(nodes, table.index.to_numpy(), "select: nodes", "node")
    if sorted or node_labels(nodes, len(table), "select: nodes", "node").dtype == bool:
        return _subview(module, np.isin(table.index.to_numpy(), wanted), "node",
                        what=f"select(nodes={show(nodes)})")
    # Labels keep the order given (as in jaxley): .nodes and set(values) follow it.
    wanted = wanted[np.sort(np.unique(wanted, return_index=True)[1])]
    if wanted.size == 0:
        raise ValueError(f"select(nodes={show(nodes)}) selects no compartment")
    edges = edges_within(module, wanted)
    return module.base._view_type(module.base, wanted, wanted, scope=module._scope,
                                  explicit_branches=module._explicit_branches,
                                  edge_inds=edges, edge_controlled_by=edges, keep_order=True)


def scope(module, scope: str):
    """A copy of this selection whose indices are ``"local"`` or ``"global"``."""
    view = _subview(module, np.ones(len(module._node_inds), dtype=bool), "keep")
    set_scope(view, scope)
    return view


def set_scope(module, scope: str) -> None:
    """Switch this object's indices to ``"local"`` or ``"global"`` in place."""
    if scope not in ("local", "global"):
        raise ValueError(f"scope must be 'local' or 'global', got {scope!r}")
    module._scope = scope


def __getitem__(module, index):
    """Lazy indexing: ``net[i, j, k]`` is ``net.cell(i).branch(j).comp(k)``."""
    levels = ("cell", "branch", "comp")[3 - module.base._depth :]
    index = index if isinstance(index, tuple) else (index,)
    if len(index) > len(levels):
        raise SelectionIndexError(
            f"too many indices ({len(index)}) for {type(module).__name__}: expected at most"
            f" {len(levels)} ({', '.join(levels) or 'none'})"
        )
    view = module
    for level, i in zip(levels, index, strict=False):
        view = getattr(view, level)(i)
    return view


def shape(module) -> tuple[int, ...]:
    """(cells, branches, compartments) of the selection, the last ``_depth`` of them (all
    three for a Network, none for a Compartment)."""
    table = view_table(module)
    counts = (table["global_cell_index"].nunique(), table["global_branch_index"].nunique(),
              len(table))
    return counts[3 - module.base._depth :]


def node_labels(labels, n: int, name: str, what: str, expected: str | None = None) -> np.ndarray:
    """Check labels of ``what``s (``select(nodes=...)``, ``select(edges=...)``, an index): a
    boolean mask of length ``n`` (returned as bools) or integer labels (returned as a 1-d
    int64 array). ``name`` and ``expected`` (default: integer labels or a mask) word the
    errors: SelectionTypeError for a single bool or a nested, ragged or non-integer value,
    SelectionIndexError for a mask of the wrong length."""
    expected = expected or (f"integer {what} indices (a 1-d list or array) or a boolean mask"
                            f" of length {n}")
    if is_bool(labels):
        raise SelectionTypeError(f"{name} must be {expected}; got {labels!r} (a single bool)")
    try:
        arr = np.asarray(labels)
    except (ValueError, TypeError) as err:
        raise SelectionTypeError(f"{name} must be {expected}; got {show(labels)}") from err
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise SelectionIndexError(
                f"boolean {what} mask must have length {n}, got shape {arr.shape}"
            )
        return arr
    if arr.ndim > 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise SelectionTypeError(f"{name} must be {expected}; got {show(labels)}")
    return np.atleast_1d(arr).astype(np.int64)


def labels_in(labels, inds: np.ndarray, name: str, what: str) -> np.ndarray:
    """The labels of :func:`node_labels` (a mask over ``inds`` or labels) as labels, each
    one of ``inds`` (else SelectionIndexError)."""
    wanted = node_labels(labels, len(inds), name, what)
    if wanted.dtype == bool:
        return inds[wanted]
    missing = np.setdiff1d(wanted, inds)
    if missing.size:
        raise SelectionIndexError(f"{what} index {missing[0]} is not in this selection"
                                  f" ({what} indices {_preview(inds)})")
    return wanted


def _preview(index) -> str:
    values = list(index[:8])
    return f"{values}{'...' if len(index) > 8 else ''}"
