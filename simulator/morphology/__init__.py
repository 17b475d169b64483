"""Morphologies: SWC reading, NEURON-compatible tracing and frustum geometry."""
