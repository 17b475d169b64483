"""Argument checks shared by envs and tasks (raised before any tracing).

Every check raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for a
value of the right kind that is out of range; the message names the argument, shows the
value (its ``repr``, truncated) and says what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np

from simulator.param_ranges import Range


class TypeAndValueError(TypeError, ValueError):
    """A value of the wrong type at a place that raised ``ValueError`` for it before:
    catchable as either (new checks raise plain ``TypeError``)."""


#: Largest value of an int32 field (episode lengths are stored as int32).
INT32_MAX = 2**31 - 1


def show(value, limit: int = 80) -> str:
    """``repr(value)``, truncated to ``limit`` characters (arrays summarised)."""
    if isinstance(value, np.ndarray) and value.size > 8:
        text = f"array of shape {value.shape} ({np.array2string(value.ravel()[:4])[:-1]} ...)"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def positive_int(name: str, value, types=int, high: int | None = None) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` unless it is an instance of
    ``types`` (never a bool), at least 1 and (if given) at most ``high``."""
    if isinstance(value, bool) or not isinstance(value, types) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {show(value)}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be a positive int <= {high}, got {show(value)}")
    return int(value)


def real_number(name: str, value) -> float:
    """``value`` as a float, or :class:`TypeAndValueError` naming ``name`` unless it is a
    real number (a Python/NumPy int or float, or a 0-d real array; never a bool, str,
    complex or sequence)."""
    if isinstance(value, bool | np.bool_) or isinstance(value, str | bytes):
        raise TypeAndValueError(f"{name} must be a real number, got {show(value)}")
    if isinstance(value, numbers.Real):
        return float(value)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("i", "u", "f") and getattr(value, "shape", None) == ():
        return float(value)
    raise TypeAndValueError(f"{name} must be a real number, got {show(value)}")


def seed_or_none(name: str, seed) -> int | None:
    """``seed`` as an int (or ``None``): :class:`TypeAndValueError` unless an int (never a
    bool), ``ValueError`` if negative. The one seed check of the gymnasium and vector envs."""
    if seed is None:
        return None
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer):
        raise TypeAndValueError(f"{name} must be a non-negative int or None, got {show(seed)}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative int or None, got {show(seed)}")
    return int(seed)


def check_range(valid: Range, name: str, values) -> None:
    """``ValueError`` naming ``name`` (and the first bad entry of an array) unless every
    entry of ``values`` lies in ``valid`` (described in the envs' plain wording)."""
    v = np.asarray(values)
    with np.errstate(invalid="ignore"):
        bad = ~valid.contains(v.astype(np.float64))
    if not bad.any():
        return
    if v.ndim == 0:
        raise ValueError(f"{name} must be {valid.describe(True)}; got {show(v[()].item())}")
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    raise ValueError(f"{name} must be {valid.describe(True)} in every entry; got "
                     f"{show(v[index].item())} at index {where} (shape {v.shape})")


def check_policy(name: str, policy) -> None:
    """``TypeError`` naming ``name`` unless ``policy`` is callable (``policy(obs, key)``)."""
    if not callable(policy):
        raise TypeError(f"{name} must be a callable policy(obs, key) -> action, got "
                        f"{show(policy)}")
