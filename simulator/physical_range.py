"""Physically out-of-range values: a warning at ``set``, an error where they break a run.

jaxley lets a user set any finite value (a negative conductance in its graph-backend
tutorial, a zero radius in its tests), so :func:`simulator.param_ranges.check_parameter`
warns (:class:`PhysicalRangeWarning`, naming the parameter, the value and the expected
range) instead of refusing finite values outside a parameter's physical range. NaN, ±inf
and values of the wrong type still raise.

Some of these values make the cable equations singular: a compartment with zero radius or
length has no membrane area (the membrane current density divides by it), zero capacitance
leaves dv/dt undefined, zero axial resistivity makes the axial conductance infinite, and
negative values flip signs of the same terms. A run cannot give numbers with them (jaxley
returns NaN), so :func:`check_nonsingular_module` refuses them before tracing, in
``integrate`` and at env construction, naming the compartments.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

__all__ = ["SINGULAR_WHEN_NOT_POSITIVE", "PhysicalRangeWarning", "check_nonsingular_module",
           "check_nonsingular_values", "warn_out_of_range"]


class PhysicalRangeWarning(UserWarning):
    """A finite value outside its parameter's physical range was accepted (e.g. a negative
    conductance); the message names the parameter, the value and the expected range."""


#: Node parameters whose value must be > 0 for the cable equations to be solvable, and why.
SINGULAR_WHEN_NOT_POSITIVE = {
    "radius": "the membrane area and axial conductance vanish",
    "length": "the membrane area vanishes",
    "capacitance": "dv/dt = I / C is undefined",
    "axial_resistivity": "the axial conductance is infinite",
}
_SHOWN = 10  # compartments listed in a message
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_out_of_range(message: str) -> None:
    """Emit :class:`PhysicalRangeWarning` with ``message``, attributed to the first caller
    outside the ``simulator`` package (the user's ``set(...)`` line)."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2: our caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, PhysicalRangeWarning, stacklevel=level)


def check_nonsingular_values(name: str, values, where: str, labels=None) -> None:
    """ValueError if a concrete ``values`` entry of ``name`` is ≤ 0 and ``name`` is one of
    :data:`SINGULAR_WHEN_NOT_POSITIVE`.

    Args:
        name: parameter name (other names pass).
        values: scalar or array (a traced value passes: checked by ``checks=True``).
        where: what holds the values, for the message (e.g. ``"params[0]"``).
        labels: optional (n,) names of the entries (e.g. compartment indices); default
            the flat positions.
    """
    if name not in SINGULAR_WHEN_NOT_POSITIVE:
        return
    try:
        flat = np.asarray(values, dtype=float).reshape(-1)
    except Exception:  # noqa: BLE001 - a tracer or non-number: not concrete, not ours
        return
    bad = np.flatnonzero(flat <= 0)
    if bad.size == 0:
        return
    labels = np.arange(flat.size) if labels is None else np.asarray(labels).reshape(-1)
    shown = ", ".join(f"{labels[i]} ({flat[i]:g})" for i in bad[:_SHOWN])
    more = f" and {bad.size - _SHOWN} more" if bad.size > _SHOWN else ""
    raise ValueError(
        f"{where}: {name} must be > 0 to simulate ({SINGULAR_WHEN_NOT_POSITIVE[name]} at"
        f" {name} <= 0); got it at {bad.size} entries: {shown}{more}. Set a positive {name}"
        " first (set() accepts such values with a PhysicalRangeWarning, a run does not)"
    )


def check_nonsingular_module(module, action: str) -> None:
    """ValueError naming the compartments (``global_comp_index``) of ``module``'s base
    whose radius, length, capacitance or axial resistivity is ≤ 0; ``action`` names what
    refuses (e.g. ``"integrate"``)."""
    nodes = module.base.nodes
    comps = nodes["global_comp_index"].to_numpy()
    for name in SINGULAR_WHEN_NOT_POSITIVE:
        if name in nodes.columns:
            check_nonsingular_values(name, nodes[name].to_numpy(dtype=float),
                                     f"{action}: compartments (global_comp_index)", comps)
