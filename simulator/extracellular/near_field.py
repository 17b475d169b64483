"""The minimum-distance rule near a compartment and its one-time warning.

The point- and line-source formulas diverge at the source. As LFPy/LFPykit do, a distance
below the compartment's radius is raised to the radius. When the distances are concrete,
:func:`warn_within_radius` says so with one UserWarning per call (Python shows a warning
once per call site by default: the warning is attributed to the first caller outside this
package); under tracing it is silent. For the anisotropic line source the distances are
those of the scaled coordinates (see :mod:`simulator.extracellular.line_source`).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from simulator.extracellular.checks import is_concrete


def warn_within_radius(distance2, limit, what: str) -> None:
    """Warn once if any squared distance (µm²) lies below its squared limit (radius, µm).

    Args:
        distance2: squared distances (µm²), any shape broadcastable with ``limit``.
        limit: the minimum distances (µm), the compartment radii.
        what: the model, for the message (e.g. "point source").
    """
    if not is_concrete(distance2, limit):
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


def _outside_level() -> int:
    """``stacklevel`` of the first frame outside this package (the user's call site)."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve().parent) == package:
        frame, level = frame.f_back, level + 1
    return level
