"""Cylinder geometry of a compartment (areas, volumes and axial resistive loads).

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
