"""Valid ranges of parameters and states: the one range check of every entry point.

Every value a user gives the simulator by name (``set``, ``data_set``, ``make_trainable``
initial values, ``integrate``/``init_fn`` ``params``, an env's simulation parameters) goes
through :func:`check_parameter`, which refuses a wrong type (TypeError: bool, str, complex,
object) and a non-finite value (ValueError), and warns about a finite value outside the
parameter's physical range (:class:`~simulator.physical_range.PhysicalRangeWarning`, as
jaxley accepts it), naming the parameter. Values that make the cable equations singular
(radius ≤ 0, ...) are refused where a run starts (:mod:`simulator.physical_range`).

Where a range comes from, for a name ``key``:

1. geometry and the other built-in node values (:data:`BUILTIN_RANGES`);
2. every mechanism (channel, pump, synapse) that has ``key`` among its parameters or states:
   its declared range (class attribute ``param_ranges``, keyed by the name without the
   mechanism's prefix, e.g. ``"gNa"`` for ``"HH_gNa"``, or by the full name of a shared key
   such as ``"eK"``), else the range inferred from the naming convention
   (:func:`inferred_range`). A key of several mechanisms must satisfy all of them.
3. anything else: finite.

The geometry bounds and why they sit where they do: docs/validation.md.

Mechanism conventions (:func:`inferred_range`): a parameter ``g`` followed by an upper-case
letter, ``_`` or nothing (``gNa``, ``gLeak``, ``g_L``, ``gS``) is a conductance ≥ 0; one
starting with ``tau`` is a time constant > 0; a state named by one lower-case letter (``m``,
``h``, ``n``, ``s``) is a gate in [0, 1]; everything else only has to be finite. Built-in
mechanisms declare the rest explicitly (e.g. Izhikevich's ``u`` is no gate, CaPump's
``decay`` is a time constant).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from simulator.physical_range import (
    PhysicalRangeWarning,
    check_nonsingular_values,
    warn_out_of_range,
)

__all__ = ["ANY", "BUILTIN_RANGES", "CONCENTRATION", "CONDUCTANCE", "GATE", "POSITIVE", "RATE",
           "TIME_CONSTANT", "Range", "check_parameter", "check_parameters", "in_range",
           "inferred_range", "mechanisms_of", "parameter_ranges", "PhysicalRangeWarning"]


def _number(x: float) -> str:
    """``x`` for messages: integral values without exponent (2147483647, not 2.15e+09)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


@dataclasses.dataclass(frozen=True)
class Range:
    """An interval of valid values (each end open or closed); values must also be finite.

    Attributes:
        low, high: bounds (``-inf``/``inf``: unbounded on that side).
        units: units for messages (e.g. ``"S/cm²"``).
        low_open, high_open: exclude the bound itself (``low < x``, e.g. a time constant > 0).
        what: a short description for messages (e.g. ``"conductance"``).
        integer: whether the values must be integral.
    """

    low: float = -math.inf
    high: float = math.inf
    units: str = ""
    low_open: bool = False
    what: str = ""
    high_open: bool = False
    integer: bool = False

    def describe(self, plain: bool = False) -> str:
        """E.g. ``"a finite conductance ≥ 0 (S/cm²)"``; ``plain``: the wording of the envs'
        messages, ``>=``/``<=`` and "number" for an unnamed value (``"a finite number > 0
        (ms)"``)."""
        noun = self.what or ("number" if plain else "value")
        text = "an integer" if self.integer else "a finite " + noun
        lo, hi = self.low > -math.inf, self.high < math.inf
        if lo and hi:
            text += (f" in {'(' if self.low_open else '['}{_number(self.low)}, "
                     f"{_number(self.high)}{')' if self.high_open else ']'}")
        elif lo:
            text += f" {'>' if self.low_open else ('>=' if plain else '≥')} {_number(self.low)}"
        elif hi:
            text += f" {'<' if self.high_open else ('<=' if plain else '≤')} {_number(self.high)}"
        return text + (f" ({self.units})" if self.units else "")

    def contains(self, values, dtype=None):
        """Elementwise ``finite, within bounds (and integral)`` (NumPy in, NumPy out; jax in,
        jax out).

        ``dtype``: the precision the values were given in (default: ``values.dtype``); the
        bounds are rounded to it, so that e.g. float32(1e-4) (9.99999997e-05) is ≥ 1e-4.
        """
        xp = jnp if isinstance(values, jax.Array) else np
        dtype = np.dtype(dtype or getattr(values, "dtype", None) or float)
        if dtype.kind != "f":
            dtype = np.dtype(float)
        ok = xp.isfinite(values)
        if self.low > -math.inf:
            low = float(np.asarray(self.low, dtype))
            ok = ok & ((values > low) if self.low_open else (values >= low))
        if self.high < math.inf:
            high = float(np.asarray(self.high, dtype))
            ok = ok & ((values < high) if self.high_open else (values <= high))
        return ok & (values == xp.round(values)) if self.integer else ok


