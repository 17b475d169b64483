"""Bijective parameter transforms (jaxley's ``jaxley.optimize.transforms``).

Biophysical parameters are bounded (conductances ≥ 0, radii > 0, ...); gradient descent
works best on unbounded values. A transform maps an unconstrained value ``x`` to the
constrained parameter ``y = forward(x)`` and back with ``inverse(y)``. Every transform acts
elementwise on scalars or arrays of any shape and is pure ``jax.numpy`` (jit/grad/vmap-able).
:class:`ParamTransform` applies a pytree of transforms to a pytree of parameters, e.g. the
list of one-key dicts that ``Module.get_parameters()`` returns.

Units: a transform keeps the unit of its parameter (bounds are in the parameter's unit).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from simulator.solvers.gates import save_exp

__all__ = [
    "AffineTransform",
    "ChainTransform",
    "CustomTransform",
    "IdentityTransform",
    "LogisticTransform",
    "MaskedTransform",
    "NegSoftplusTransform",
    "ParamTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "Transform",
]

#: ``x · π/√3`` has the variance of a standard logistic variable when ``x`` has variance 1.
_LOGISTIC_SCALE = np.pi / np.sqrt(3.0)


def _concrete(value):
    """``value`` as a numpy array, or None when it is traced (checks then skipped)."""
    if isinstance(value, jax.core.Tracer):
        return None
    return np.asarray(value)


class Transform(ABC):
    """A bijection ``forward: R -> D`` with its ``inverse: D -> R`` (elementwise).

    Calling a transform applies :meth:`forward`.
    """

    def __call__(self, x):
        return self.forward(x)

    @abstractmethod
    def forward(self, x):
        """Unconstrained ``x`` (any shape) -> constrained value of the same shape."""

    @abstractmethod
    def inverse(self, y):
        """Constrained ``y`` (any shape) -> unconstrained value of the same shape."""


class IdentityTransform(Transform):
    """``y = x`` (for parameters that need no constraint)."""

    def forward(self, x):
        return x

    def inverse(self, y):
        return y


class SigmoidTransform(Transform):
    """``y = lower + (upper - lower) · sigmoid(x)``: R onto the open interval (lower, upper).

    Args:
        lower: lower bound (scalar or array broadcastable to the parameter).
        upper: upper bound, larger than ``lower`` everywhere.

    Raises:
        ValueError: if a concrete ``upper`` is not larger than ``lower``.
    """

    def __init__(self, lower, upper) -> None:
        lo, hi = _concrete(lower), _concrete(upper)
        if lo is not None and hi is not None and not np.all(hi > lo):
            raise ValueError(f"SigmoidTransform needs upper > lower, got lower={lower!r},"
                             f" upper={upper!r}")
        self.lower = lower
        self.upper = upper
        self.width = upper - lower

    def forward(self, x):
        # exp(-x) is clipped at exp(20) (as jaxley): y stays >= lower + width·2e-9, so
        # inverse(forward(x)) is finite for every x in float64.
        return self.lower + self.width / (1.0 + save_exp(-x))

    def inverse(self, y):
        p = (y - self.lower) / self.width
        return jnp.log(p) - jnp.log1p(-p)


class LogisticTransform(SigmoidTransform):
    """:class:`SigmoidTransform` of ``x · π/√3``: a unit-variance ``x`` gives a latent
    with the variance (π²/3) of the standard logistic distribution.

    Args:
        lower: lower bound. upper: upper bound (> lower).
    """

    def forward(self, x):
        return super().forward(x * _LOGISTIC_SCALE)

    def inverse(self, y):
        return super().inverse(y) / _LOGISTIC_SCALE


class SoftplusTransform(Transform):
    """``y = lower + softplus(x)``: R onto (lower, ∞).

    Args:
        lower: lower bound (scalar or array broadcastable to the parameter).
        threshold: above ``x > threshold`` softplus is replaced by ``x`` (they differ by
            less than ``exp(-threshold)``, 2e-9 for the default 20), which keeps the
            exponential from overflowing.
    """

    def __init__(self, lower, threshold: float = 20.0) -> None:
        self.lower = lower
        self.threshold = threshold

    def forward(self, x):
        soft = jnp.log1p(save_exp(x, self.threshold))
        return jnp.where(x > self.threshold, x, soft) + self.lower

    def inverse(self, y):
        shifted = y - self.lower
        soft = jnp.log(jnp.expm1(jnp.minimum(shifted, self.threshold)))
        return jnp.where(shifted > self.threshold, shifted, soft)


class NegSoftplusTransform(SoftplusTransform):
    """``y = upper - softplus(-x)``: R onto (-∞, upper).

    Args:
        upper: upper bound (scalar or array broadcastable to the parameter).
    """

    def __init__(self, upper) -> None:
        super().__init__(-upper)
        self.upper = upper

    def forward(self, x):
        return -super().forward(-x)

    def inverse(self, y):
        return -super().inverse(-y)


class AffineTransform(Transform):
    """``y = scale · x + shift``.

    Args:
        scale: factor (non-zero; scalar or array). shift: offset (parameter's unit).

    Raises:
        ValueError: if ``scale`` is (close to) zero, where the map cannot be inverted.
    """

    def __init__(self, scale, shift) -> None:
        concrete = _concrete(scale)
        if concrete is not None and np.any(np.isclose(concrete, 0.0)):
            raise ValueError(f"AffineTransform: scale must be non-zero to be invertible,"
                             f" got {scale!r}")
        self.scale = scale
        self.shift = shift

    def forward(self, x):
        return self.scale * x + self.shift

    def inverse(self, y):
        return (y - self.shift) / self.scale


class ChainTransform(Transform):
    """Composition: ``forward`` applies ``transforms`` in order, ``inverse`` in reverse.

    Args:
        transforms: sequence of :class:`Transform`.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        transforms = list(transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"ChainTransform: transforms must be Transform objects,"
                                f" got {t!r}")
        self.transforms = transforms

    def forward(self, x):
        for t in self.transforms:
            x = t.forward(x)
        return x

    def inverse(self, y):
        for t in reversed(self.transforms):
            y = t.inverse(y)
        return y


class MaskedTransform(Transform):
    """``transform`` where ``mask`` is true, identity elsewhere.

    Args:
        mask: boolean array broadcastable to the parameter.
        transform: the :class:`Transform` applied at the masked entries.
    """

    def __init__(self, mask, transform: Transform) -> None:
        if not isinstance(transform, Transform):
            raise TypeError(f"MaskedTransform: transform must be a Transform, got"
                            f" {transform!r}")
        self.mask = mask
        self.transform = transform

    def forward(self, x):
        return jnp.where(self.mask, self.transform.forward(x), x)

    def inverse(self, y):
        return jnp.where(self.mask, self.transform.inverse(y), y)


class CustomTransform(Transform):
    """A transform from user functions.

    Args:
        forward_fn: ``x -> y``. inverse_fn: ``y -> x``, its inverse.
    """

    def __init__(self, forward_fn: Callable, inverse_fn: Callable) -> None:
        for name, fn in (("forward_fn", forward_fn), ("inverse_fn", inverse_fn)):
            if not callable(fn):
                raise TypeError(f"CustomTransform: {name} must be callable, got {fn!r}")
        self.forward_fn = forward_fn
        self.inverse_fn = inverse_fn

    def forward(self, x):
        return self.forward_fn(x)

    def inverse(self, y):
        return self.inverse_fn(y)


class ParamTransform:
    """A pytree of transforms applied to a pytree of parameters.

    Args:
        tf_dict: a pytree of :class:`Transform` (leaves) with the structure of the
            parameters, e.g. ``[{"radius": SigmoidTransform(0.1, 5.0)}, ...]`` for the
            list of dicts of ``get_parameters()``; or one :class:`Transform`, applied to
            every leaf.

    Attributes:
        tf_dict: the transforms as given.
    """

    def __init__(self, tf_dict) -> None:
        self.tf_dict = tf_dict

    def _apply(self, params, method: str):
        if isinstance(self.tf_dict, Transform):
            return jax.tree_util.tree_map(getattr(self.tf_dict, method), params)
        try:
            return jax.tree_util.tree_map(lambda x, tf: getattr(tf, method)(x), params,
                                          self.tf_dict)
        except ValueError as err:
            raise ValueError(f"ParamTransform.{method}: params must have the structure"
                             f" of tf_dict ({jax.tree_util.tree_structure(self.tf_dict)}),"
                             f" got {jax.tree_util.tree_structure(params)}") from err

    def forward(self, params):
        """Unconstrained parameters -> constrained ones (same pytree structure)."""
        return self._apply(params, "forward")

    def inverse(self, params):
        """Constrained parameters -> unconstrained ones (same pytree structure)."""
        return self._apply(params, "inverse")
