"""Morphologies: SWC reading, NEURON-compatible tracing and frustum geometry."""

from simulator.morphology.discretize import (
    d_lambda_ncomp,
    d_lambda_ncomp_traced,
    d_lambda_rule,
    lambda_f,
)
from simulator.morphology.distance import euclidean_distance, path_distance
from simulator.morphology.jaxley_distance import distance_direct, distance_pathwise

__all__ = [
    "d_lambda_ncomp",
    "d_lambda_ncomp_traced",
    "d_lambda_rule",
    "distance_direct",
    "distance_pathwise",
    "euclidean_distance",
    "lambda_f",
    "morph_connect",
    "morph_delete",
    "path_distance",
]


def __getattr__(name: str):
    """``morph_connect`` and ``morph_delete``, imported on first use: they build modules,
    and ``simulator.modules`` itself imports this package."""
    if name in ("morph_connect", "morph_delete"):
        from simulator.morphology import morph_edit

        return getattr(morph_edit, name)
    raise AttributeError(f"module 'simulator.morphology' has no attribute {name!r}")
