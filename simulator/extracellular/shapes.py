"""Constructors of electrodes: point contacts, disks, cylinder bands, a DBS lead, grids.

All lengths in µm. Surface contacts (disks, bands) are approximated by points spread
evenly over their surface with equal weights (see :mod:`simulator.extracellular.electrode`
for what the points and weights mean). The contact centres may be traced (jit/vmap/grad);
the shape parameters (normal, axis, radius, height, counts) must be concrete numbers.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from simulator.extracellular.checks import is_concrete, points_array, positive_array
from simulator.extracellular.electrode import Electrode, combine

#: Medtronic 3389 DBS lead (µm): contact diameter 1.27 mm, contact height 1.5 mm, spacing
#: (gap between neighbouring contacts) 0.5 mm, four ring contacts (Medtronic DBS lead
#: model 3389 specifications; also e.g. Butson & McIntyre 2006, Clin. Neurophysiol.).
DBS_3389 = {"diameter": 1270.0, "height": 1500.0, "spacing": 500.0, "n_contacts": 4}
#: Golden angle (radians), the turn between successive points of a Fibonacci disk.
GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def point_contacts(positions, names=None) -> Electrode:
    """Point contacts at ``positions``: (3,) or (n_contacts, 3) µm; one point each."""
    if is_concrete(positions):
        points_array("positions", positions)
    pos = jnp.asarray(positions)
    pos = pos[None] if pos.ndim == 1 else pos
    if pos.ndim != 2:
        raise ValueError(f"positions must have shape (3,) or (n_contacts, 3) µm; got {pos.shape}")
    return Electrode(pos[:, None, :], None, names)


def disk_contact(centre, normal, radius: float, n_points: int = 19, name: str = "disk"):
    """A flat disk contact (e.g. a microelectrode pad), as a Fibonacci disk of points.

    Args:
        centre: (3,) µm.  normal: (3,) the disk's normal (any length).  radius: µm.
        n_points: points spread with equal area per point (sunflower pattern).
    """
    u, v = _plane_basis(normal, "normal")
    radius = float(positive_array("radius", radius, "µm"))
    k = np.arange(_count("n_points", n_points)) + 0.5
    rho = radius * np.sqrt(k / len(k))
    angle = k * GOLDEN_ANGLE
    offsets = rho[:, None] * (np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * v)
    return _contact(centre, offsets, name)


def ring_contact(centre, axis, radius: float, height: float, n_around: int = 8,
                 n_along: int = 3, name: str = "ring"):
    """A cylindrical band contact (a DBS ring) on the surface of a lead.

    Args:
        centre: (3,) µm, the centre of the band on the lead's axis.
        axis: (3,) the lead's axis direction (any length).
        radius: µm, the lead's radius.  height: µm, the band's extent along the axis.
        n_around, n_along: points around the circumference and along the height (equal
            surface per point: mid-points of n_along equal slices, n_around equal angles).
    """
    u, v = _plane_basis(axis, "axis")
    w = np.cross(u, v)
    radius = float(positive_array("radius", radius, "µm"))
    height = float(positive_array("height", height, "µm"))
    angle = 2.0 * np.pi * np.arange(_count("n_around", n_around)) / n_around
    along = height * ((np.arange(_count("n_along", n_along)) + 0.5) / n_along - 0.5)
    ring = radius * (np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * v)
    offsets = (ring[None, :, :] + along[:, None, None] * w).reshape(-1, 3)
    return _contact(centre, offsets, name)


def dbs_lead(tip, direction, n_around: int = 8, n_along: int = 3,
             names=("c0", "c1", "c2", "c3"), geometry=None) -> Electrode:
    """A four-ring DBS lead with the Medtronic 3389 geometry (:data:`DBS_3389`).

    Contact ``c0`` is the most distal: its distal edge lies at ``tip``; the contacts follow
    along ``direction`` (the unit vector from the tip towards the lead's shaft) with centres
    at tip + (h/2 + k (h + s)) · direction, h = 1500 µm, s = 500 µm, radius 635 µm.

    Args:
        tip: (3,) µm (may be traced).  direction: (3,) concrete, any length.
        n_around, n_along: points per ring (see :func:`ring_contact`).
        names: four contact names.  geometry: a dict overriding entries of DBS_3389.
    """
    g = {**DBS_3389, **(geometry or {})}
    w = np.cross(*_plane_basis(direction, "direction"))
    tip = _centre(tip)
    rings = []
    for k, name in enumerate(_names(names, int(g["n_contacts"]))):
        along = g["height"] / 2.0 + k * (g["height"] + g["spacing"])
        rings.append(ring_contact(tip + along * w, w, g["diameter"] / 2.0, g["height"],
                                  n_around, n_along, name))
    return combine(*rings)


def grid_array(rows: int, cols: int, pitch: float, origin=(0.0, 0.0, 0.0),
               normal=(0.0, 0.0, 1.0), contact_radius: float | None = None,
               n_points: int = 7) -> Electrode:
    """A rows × cols grid of contacts in the plane through ``origin`` normal to ``normal``.

    Contact ``r{i}c{j}`` lies at origin + i·pitch·u + j·pitch·v (µm), with (u, v, normal) a
    right-handed frame (u along x when the normal is z). Point contacts, or disks of
    ``contact_radius`` µm with ``n_points`` points each.
    """
    u, v = _plane_basis(normal, "normal")
    pitch = float(positive_array("pitch", pitch, "µm"))
    origin = _centre(origin)
    contacts = []
    for i in range(_count("rows", rows)):
        for j in range(_count("cols", cols)):
            centre = origin + pitch * (i * u + j * v)
            name = f"r{i}c{j}"
            if contact_radius is None:
                contacts.append(point_contacts(centre, [name]))
            else:
                contacts.append(disk_contact(centre, normal, contact_radius, n_points, name))
    return combine(*contacts)


def _contact(centre, offsets: np.ndarray, name: str) -> Electrode:
    centre = _centre(centre)
    positions = centre[None, :] + jnp.asarray(offsets, dtype=centre.dtype)
    return Electrode(positions[None], None, [name])


def _centre(centre):
    if is_concrete(centre):
        arr = points_array("centre", centre)
        if arr.shape != (3,):
            raise ValueError(f"centre must have shape (3,) µm; got shape {arr.shape}")
    return jnp.asarray(centre)


def _plane_basis(normal, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors u, v with (u, v, normal/|normal|) right-handed (u along x for z)."""
    n = points_array(name, normal, unit="any length")
    length = np.linalg.norm(n) if n.shape == (3,) else 0.0
    if length == 0.0:
        raise ValueError(f"{name} must be a non-zero (3,) vector; got {n.tolist()}")
    n = n / length
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = helper - np.dot(helper, n) * n
    u = u / np.linalg.norm(u)
    return u, np.cross(n, u)


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _names(names, n: int) -> tuple[str, ...]:
    names = tuple(names)
    if len(names) != n:
        raise ValueError(f"names must list {n} contact names; got {list(names)!r}")
    return names
