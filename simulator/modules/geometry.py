"""Cylinder geometry of a compartment (areas, volumes and axial resistive loads).

The one place where derived geometry is computed from radius and length: new compartments,
``Module.set('radius' | 'length')``, ``set_ncomp`` and :mod:`simulator.assemble` all use
:func:`cylinder_columns` / :data:`CYLINDER_FORMULAS`.

Lengths and radii in µm; areas µm²; volumes µm³; resistive loads µm⁻¹ (multiply by the
axial resistivity in Ω·cm to get a resistance up to a unit factor).
"""

from __future__ import annotations

import numpy as np


def cylinder_area(radius, length):
    """Lateral area 2πrl (µm²); works on numpy and jax arrays."""
    return 2.0 * np.pi * radius * length


def cylinder_volume(radius, length):
    """Volume πr²l (µm³)."""
    return np.pi * radius**2 * length


def cylinder_half_load(radius, length):
    """Resistive load of one half of a cylinder, (l/2)/(πr²) (µm⁻¹)."""
    return (length / 2.0) / (np.pi * radius**2)


#: The cylinder formula of each derived geometry column of ``.nodes``.
CYLINDER_FORMULAS = {"area": cylinder_area, "volume": cylinder_volume,
                     "resistive_load_in": cylinder_half_load,
                     "resistive_load_out": cylinder_half_load}
#: Columns of ``.nodes`` derived from radius and length (never primary parameters).
DERIVED_GEOMETRY = tuple(CYLINDER_FORMULAS)


def cylinder_columns(radius, length) -> dict:
    """Every :data:`DERIVED_GEOMETRY` column of cylinders of ``radius`` and ``length`` (µm;
    scalars or arrays of one shape): name -> value of that shape."""
    with np.errstate(divide="ignore"):  # radius 0 (refused by integrate): infinite loads
        return {key: formula(radius, length) for key, formula in CYLINDER_FORMULAS.items()}
