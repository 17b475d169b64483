"""Cylinder geometry under jaxley's ``jaxley.utils.morph_attributes`` path.

jaxley's argument order ``(length, radius)``; the formulas are those of
:mod:`simulator.modules.geometry` (which takes ``(radius, length)``). Lengths and radii in
µm, shape (M,) or scalars.
"""

from __future__ import annotations

import numpy as np

from simulator.modules import geometry

__all__ = ["cylinder_area", "cylinder_resistive_load", "cylinder_volume"]


def cylinder_area(length, radius):
    """Lateral surface 2πrl (µm²) of cylinders, shape of the inputs."""
    return geometry.cylinder_area(radius, length)


def cylinder_volume(length, radius):
    """Volume πr²l (µm³) of cylinders, shape of the inputs."""
    return geometry.cylinder_volume(radius, length)


def cylinder_resistive_load(length, radius):
    """Resistive load ``l / (πr²)`` (µm⁻¹) of whole cylinders (times the axial
    resistivity: the axial resistance up to a unit factor)."""
    return length / (np.pi * radius**2)
