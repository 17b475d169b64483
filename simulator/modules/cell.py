"""A neuron: a tree of branches."""

from __future__ import annotations

import numpy as np

from simulator.modules.base import Module
from simulator.modules.branch import Branch
from simulator.modules.compose import compose
from simulator.modules.counts import check_compartment_count
from simulator.modules.layout import check_xyzr
from simulator.modules.topology import Topology, validate_parents
from simulator.modules.view import View


class Cell(Module):
    """Branches joined into a tree.

    Args:
        branches: one ``Branch`` (repeated for every entry of ``parents``) or a list of
            branches (one per entry); default one default branch.
        parents: parent branch of each branch, ``-1`` for the root (``parents[0]``); every
            other entry must name an earlier branch. Branch i's proximal end (``loc(0)``)
            attaches to its parent's distal end (``loc(1)``).
        xyzr: optional traced morphology, one (N, 4) array of x, y, z (µm) and radius (µm)
            per branch (plotting and SWC geometry).
        max_compartments: refuse more compartments in all than this (default
            :data:`~simulator.modules.counts.MAX_COMPARTMENTS`, 1,000,000) before building.
    """

    _view_type = View
    _depth = 2

    def __init__(self, branches=None, parents=None, xyzr=None,
                 max_compartments: int | None = None) -> None:
        super().__init__()
        if branches is None:
            branches = Branch()
        if isinstance(branches, list | tuple):
            parts = list(branches)
            if not parts:
                raise ValueError("Cell needs at least one branch; got an empty list of branches")
            if parents is None and len(parts) == 1:
                parents = [-1]
            if parents is None:
                raise ValueError(f"parents is required for a cell of {len(parts)} branches")
            parents = validate_parents(parents, len(parts))
        else:
            parents = validate_parents([-1] if parents is None else parents)
            parts = [branches] * len(parents)
        for part in parts:
            if not isinstance(part, Branch):
                raise TypeError(f"Cell is built from Branches, got {part!r}")
        if xyzr is not None:
            xyzr = check_xyzr(xyzr, len(parts))
        check_compartment_count(sum(len(p.nodes) for p in parts),
                                f"Cell of {len(parts)} branches", max_compartments)
        table, channels, groups = compose(parts)
        topology = Topology(ncomp=np.array([len(p.nodes) for p in parts]), parents=parents,
                            cell_of_branch=np.zeros(len(parts), dtype=np.int64))
        self._init_data(table, topology, channels, groups, xyzr)
