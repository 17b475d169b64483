"""Checks of compartment counts: ``ncomp`` arguments and the limit on a module's size."""

from __future__ import annotations

import numpy as np

#: Most compartments a module may get from one constructor call or re-discretisation
#: (``Branch``, ``Cell``, ``read_swc``, ``set_ncomp``) unless the call passes a larger
#: ``max_compartments`` (``set_ncomp`` reads this value when it runs). Building a million
#: compartments takes tens of seconds and ~1 GB; a count beyond it is almost always a unit
#: mistake (``max_branch_len=1e-6`` µm, ``d_lambda=1e-9``), refused before anything is built.
MAX_COMPARTMENTS = 1_000_000


def check_ncomp(ncomp) -> int:
    if isinstance(ncomp, bool) or not isinstance(ncomp, int | np.integer) or ncomp < 1:
        raise ValueError(f"ncomp must be a positive int, got {ncomp!r}")
    return int(ncomp)


def format_count(count) -> str:
    """``20,000,000`` for counts below 1e18, ``3e+301`` above (floats that no int holds)."""
    return f"{count:,.0f}" if count < 1e18 else f"{count:.3g}"


def check_compartment_count(total, what: str, max_compartments=None) -> None:
    """Refuse to build more than ``max_compartments`` (default :data:`MAX_COMPARTMENTS`).

    ``total`` may be a float (an estimate that would overflow an int); ``what`` says what
    asked for them, e.g. ``"read_swc('a.swc', ncomp=1, max_branch_len=1e-06)"``.
    """
    if max_compartments is None:
        limit = MAX_COMPARTMENTS
    elif isinstance(max_compartments, bool) or not isinstance(max_compartments,
                                                              int | np.integer):
        raise TypeError(f"max_compartments must be a positive int or None, got"
                        f" {max_compartments!r}")
    elif max_compartments < 1:
        raise ValueError(f"max_compartments must be a positive int or None, got"
                         f" {max_compartments!r}")
    else:
        limit = int(max_compartments)
    if not total <= limit:
        count = format_count(total)
        raise ValueError(
            f"{what} would build {count} compartments, more than the limit of {limit:,}"
            " (simulator.modules.counts.MAX_COMPARTMENTS); check the discretisation, or pass"
            " a larger max_compartments=... if you mean it"
        )
