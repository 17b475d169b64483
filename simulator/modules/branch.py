"""An unbranched cable of compartments."""

from __future__ import annotations

import numpy as np

from simulator.modules.base import Module
from simulator.modules.compartment import Compartment
from simulator.modules.compose import compose
from simulator.modules.topology import Topology


def check_ncomp(ncomp) -> int:
    if isinstance(ncomp, bool) or not isinstance(ncomp, int | np.integer) or ncomp < 1:
        raise ValueError(f"ncomp must be a positive int, got {ncomp!r}")
    return int(ncomp)


class Branch(Module):
    """Compartments in a row, proximal (index 0, ``loc(0)``) to distal (``loc(1)``).

    Args:
        compartments: one ``Compartment`` (repeated ``ncomp`` times) or a list of them;
            default one default compartment.
        ncomp: number of compartments (required to repeat a single compartment more than
            once; must equal the list length if both are given).
    """

    def __init__(self, compartments=None, ncomp: int | None = None) -> None:
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
            parts = [compartments] * (1 if ncomp is None else check_ncomp(ncomp))
        for part in parts:
            if not isinstance(part, Compartment):
                raise TypeError(f"Branch is built from Compartments, got {part!r}")
        table, channels, groups = compose(parts)
        topology = Topology(
            ncomp=np.array([len(parts)]), parents=np.array([-1]), cell_of_branch=np.array([0])
        )
        self._init_data(table, topology, channels, groups)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self._nodes),)
