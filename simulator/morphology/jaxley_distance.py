"""jaxley 0.14's ``distance_direct`` and ``distance_pathwise`` (``jaxley.morphology``).

Both measure from one compartment (``startpoint``) to every compartment of ``endpoints``
(a module or view of the same module), in ``endpoints.nodes`` order, in µm.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from simulator.modules.module_type import ModuleType
from simulator.morphology.distance import path_distance


def _single(startpoint, endpoints) -> None:
    for name, x in (("startpoint", startpoint), ("endpoints", endpoints)):
        if not isinstance(x, ModuleType):
            raise TypeError(f"{name} must be a module or a view of one, got {x!r}")
    if len(startpoint.nodes.index) != 1:
        raise ValueError(f"startpoint must be a single compartment (e.g."
                         f" cell.branch(0).comp(0)), got {len(startpoint.nodes.index)}")


def distance_direct(startpoint, endpoints):
    """Straight-line distance (µm) between compartment centres (``.nodes`` x, y, z).

    Returns a (n_endpoints,) jax array; NaN where centres have no coordinates.
    """
    _single(startpoint, endpoints)
    start = startpoint.nodes[["x", "y", "z"]].to_numpy(dtype=float)[0]
    ends = endpoints.nodes[["x", "y", "z"]].to_numpy(dtype=float)
    return jnp.sqrt(jnp.sum((start - ends) ** 2, axis=1))


def distance_pathwise(startpoint, endpoints) -> list[float]:
    """Distance (µm) along the cable between compartment centres: half of each end
    compartment's length plus the full length of every compartment in between.

    Returns a list of floats, one per compartment of ``endpoints``; ``inf`` across cells.
    """
    _single(startpoint, endpoints)
    if startpoint.base is not endpoints.base:
        raise ValueError("startpoint and endpoints must be selections of the same module")
    return [float(d) for d in np.atleast_1d(path_distance(startpoint, endpoints))]
