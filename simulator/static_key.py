"""Hashable content keys for static (trace-time) data.

A jitted program is cached under its static arguments: two arguments that compare equal must
trace to the same program. :func:`static_key` turns a value into a nested tuple that is equal
for equal content (numbers by type and exact value, arrays by dtype, shape and bytes, dicts in
insertion order, plain objects by class and attributes, less the values their
``functools.cached_property`` stored: derived, and present only once computed), so two
freshly built identical modules share one compilation, while any change of content gives a
different key.

Values whose content cannot be read (functions, tracers, objects without ``__dict__``) are
keyed by identity through :class:`Identity`, which keeps them alive so that their id is never
reused by another object.
"""

from __future__ import annotations

import functools
import hashlib
import types

import numpy as np

__all__ = ["Identity", "content_key", "stable_digest", "static_key"]


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
    if _is_concrete_jax_array(value) and _is_key_array(value):
        import jax

        return ("key_array", str(jax.random.key_impl(value)),
                static_key(jax.random.key_data(value), active))
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
        derived = _cached_properties(type(value))
        if derived:  # else equal objects would differ by what was asked of them
            attributes = {k: v for k, v in attributes.items() if k not in derived}
        return (type(value), static_key(attributes, active))
    return Identity(value)


def content_key(value):
    """:func:`static_key`, with a plain function keyed by its code and what it captured
    (closure cells, defaults, attributes) instead of its identity: two closures of one
    ``def`` over equal values compare equal (``build_init_and_step_fn``'s step function is
    a fresh closure per env over content-comparable programs), and a closure whose captured
    variable was rebound compares unequal to its former self."""
    if isinstance(value, types.FunctionType):
        cells = tuple(cell.cell_contents for cell in (value.__closure__ or ()))
        return ("function", Identity(value.__code__), static_key(cells),
                static_key(value.__defaults__), static_key(value.__kwdefaults__),
                static_key(vars(value)))
    return static_key(value)


@functools.lru_cache(maxsize=256)
def _cached_properties(cls: type) -> frozenset[str]:
    """Names of ``cls``'s ``functools.cached_property`` attributes (its MRO's)."""
    return frozenset(name for klass in cls.__mro__ for name, attr in vars(klass).items()
                     if isinstance(attr, functools.cached_property))


def _is_concrete_jax_array(value) -> bool:
    import jax

    return isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer)


def _is_key_array(value) -> bool:
    """A typed PRNG key array (no NumPy view: keyed by its implementation and key data)."""
    import jax

    return jax.numpy.issubdtype(value.dtype, jax.dtypes.prng_key)


#: Top-level packages whose classes and functions a :func:`stable_digest` names by module
#: and qualified name. Their code is not in the digest: a caller that stores results under
#: it must also key on these packages' versions or sources.
STABLE_PACKAGES = ("simulator", "neuroenv", "jax", "jaxlib", "numpy")


class _Unstable(Exception):
    """A part of a key that has no process-independent name."""


def stable_digest(key) -> str | None:
    """Hex SHA-256 of a :func:`static_key` that is the same in every process, or ``None``
    when the key holds an object known only by identity (a user's function or class, a
    lambda, an object without readable content): such a key can be compared within one
    process but not stored for another."""
    sha = hashlib.sha256()
    try:
        _feed(sha, key)
    except _Unstable:
        return None
    return sha.hexdigest()


def _feed(sha, item) -> None:
    if isinstance(item, tuple):
        sha.update(b"(%d" % len(item))
        for part in item:
            _feed(sha, part)
        sha.update(b")")
    elif isinstance(item, Identity):
        _feed_named(sha, item.obj)
    elif isinstance(item, type):
        _feed_named(sha, item)
    elif isinstance(item, bytes):
        sha.update(b"b%d:" % len(item) + item)
    elif item is None or isinstance(item, bool | int | str):
        text = f"{type(item).__name__}:{item!r}".encode()
        sha.update(b"s%d:" % len(text) + text)
    else:
        raise _Unstable(item)


def _feed_named(sha, obj) -> None:
    """A class or function by module and qualified name, if it is importable by them from
    Python's builtins or one of :data:`STABLE_PACKAGES`."""
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or ""
    stable = isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType)
    own = module == "builtins" or module.split(".")[0] in STABLE_PACKAGES
    if not (stable and own and "<" not in name):
        raise _Unstable(obj)
    text = f"{module}:{name}".encode()
    sha.update(b"n%d:" % len(text) + text)
