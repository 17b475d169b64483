"""An unbranched cable of compartments."""

from __future__ import annotations

import numpy as np

from simulator.modules.base import Module
from simulator.modules.compartment import Compartment
from simulator.modules.compose import compose
from simulator.modules.counts import (  # MAX_COMPARTMENTS: also importable from here
    MAX_COMPARTMENTS,  # noqa: F401
    check_compartment_count,
    check_ncomp,
)
from simulator.modules.topology import Topology
from simulator.modules.view import View


class Branch(Module):
    """Compartments in a row, proximal (index 0, ``loc(0)``) to distal (``loc(1)``).

    Args:
        compartments: one ``Compartment`` (repeated ``ncomp`` times) or a list of them;
            default one default compartment.
        ncomp: number of compartments (required to repeat a single compartment more than
            once; must equal the list length if both are given).
        max_compartments: refuse more compartments than this (default
            :data:`MAX_COMPARTMENTS`, 1,000,000) before building anything.
    """

    _view_type = View
    _depth = 1

    def __init__(self, compartments=None, ncomp: int | None = None,
                 max_compartments: int | None = None) -> None:
        super().__init__()
        if compartments is None:
            compartments = Compartment()
        if isinstance(compartments, list | tuple):
            parts = list(compartments)
            if not parts:
                raise ValueError("Branch needs at least one compartment, got an empty list")
            if ncomp is not None and check_ncomp(ncomp) != len(parts):
                raise ValueError(f"ncomp={ncomp} but {len(parts)} compartments were given")
        else:
            n = 1 if ncomp is None else check_ncomp(ncomp)
            check_compartment_count(n, f"Branch(ncomp={n})", max_compartments)
            parts = [compartments] * n
        for part in parts:
            if not isinstance(part, Compartment):
                raise TypeError(f"Branch is built from Compartments, got {part!r}")
        table, channels, groups = compose(parts)
        topology = Topology(ncomp=np.array([len(parts)]), parents=np.array([-1]),
                            cell_of_branch=np.array([0]))
        self._init_data(table, topology, channels, groups)
