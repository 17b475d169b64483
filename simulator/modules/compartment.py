"""A single isopotential compartment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.modules.base import Module
from simulator.modules.geometry import cylinder_area, cylinder_half_load, cylinder_volume
from simulator.modules.topology import Topology

#: Defaults per compartment (as in NEURON's units; axial resistivity as in the reference).
COMPARTMENT_PARAMS = {
    "length": 10.0,  # µm
    "radius": 1.0,  # µm
    "axial_resistivity": 5000.0,  # Ω·cm
    "capacitance": 1.0,  # µF/cm²
}
COMPARTMENT_STATES = {"v": -70.0}  # mV


def default_compartment_row() -> dict[str, float]:
    """One row of ``.nodes`` for a default compartment."""
    r, l = COMPARTMENT_PARAMS["radius"], COMPARTMENT_PARAMS["length"]
    half = cylinder_half_load(r, l)
    return {
        **COMPARTMENT_PARAMS,
        **COMPARTMENT_STATES,
        "area": cylinder_area(r, l),
        "volume": cylinder_volume(r, l),
        "resistive_load_in": half,
        "resistive_load_out": half,
        "x": np.nan,
        "y": np.nan,
        "z": np.nan,
    }


class Compartment(Module):
    """One compartment: a cylinder of length 10 µm and radius 1 µm by default.

    ``.shape`` is ``()``. Channels inserted here travel with it into branches and cells.
    """

    def __init__(self) -> None:
        super().__init__()
        topology = Topology(
            ncomp=np.array([1]), parents=np.array([-1]), cell_of_branch=np.array([0])
        )
        self._init_data(pd.DataFrame([default_compartment_row()]), topology)

    @property
    def shape(self) -> tuple[int, ...]:
        return ()
