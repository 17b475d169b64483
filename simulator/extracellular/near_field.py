"""The minimum-distance rule near a compartment and its one-time warning.

The point- and line-source formulas diverge at the source. As LFPy/LFPykit do, a distance
below the compartment's radius is raised to the radius. When the distances are concrete,
:func:`warn_within_radius` says so with one UserWarning per call (Python shows a warning
once per call site by default: the warning is attributed to the first caller outside this
package); under tracing it is silent, unless :func:`deferred` collects the traced distances
so that a jitted function can return them and the caller warn on the concrete values
(:func:`warn_deferred`; a module's electrodes are checked so at build time: one compiled
program instead of ~20 eager operations, each compiled on its own in a cold process).
For the anisotropic line source the distances are those of the scaled coordinates (see
:mod:`simulator.extracellular.line_source`).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from simulator.extracellular.checks import is_concrete

#: The models that warn, by index (a jitted function returns the index of each record).
KINDS = ("point source", "line source")
_deferring = threading.local()


def warn_within_radius(distance2, limit, what: str) -> None:
    """Warn once if any squared distance (µm²) lies below its squared limit (radius, µm).

    Args:
        distance2: squared distances (µm²), any shape broadcastable with ``limit``.
        limit: the minimum distances (µm), the compartment radii.
        what: the model, for the message (e.g. "point source").
    """
    if not is_concrete(distance2, limit):
        records = getattr(_deferring, "records", None)
        if records is not None:
            records.append((distance2, jnp.broadcast_to(limit, jnp.shape(distance2)),
                            jnp.int32(KINDS.index(what))))
        return
    d2 = np.asarray(distance2)
    lim = np.broadcast_to(np.asarray(limit), d2.shape)
    close = d2 < lim * lim
    if close.any():
        worst = np.unravel_index(np.argmax(np.where(close, lim - np.sqrt(d2), -np.inf)), d2.shape)
        warnings.warn(
            f"{int(close.sum())} contact/compartment pair(s) lie closer than the compartment"
            f" radius ({what}), e.g. pair {tuple(int(i) for i in worst)} at"
            f" {float(np.sqrt(d2[worst])):.4g} µm < radius {float(lim[worst]):.4g} µm; the"
            " radius is used as the distance there (as LFPy/LFPykit do)",
            UserWarning,
            stacklevel=_outside_level(),
        )


@contextlib.contextmanager
def deferred():
    """Within this context (in the thread that traces), :func:`warn_within_radius` on
    traced values appends ``(distance2, limit, kind)`` (``kind``: an index into
    :data:`KINDS`) to the list it yields, for the traced function to return."""
    previous = getattr(_deferring, "records", None)
    _deferring.records = []
    try:
        yield _deferring.records
    finally:
        _deferring.records = previous


def warn_deferred(records) -> None:
    """:func:`warn_within_radius` on each concrete ``(distance2, limit, kind)`` returned
    from a function traced within :func:`deferred`."""
    for distance2, limit, kind in records:
        warn_within_radius(np.asarray(distance2), np.asarray(limit), KINDS[int(kind)])


def _outside_level() -> int:
    """``stacklevel`` of the first frame outside this package (the user's call site)."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve().parent) == package:
        frame, level = frame.f_back, level + 1
    return level