def _as_range(declared) -> Range:
    """A declaration (a :class:`Range` or a ``(low, high[, units])`` tuple) as a Range."""
    if isinstance(declared, Range):
        return declared
    if isinstance(declared, tuple) and len(declared) in (2, 3):
        low, high, *units = declared
        return Range(-math.inf if low is None else float(low),
                     math.inf if high is None else float(high), *units)
    raise TypeError(
        "a param_ranges entry must be a Range or a (low, high[, units]) tuple, got"
        f" {declared!r}"
    )


#: Any finite value.
ANY = Range()
#: A conductance (≥ 0); units as the mechanism's (channels S/cm², synapses µS).
CONDUCTANCE = Range(0.0, what="conductance")
#: A gating variable (open fraction), dimensionless.
GATE = Range(0.0, 1.0, what="gate (open fraction)")
#: A time constant (ms).
TIME_CONSTANT = Range(0.0, units="ms", low_open=True, what="time constant")
#: A rate (1/ms).
RATE = Range(0.0, units="1/ms", low_open=True, what="rate")
#: A concentration (mM).
CONCENTRATION = Range(0.0, units="mM", what="concentration")
#: Any strictly positive value.
POSITIVE = Range(0.0, low_open=True, what="positive value")

#: Geometry and other built-in node values (bounds explained in docs/validation.md).
BUILTIN_RANGES: dict[str, Range] = {
    "radius": Range(1e-4, units="µm", what="radius"),
    "length": Range(1e-4, units="µm", what="length"),
    "capacitance": Range(1e-3, units="µF/cm²", what="membrane capacitance"),
    "axial_resistivity": Range(1e-6, units="Ω·cm", what="axial resistivity"),
    "area": Range(0.0, units="µm²", low_open=True, what="area"),
    "volume": Range(0.0, units="µm³", low_open=True, what="volume"),
    "resistive_load_in": Range(0.0, units="1/µm", low_open=True, what="resistive load"),
    "resistive_load_out": Range(0.0, units="1/µm", low_open=True, what="resistive load"),
    "v": Range(units="mV", what="voltage"),
    "i": Range(units="nA", what="current"),
}
_DIFFUSION = Range(0.0, units="µm²/ms", low_open=True, what="diffusion constant")
_CONDUCTANCE_NAME = re.compile(r"^g([A-Z_]|$)")


def inferred_range(suffix: str, is_state: bool) -> Range:
    """The range the naming convention gives a mechanism's key (its name without prefix)."""
    if is_state:
        return GATE if re.fullmatch(r"[a-z]", suffix) else ANY
    if _CONDUCTANCE_NAME.match(suffix):
        return CONDUCTANCE
    if suffix.startswith("tau"):
        return TIME_CONSTANT
    return ANY


def _tables(mechanism) -> tuple[dict, dict]:
    """(parameters, states) of a channel or pump (``channel_*``) or a synapse (``synapse_*``)."""
    params = getattr(mechanism, "channel_params", getattr(mechanism, "synapse_params", None))
    states = getattr(mechanism, "channel_states", getattr(mechanism, "synapse_states", None))
    return params or {}, states or {}


def _mechanism_range(mechanism, key: str) -> Range | None:
    """``mechanism``'s range for ``key``, or None when ``key`` is not one of its keys."""
    params, states = _tables(mechanism)
    if key not in params and key not in states:
        return None
    prefix = f"{mechanism.name}_"
    suffix = key[len(prefix):] if key.startswith(prefix) else key
    declared = getattr(mechanism, "param_ranges", None) or {}
    if suffix in declared:
        return _as_range(declared[suffix])
    if key in declared:
        return _as_range(declared[key])
    return inferred_range(suffix, is_state=key in states and key not in params)


def parameter_ranges(name: str, mechanisms: Iterable = ()) -> list[Range]:
    """Every range ``name`` must satisfy (at least one; :data:`ANY` when nothing declares)."""
    if name in BUILTIN_RANGES:
        return [BUILTIN_RANGES[name]]
    if name.startswith("axial_diffusion_"):
        return [_DIFFUSION]
    ranges = [r for r in (_mechanism_range(m, name) for m in mechanisms) if r is not None]
    return ranges or [ANY]


