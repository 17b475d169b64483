"""Index helpers under jaxley's ``jaxley.utils.cell_utils`` path.

Relative positions ``loc`` in [0, 1] run from a branch's start to its end; a branch of
``n`` compartments has compartment centres at ``(k + 0.5) / n``. ``params_to_pstate``
(``get_parameters()`` output as ``data_set()`` entries) is :mod:`simulator.assemble`'s.
"""

from __future__ import annotations

import numpy as np

from simulator.assemble import params_to_pstate
from simulator.utils.misc_utils import cumsum_leading_zero

__all__ = ["local_index_of_loc", "loc_of_index", "params_to_pstate"]


def local_index_of_loc(loc: float, global_branch_ind: int, ncomp_per_branch) -> int:
    """Index within its branch of the compartment whose centre is nearest to ``loc``.

    Args:
        loc: relative position in [0, 1] along the branch.
        global_branch_ind: the branch's global index.
        ncomp_per_branch: compartments of every branch, shape (n_branches,).

    Returns:
        The local compartment index in ``[0, ncomp)``; a ``loc`` exactly half-way between
        two centres gives the lower one (jaxley's rule).
    """
    if not 0.0 <= float(loc) <= 1.0:
        raise ValueError(f"local_index_of_loc: loc must lie in [0, 1], got {loc!r}")
    ncomp = int(np.asarray(ncomp_per_branch)[global_branch_ind])
    centres = (np.arange(ncomp) + 0.5) / ncomp
    return int(np.argmin(np.abs(centres - loc)))


def loc_of_index(global_comp_index, global_branch_index, ncomp_per_branch):
    """Relative position of a compartment's centre within its branch.

    Args:
        global_comp_index: the compartment's global index (int or int array).
        global_branch_index: the global index of its branch (same shape).
        ncomp_per_branch: compartments of every branch, shape (n_branches,).

    Returns:
        ``(local index + 0.5) / ncomp`` of that branch, in (0, 1).
    """
    ncomp = np.asarray(ncomp_per_branch)
    first = cumsum_leading_zero(ncomp)[global_branch_index]
    return (0.5 + (global_comp_index - first)) / ncomp[global_branch_index]
