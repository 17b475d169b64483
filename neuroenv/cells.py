"""Ready-made neurons for the task suite."""

from __future__ import annotations

import simulator as jx
from neuroenv.neuron_env import NeuronEnv
from simulator.channels import HH


def hh_cell(v_rest: float = -65.0):
    """Three-branch HH cell, 4 compartments per branch, gates at rest.

    The root branch (the soma, radius 10 µm) carries two dendrites (radius 1 µm); total
    membrane area 3,016 µm² (capacitance 30 pF): 0.1 nA moves the cell by about 3 mV/ms.

    Returns:
        (cell, soma) with the soma (branch 0, compartment 0) recorded.
    """
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0, 0])
    cell.branch(0).set("radius", 10.0)
    cell.insert(HH())
    cell.set("v", v_rest)
    cell.init_states()
    soma = cell.branch(0).comp(0)
    soma.record(verbose=False)
    return cell, soma


def soma_env(task, **env_kwargs):
    """A :class:`~neuroenv.NeuronEnv` of ``task`` on :func:`hh_cell`, stimulated at the soma."""
    cell, soma = hh_cell()
    return NeuronEnv(cell, [soma], task, **env_kwargs)
