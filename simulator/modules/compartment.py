"""A single isopotential compartment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.modules.base import Module
from simulator.modules.columns import COMPARTMENT_PARAMS, COMPARTMENT_STATES
from simulator.modules.geometry import cylinder_columns
from simulator.modules.topology import Topology
from simulator.modules.view import View


def default_compartment_row() -> dict[str, float]:
    """One row of ``.nodes`` for a default compartment."""
    r, l = COMPARTMENT_PARAMS["radius"], COMPARTMENT_PARAMS["length"]
    return {
        **COMPARTMENT_PARAMS,
        **COMPARTMENT_STATES,
        **cylinder_columns(r, l),
        "x": np.nan,
        "y": np.nan,
        "z": np.nan,
    }


class Compartment(Module):
    """One compartment: a cylinder of length 10 µm and radius 1 µm by default.

    ``.shape`` is ``()``. Channels inserted here travel with it into branches and cells.
    """

    _view_type = View
    _depth = 0
    _is_compartment = True

    def __init__(self) -> None:
        super().__init__()
        topology = Topology(
            ncomp=np.array([1]), parents=np.array([-1]), cell_of_branch=np.array([0])
        )
        self._init_data(pd.DataFrame([default_compartment_row()]), topology)
