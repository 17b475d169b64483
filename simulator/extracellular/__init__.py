"""Extracellular electrodes: geometry, volume conductor and forward models.

Units: positions µm, conductivity S/m, membrane currents nA, contact currents µA,
potentials mV. See :mod:`simulator.extracellular.mapping` for the matrices used for
recording (mV/nA) and stimulation (mV/µA).
"""

from simulator.extracellular.electrode import Electrode, combine
from simulator.extracellular.line_source import line_source_matrix
from simulator.extracellular.mapping import electrode_matrix, stimulation_matrix
from simulator.extracellular.medium import DEFAULT_SIGMA, Medium
from simulator.extracellular.point_source import point_source_matrix
from simulator.extracellular.segments import Segments, module_segments, segments_from_arrays
from simulator.extracellular.shapes import (
    DBS_3389,
    dbs_lead,
    disk_contact,
    grid_array,
    point_contacts,
    ring_contact,
)

__all__ = [
    "DBS_3389",
    "DEFAULT_SIGMA",
    "Electrode",
    "Medium",
    "Segments",
    "combine",
    "dbs_lead",
    "disk_contact",
    "electrode_matrix",
    "grid_array",
    "line_source_matrix",
    "module_segments",
    "point_contacts",
    "point_source_matrix",
    "ring_contact",
    "segments_from_arrays",
    "stimulation_matrix",
]
