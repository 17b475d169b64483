"""Input checks shared by the extracellular package (concrete values only).

Each check raises ValueError naming the argument, the offending value and what was
expected. Traced values (inside ``jit``/``vmap``/``grad``) cannot be inspected and pass
through unchecked: the checks run when the user builds objects from concrete numbers.
"""

from __future__ import annotations

import jax
import numpy as np

#: How many entries of an offending array a message shows.
SHOWN = 6


def is_concrete(*values) -> bool:
    """True when no leaf of ``values`` is a JAX tracer (the values can be inspected)."""
    leaves = jax.tree_util.tree_leaves(values)
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def shown(value) -> str:
    """A short repr of ``value`` for an error message (first entries of a large array)."""
    arr = np.asarray(value)
    if arr.size <= SHOWN:
        return repr(arr.tolist())
    return f"array of shape {arr.shape} starting {arr.ravel()[:SHOWN].tolist()}"


def finite_array(name: str, value, shape_hint: str, unit: str) -> np.ndarray:
    """``value`` as a float array; ValueError if it is not numeric or has non-finite entries."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be {shape_hint} of numbers ({unit}); got {value!r}") from err
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[0].tolist()
        raise ValueError(
            f"{name} must be finite ({unit}); got a non-finite entry {arr[bad][0]} at index"
            f" {where} of {shown(arr)}"
        )
    return arr


def points_array(name: str, value, unit: str = "µm") -> np.ndarray:
    """Check an (..., 3) array of finite coordinates and return it as float."""
    arr = finite_array(name, value, "an (..., 3) array", unit)
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise ValueError(
            f"{name} must have shape (..., 3) (x, y, z in {unit}); got shape {arr.shape}"
        )
    return arr


def positive_array(name: str, value, unit: str) -> np.ndarray:
    """Check finite, strictly positive values and return them as a float array."""
    arr = finite_array(name, value, "a number or an array", unit)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 ({unit}); got {shown(arr)}")
    return arr
