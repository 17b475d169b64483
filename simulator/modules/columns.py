"""Column names of a module's ``.nodes`` table and the defaults of a new compartment.

One row of ``.nodes`` per compartment. Its columns, in order: the local indices, the
geometry and voltage (:data:`GEOMETRY_COLUMNS`), the global indices and
``controlled_by_param``, then one column per mechanism parameter, state, channel, pump and
group. Units: µm (length, radius, x, y, z), Ω·cm (axial_resistivity), µF/cm² (capacitance),
mV (v), µm² (area), µm³ (volume), µm⁻¹ (resistive loads).

This module imports nothing from the package, so every module operation can name columns
without importing the module class.
"""

from __future__ import annotations

INDEX_COLUMNS = (
    "local_cell_index",
    "local_branch_index",
    "local_comp_index",
)
GEOMETRY_COLUMNS = (
    "length",
    "radius",
    "axial_resistivity",
    "capacitance",
    "v",
    "area",
    "volume",
    "resistive_load_in",
    "resistive_load_out",
    "x",
    "y",
    "z",
)
GLOBAL_COLUMNS = ("global_cell_index", "global_branch_index", "global_comp_index")
#: Integer bookkeeping columns of ``.nodes`` (never parameters).
BOOKKEEPING_COLUMNS = (*INDEX_COLUMNS, *GLOBAL_COLUMNS, "controlled_by_param")
#: Names no mechanism parameter, state or group may take (``"i"``: the stimulus current).
RESERVED_NAMES = frozenset({"i", *GEOMETRY_COLUMNS, *BOOKKEEPING_COLUMNS})
#: Primary geometry parameters of a compartment.
GEOMETRY_PARAMS = ("radius", "length", "axial_resistivity", "capacitance")

#: Defaults per compartment (as in NEURON's units; axial resistivity as in jaxley).
COMPARTMENT_PARAMS = {
    "length": 10.0,  # µm
    "radius": 1.0,  # µm
    "axial_resistivity": 5000.0,  # Ω·cm
    "capacitance": 1.0,  # µF/cm²
}
COMPARTMENT_STATES = {"v": -70.0}  # mV
