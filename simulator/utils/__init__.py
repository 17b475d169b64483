"""jaxley's ``jaxley.utils`` helpers: flat dynamic-state utilities
(:mod:`simulator.utils.dynamics`) and index / geometry helpers (``cell_utils``,
``misc_utils``, ``morph_attributes``)."""
