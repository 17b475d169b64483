"""Electrode ↔ compartment transfer matrices for recording and stimulation.

Recording: the potential at each contact (mV) per nA of transmembrane current of each
compartment, V_contacts = M @ I_membrane, M of shape (n_contacts, n_comps) in mV/nA
(multiply by 1000 for µV/nA). Each compartment is a point source at its segment's midpoint
(``model="point"``) or a line source along its segment (``model="line"``, Holt & Koch); a
contact records the weighted mean over its points.

Stimulation: the extracellular potential V_e at each compartment (mV) per µA of each
contact, V_e = S @ I_contacts, S of shape (n_comps, n_contacts) in mV/µA (1 µA = 1000 nA).
Each point of a contact is a point source carrying its weight's share of the contact
current; ``model="point"`` evaluates V_e at the compartment centre, ``model="line"``
averages it over the compartment's segment (by reciprocity, 1000 × the transpose of the
recording line-source matrix).

Both are pure functions of (segments, electrode, medium): jit them, vmap or grad over the
electrode's positions and σ. Pass :class:`Segments` (from :func:`module_segments`, once,
outside ``jit``) or a module.
"""

from __future__ import annotations

import jax.numpy as jnp

from simulator.extracellular.electrode import Electrode
from simulator.extracellular.line_source import line_source_matrix
from simulator.extracellular.medium import DEFAULT_SIGMA, Medium
from simulator.extracellular.point_source import point_source_matrix
from simulator.extracellular.segments import Segments, module_segments

MODELS = ("point", "line")
#: nA per µA (contact currents are in µA, the forward formulas in nA).
NA_PER_UA = 1000.0


def electrode_matrix(segments_or_module, electrode: Electrode,
                     medium: Medium | float = DEFAULT_SIGMA, model: str = "point"):
    """Recording matrix (n_contacts, n_comps) in mV/nA (see the module docstring)."""
    segments = _segments(segments_or_module)
    radii = segments.diameters / 2.0
    points = electrode.positions.reshape(-1, 3)
    if _model(model) == "point":
        per_point = point_source_matrix(points, segments.midpoints, medium, radii[None, :])
    else:
        per_point = line_source_matrix(points, segments.starts, segments.ends, medium, radii)
    per_point = per_point.reshape(electrode.n_contacts, electrode.n_points, -1)
    return jnp.einsum("cp,cpn->cn", electrode.weights, per_point)


def stimulation_matrix(segments_or_module, electrode: Electrode,
                       medium: Medium | float = DEFAULT_SIGMA, model: str = "point"):
    """Stimulation matrix (n_comps, n_contacts) in mV/µA (see the module docstring)."""
    segments = _segments(segments_or_module)
    if _model(model) == "line":
        return NA_PER_UA * electrode_matrix(segments, electrode, medium, "line").T
    radii = segments.diameters / 2.0
    points = electrode.positions.reshape(-1, 3)
    per_point = point_source_matrix(segments.centres, points, medium, radii[:, None])
    per_point = per_point.reshape(-1, electrode.n_contacts, electrode.n_points)
    return NA_PER_UA * jnp.einsum("cp,ncp->nc", electrode.weights, per_point)


def _segments(segments_or_module) -> Segments:
    if isinstance(segments_or_module, Segments):
        return segments_or_module
    return module_segments(segments_or_module)


def _model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    return model