def mechanisms_of(module) -> list:
    """The channels, pumps and synapses of ``module`` (a module or view)."""
    base = module.base
    return [*base._channels, *base._synapses]


def shown(value, limit: int = 120) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _label(name: str, where: str) -> str:
    return f"{where}: {name}" if where else name


def _check_type(name: str, value, where: str) -> None:
    """TypeError for values that are no real numbers (bool, str, complex, object, None)."""
    label = _label(name, where)
    if value is None or isinstance(value, str | bytes | dict | set):
        raise TypeError(f"{label} must be a real number or array of real numbers; got"
                        f" {shown(value)}")
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{label} must be a real number, not a bool; got {value!r}")
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        kind = np.dtype(dtype).kind
        if kind == "b":
            raise TypeError(f"{label} must be real numbers, not booleans; got dtype {dtype}")
        if kind == "c":
            raise TypeError(f"{label} must be real numbers, not complex; got {shown(value)}")
        if kind not in "fiu":
            raise TypeError(f"{label} must be real numbers; got dtype {dtype}")
    elif isinstance(value, complex):
        raise TypeError(f"{label} must be a real number, not complex; got {value!r}")


def check_parameter(name: str, value, mechanisms: Iterable = (), *, where: str = ""):
    """Check a value of the parameter or state ``name``: type, finiteness and range.

    Args:
        name: a node parameter or state (``"radius"``, ``"HH_gNa"``, ``"HH_m"``, ``"v"``,
            ``"IonotropicSynapse_gS"``, ...).
        value: a scalar or array (any shape). A traced (jax Tracer) value only has its
            dtype checked; its values are checked by ``integrate(..., checks=True)``.
        mechanisms: the channels, pumps and synapses that may own ``name`` (e.g.
            :func:`mechanisms_of` of the module); without them only built-in names and
            "finite" are checked.
        where: prefix for messages, e.g. ``"set('HH_gNa')"``.

    Returns:
        ``value`` as a float64 NumPy array (a Tracer: ``value`` unchanged).

    Raises:
        TypeError: bool, str, complex, None or non-numeric values.
        ValueError: NaN, ±inf, or a non-integral value of an integer parameter.

    Warns:
        PhysicalRangeWarning: a finite value outside the parameter's physical range (a
            negative conductance, a zero radius, ...), accepted as jaxley does; the message
            names the parameter, the offending value and the valid range with units.
    """
    _check_type(name, value, where)
    if isinstance(value, jax.core.Tracer):
        return value
    label = _label(name, where)
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{label} must be real numbers; got {shown(value)}") from err
    ranges = parameter_ranges(name, mechanisms)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{label} got non-finite values {shown(value)}; expected"
                         f" {ranges[0].describe()}")
    given = np.result_type(getattr(value, "dtype", None) or np.float64)
    for valid in ranges:
        ok = valid.contains(values, given if given.kind == "f" else None)
        if not np.all(ok):
            bad = values[~ok]
            detail = (f" ({bad.size} of {values.size} values outside, first {float(bad[0])!r})"
                      if values.size > 1 else "")
            message = f"{label} should be {valid.describe()}; got {shown(value)}{detail}"
            if valid.integer:
                raise ValueError(message.replace("should be", "must be", 1))
            warn_out_of_range(message + ": accepted (physically out of range)")
    return values


def check_run_value(name: str, value, mechanisms: Iterable = (), *, where: str = ""):
    """:func:`check_parameter` of a value a run will use, after refusing (``ValueError``,
    :func:`~simulator.physical_range.check_nonsingular_values`) one that makes the cable
    equations singular (a radius, length, capacitance, ... <= 0), so a refused value is
    not first warned about as "accepted". Same arguments and return value."""
    check_nonsingular_values(name, value, where)
    return check_parameter(name, value, mechanisms, where=where)


def check_parameters(values: Mapping, mechanisms: Iterable = (), *, where: str = "") -> None:
    """:func:`check_parameter` for every ``name: value`` of ``values``."""
    mechanisms = list(mechanisms)
    for name, value in values.items():
        check_parameter(name, value, mechanisms, where=where)


def in_range(name: str, values, mechanisms: Iterable = ()):
    """Elementwise validity of (possibly traced) ``values`` of ``name``: a jax bool array.

    For checked runs (``checkify``): traceable, no Python branching on values.
    """
    values = jnp.asarray(values)
    ok = jnp.ones(values.shape, dtype=bool)
    for valid in parameter_ranges(name, mechanisms):
        ok = ok & valid.contains(values)
    return ok
