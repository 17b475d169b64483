"""Hashable content keys for static (trace-time) data.

A jitted program is cached under its static arguments: two arguments that compare equal must
trace to the same program. :func:`static_key` turns a value into a nested tuple that is equal
for equal content (numbers by type and exact value, arrays by dtype, shape and bytes, dicts in
insertion order, plain objects by class and attributes), so two freshly built identical
modules share one compilation, while any change of content gives a different key.

Values whose content cannot be read (functions, tracers, objects without ``__dict__``) are
keyed by identity through :class:`Identity`, which keeps them alive so that their id is never
reused by another object.
"""

from __future__ import annotations

import functools
import types

import numpy as np

__all__ = ["Identity", "static_key"]


class Identity:
    """Key of an object compared by identity (holds a reference to it)."""

    __slots__ = ("obj",)

    def __init__(self, obj) -> None:
        self.obj = obj

    def __eq__(self, other) -> bool:
        return isinstance(other, Identity) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __repr__(self) -> str:
        return f"Identity({type(self.obj).__name__} at {id(self.obj):#x})"


_OPAQUE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType,
           type)


def static_key(value, _active: frozenset = frozenset()):
    """A hashable key of ``value``'s content (see the module docstring)."""
    if value is None or isinstance(value, bool | str | bytes):
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, float):
        return ("float", float(value).hex())  # exact; NaN and -0.0 compare as themselves
    if isinstance(value, complex):
        return ("complex", value.real.hex(), value.imag.hex())
    if isinstance(value, np.generic):
        return ("np", value.dtype.str, value.tobytes())
    if isinstance(value, _OPAQUE):
        return Identity(value)
    if id(value) in _active:  # a reference cycle: keyed by identity where it closes
        return Identity(value)
    active = _active | {id(value)}
    if isinstance(value, np.ndarray) or _is_concrete_jax_array(value):
        array = np.asarray(value)
        if array.dtype == object:
            return ("object_array", array.shape, tuple(static_key(v, active) for v in
                                                         array.reshape(-1)))
        return ("array", array.dtype.str, array.shape, np.ascontiguousarray(array).tobytes())
    if isinstance(value, functools.partial):
        return (functools.partial, static_key(value.func, active), static_key(value.args, active),
                static_key(value.keywords, active))
    if isinstance(value, dict):
        return (type(value), tuple((static_key(k, active), static_key(v, active))
                                   for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(static_key(v, active) for v in value))
    if isinstance(value, set | frozenset):
        keys = [static_key(v, active) for v in value]
        return (type(value), tuple(sorted(keys, key=repr)))
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and not hasattr(value, "__slots__"):
        return (type(value), static_key(attributes, active))
    return Identity(value)


def _is_concrete_jax_array(value) -> bool:
    import jax

    return isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer)
