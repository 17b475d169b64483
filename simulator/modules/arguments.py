"""Checks of the arguments of module methods and connect helpers, with one set of messages.

Every checker raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a
value of the right type outside what is allowed; the message names the argument, shows the
value (``repr``, truncated) and says what was expected. Booleans are never numbers here:
``radius=True`` or ``branch(True)`` is almost always a mistake, so they are refused wherever a
number or an index is expected.
"""

from __future__ import annotations

import numbers

import numpy as np

from simulator.modules.module_type import ModuleType
from simulator.param_ranges import shown

#: Longest ``repr`` of a value shown in an error message.
SHOW_CHARS = 80


class SelectionIndexError(IndexError, ValueError):
    """An index outside the selection. Both an ``IndexError`` (Python's convention for
    indexing) and a ``ValueError`` (this package's convention for bad input)."""


class SelectionTypeError(TypeError, ValueError):
    """An index of the wrong type (a float, a bool, None, ...). Both a ``TypeError`` and a
    ``ValueError`` (which earlier versions raised for it)."""


def show(value) -> str:
    """``repr(value)``, cut to :data:`SHOW_CHARS` characters."""
    return shown(value, SHOW_CHARS)


def is_bool(value) -> bool:
    return isinstance(value, bool | np.bool_)


def _real_dtype(value) -> bool:
    dtype = getattr(value, "dtype", None)
    try:
        return dtype is not None and np.dtype(dtype).kind in "iuf"
    except TypeError:
        return False


def real_scalar(name: str, value, *, positive: bool = False, non_negative: bool = False,
                unit: str = "", expected: str | None = None) -> float:
    """``value`` as a finite float; TypeError unless it is a real number (not a bool).

    Args:
        name: the argument's name in messages, e.g. ``"move: x"``.
        positive, non_negative: also require ``> 0`` / ``>= 0``.
        unit: appended to the expectation in messages, e.g. ``"µm"``.
        expected: the expectation in messages instead (e.g. ``"a probability in [0, 1]"``);
            the caller then checks the range itself.
    """
    kind = "a positive" if positive else "a non-negative" if non_negative else "a"
    expected = expected or f"{kind} finite real number{f' ({unit})' if unit else ''}"
    if is_bool(value):
        raise TypeError(f"{name} must be {expected}, not a bool; got {show(value)}")
    scalar_array = getattr(value, "shape", None) == () and _real_dtype(value)
    if not (isinstance(value, numbers.Real) or scalar_array):
        raise TypeError(f"{name} must be {expected}; got {show(value)}")
    number = float(value)
    if not np.isfinite(number) or (positive and number <= 0) or (non_negative and number < 0):
        raise ValueError(f"{name} must be {expected}; got {show(value)}")
    return number


def real_array(name: str, value, expected: str) -> np.ndarray:
    """``value`` as a float array; TypeError for strings, bools, complex or other objects.

    ``expected`` describes the wanted value for the messages (shape and meaning); finiteness
    and shape are left to the caller.
    """
    if isinstance(value, str | bytes | dict | set) or value is None:
        raise TypeError(f"{name} must be {expected}; got {show(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise ValueError(f"{name} must be {expected} (a rectangular array); got"
                         f" {show(value)}") from err
    if arr.dtype == bool:
        raise TypeError(f"{name} must be {expected}, not bools; got {show(value)}")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {expected} of real numbers; got {show(value)}")
    return arr.astype(float)


def flag(name: str, value) -> bool:
    """``value`` as a bool; TypeError for anything but ``True``/``False``."""
    if not is_bool(value):
        raise TypeError(f"{name} must be True or False; got {show(value)}")
    return bool(value)


def random_generator(name: str, value) -> np.random.Generator:
    """A numpy Generator from None, a non-negative int seed or a Generator."""
    if value is None or isinstance(value, np.random.Generator):
        return np.random.default_rng(value)
    if is_bool(value) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be None, a non-negative int seed or a numpy Generator; got {show(value)}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int seed; got {show(value)}")
    return np.random.default_rng(int(value))


def module_argument(name: str, value, what: str = "a module or a view of one"):
    """TypeError unless ``value`` is a module or a view (e.g. ``net.cell(0)``)."""
    if not isinstance(value, ModuleType):
        raise TypeError(f"{name} must be {what}; got {show(value)}")
    return value
