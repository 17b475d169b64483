"""Morphology operations on modules: ``set_ncomp``, ``set_ncomp_d_lambda``, ``distance_from``.

The work is done in :mod:`simulator.morphology.discretize` and
:mod:`simulator.morphology.distance`; these functions only resolve the selection.
"""

from __future__ import annotations

import numpy as np

from simulator.modules.arguments import module_argument, real_scalar
from simulator.modules.counts import check_ncomp
from simulator.morphology import distance
from simulator.morphology.discretize import (
    DLambdaRule,
    branch_columns,
    branch_d_lambda_ncomp,
    check_no_indexed_data,
    set_branch_ncomp,
)


def _selected_branches(module, action: str) -> np.ndarray:
    """Global branches of the selection; ValueError unless it covers them entirely."""
    base = module.base
    if base._is_compartment:
        raise ValueError(f"{action} needs a Branch or Cell; a Compartment has no branch to split")
    nodes = base._nodes
    selected = nodes.loc[module._node_inds, "global_branch_index"].to_numpy()
    branches = np.unique(selected)
    counts = np.bincount(selected, minlength=base._topology.n_branches)[branches]
    partial = branches[counts != base._topology.ncomp[branches]]
    if partial.size:
        raise ValueError(
            f"{action} re-discretises whole branches, but the selection covers only part of"
            f" branch(es) {partial.tolist()}; select them with .branch(i)"
        )
    return branches


def _check_min_radius(min_radius) -> None:
    if min_radius is not None:
        real_scalar("min_radius", min_radius, positive=True, unit="µm, or None")


def set_ncomp(module, ncomp: int, min_radius: float | None = None, initialize: bool = True) -> None:
    """Re-discretise every branch of the selection into ``ncomp`` compartments.

    ``cell.branch(3).set_ncomp(4)`` changes one branch, ``cell.set_ncomp(4)`` all of them.
    A branch read from an SWC file is re-integrated over its traced points (the geometry
    ``read_swc`` and NEURON would give with that ``ncomp``); other branches are cylinders
    of equal compartment length (total / ncomp) with their radius. Channels, groups and
    parameter values are copied to the new compartments. The module's ``.nodes`` and node
    numbering are rebuilt in place, so views made earlier (this one included) are stale:
    using them raises :class:`~simulator.modules.view.StaleViewError`.

    Args:
        ncomp: new number of compartments per selected branch (positive int).
        min_radius: raise smaller radii (µm) to this value in the new compartments.
        initialize: accepted for compatibility and ignored: the module is always ready
            to simulate after the call.

    Raises:
        ValueError: the module has recordings, stimuli, clamps or trainable parameters
            (they refer to node indices that change); the selection covers part of a
            branch; inside a selected branch a channel or group covers only some
            compartments, or a parameter or state differs between compartments (it
            cannot be redistributed); a branch without (unmodified) traced points has a
            non-uniform radius.
    """
    del initialize
    n = check_ncomp(ncomp)
    _check_min_radius(min_radius)
    branches = _selected_branches(module, "set_ncomp")
    set_branch_ncomp(module.base, {int(b): n for b in branches}, min_radius,
                     f"set_ncomp({n}) of branch(es) {branches.tolist()}")


def set_ncomp_d_lambda(module, d_lambda: float = 0.1, frequency: float = 100.0,
                       min_radius: float | None = None) -> dict[int, int]:
    """Apply NEURON's d_lambda rule to every branch of the selection.

    Each branch gets ``int((L / (d_lambda * lambda_f(frequency)) + 0.9) / 2) * 2 + 1``
    compartments, with its own length, radius profile (traced points of SWC cells, as
    NEURON's ``lambda_f``), capacitance and axial resistivity: set those first. Only
    branches whose count changes are re-discretised (see :meth:`set_ncomp` for what is
    refused).

    Returns:
        global branch index -> new ncomp, for every selected branch.
    """
    _check_min_radius(min_radius)
    branches = _selected_branches(module, "set_ncomp_d_lambda")
    rule = DLambdaRule(d_lambda=d_lambda, frequency=frequency)
    base = module.base
    _, columns, first = branch_columns(base)
    wanted = {int(b): branch_d_lambda_ncomp(base, int(b), rule, columns, first) for b in branches}
    changed = {b: n for b, n in wanted.items() if n != base._topology.ncomp[b]}
    check_no_indexed_data(base, "set_ncomp_d_lambda")
    if changed:
        what = f"set_ncomp_d_lambda({d_lambda!r}) giving branch -> ncomp {changed}"
        set_branch_ncomp(base, changed, min_radius, what)
    return wanted


def distance_from(module, view, kind: str = "path") -> np.ndarray:
    """Distance (µm) from the single compartment ``view`` to each compartment here.

    Args:
        view: one compartment of the same module, e.g. ``cell.soma.branch(0).loc(0.5)``.
        kind: ``"path"`` (along the cable, between compartment centres) or
            ``"euclidean"`` (straight line; needs 3-D coordinates, i.e. an SWC cell).

    Returns:
        (n,) numpy array in the order of this selection's ``.nodes``, e.g.
        ``cell.set("HH_gNa", 0.12 * np.exp(-cell.distance_from(site) / 200))``.
    """
    module_argument("distance_from: view", view,
                    "one compartment of the same module, e.g. cell.branch(0).loc(0.5)")
    return distance.distance_from(module, view, kind)
