"""simulator: differentiable multicompartment neuron simulation in JAX.

The public API follows jaxley's (same names, argument order, units and
defaults): ``import simulator as jx`` lets its users switch by changing one import.
Units: ms, mV, µm, µF/cm², Ω·cm, S/cm² (channels), mA/cm² (channel currents), nA (stimuli).
"""

from simulator import channels, optimize, pumps, sharding, solver_gate, synapses, utils
from simulator.__version__ import __version__
from simulator.connect import (
    connect,
    connectivity_matrix_connect,
    fully_connect,
    sparse_connect,
)
from simulator.integrate import build_init_and_step_fn, integrate
from simulator.modules.base import Module
from simulator.modules.branch import Branch
from simulator.modules.cell import Cell
from simulator.modules.compartment import Compartment
from simulator.modules.network import Network
from simulator.modules.selection import CompScopeWarning
from simulator.modules.view import View
from simulator.morphology.swc import read_swc
from simulator.optimize import ParamTransform
from simulator.physical_range import PhysicalRangeWarning
from simulator.solvers.stability import NumericalStabilityWarning
from simulator.stimulus import datapoint_to_step_currents, step_current

__all__ = [
    "Branch",
    "Cell",
    "CompScopeWarning",
    "Compartment",
    "Module",
    "Network",
    "NumericalStabilityWarning",
    "ParamTransform",
    "PhysicalRangeWarning",
    "View",
    "__version__",
    "build_init_and_step_fn",
    "channels",
    "connect",
    "connectivity_matrix_connect",
    "datapoint_to_step_currents",
    "fully_connect",
    "integrate",
    "optimize",
    "pumps",
    "read_swc",
    "sharding",
    "solver_gate",
    "sparse_connect",
    "step_current",
    "synapses",
    "utils",
]
