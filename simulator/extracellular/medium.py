"""Volume conductor: an infinite homogeneous medium of conductivity σ (S/m).

``Medium(0.3)`` is isotropic; ``Medium((σx, σy, σz))`` is anisotropic with the principal
axes along x, y, z. σ is a pytree leaf, so ``jax.vmap`` and ``jax.grad`` run over it
(e.g. ``jax.grad(lambda s: f(Medium(s)))``). Checks (finite, > 0) run when σ is concrete.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from simulator.extracellular.checks import is_concrete, positive_array

#: Conductivity of grey matter (S/m), the usual default (LFPykit's too).
DEFAULT_SIGMA = 0.3


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False)
class Medium:
    """Homogeneous volume conductor.

    Attributes:
        sigma: conductivity in S/m, shape () (isotropic) or (3,) (σx, σy, σz).
    """

    sigma: jax.Array

    def __init__(self, sigma=DEFAULT_SIGMA):
        if is_concrete(sigma):
            arr = positive_array("sigma", sigma, "S/m")
            if arr.shape not in ((), (3,)):
                raise ValueError(
                    "sigma must be a number (isotropic) or three numbers (σx, σy, σz) in"
                    f" S/m; got shape {arr.shape}: {arr.tolist()}"
                )
        object.__setattr__(self, "sigma", jnp.asarray(sigma))

    @property
    def anisotropic(self) -> bool:
        """True for a (σx, σy, σz) medium (decided by the shape, static under tracing)."""
        return jnp.ndim(self.sigma) == 1

    def tree_flatten(self):
        return (self.sigma,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        del aux
        obj = object.__new__(cls)
        object.__setattr__(obj, "sigma", children[0])
        return obj


def as_medium(medium) -> Medium:
    """A :class:`Medium` from a Medium, a number or three numbers (S/m)."""
    return medium if isinstance(medium, Medium) else Medium(medium)
