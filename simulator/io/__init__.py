"""Morphology input/output as networkx graphs (jaxley 0.14's ``jaxley.io``); see
:mod:`simulator.io.graph`. Needs networkx (the ``graph`` extra) when a function runs."""
