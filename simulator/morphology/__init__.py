"""Morphologies: SWC reading, NEURON-compatible tracing and frustum geometry."""

from simulator.morphology.discretize import (
    d_lambda_ncomp,
    d_lambda_ncomp_traced,
    d_lambda_rule,
    lambda_f,
)
from simulator.morphology.distance import euclidean_distance, path_distance

__all__ = [
    "d_lambda_ncomp",
    "d_lambda_ncomp_traced",
    "d_lambda_rule",
    "euclidean_distance",
    "lambda_f",
    "path_distance",
]
