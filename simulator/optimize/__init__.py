"""Parameter optimisation helpers (jaxley's ``jaxley.optimize``): parameter transforms
(:mod:`simulator.optimize.transforms`), per-parameter optax optimizers
(:class:`TypeOptimizer`) and :func:`~simulator.optimize.utils.l2_norm`."""

from simulator.optimize import transforms, utils
from simulator.optimize.optimizer import TypeOptimizer
from simulator.optimize.transforms import ParamTransform

__all__ = ["ParamTransform", "TypeOptimizer", "transforms", "utils"]
