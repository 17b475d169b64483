"""``TypeOptimizer``: one optax optimizer per parameter entry, configured by parameter name
(jaxley's ``jaxley.optimize.TypeOptimizer``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TypeOptimizer"]


def _single_name(entry, position: int) -> str:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ValueError(f"TypeOptimizer: opt_params[{position}] must be a dict with exactly"
                         f" one parameter name (as get_parameters() returns), got {entry!r}")
    return next(iter(entry))


class TypeOptimizer:
    """An optax-style optimizer whose settings depend on the parameter's name.

    Example::

        lrs = {"HH_gNa": 0.01, "radius": 1.0}
        optimizer = TypeOptimizer(lambda lr: optax.adam(lr), lrs, opt_params)
        opt_state = optimizer.init(opt_params)
        updates, opt_state = optimizer.update(grads, opt_state)

    Args:
        optimizer: ``args -> optax.GradientTransformation``; called once per entry of
            ``opt_params`` with ``optimizer_args[name]``.
        optimizer_args: parameter name -> the argument(s) passed to ``optimizer`` for it
            (e.g. a learning rate, or a list of them).
        opt_params: the parameters, a list of one-key dicts (``get_parameters()``); only
            their number and names are used.

    Attributes:
        base_optimizer: ``optimizer`` as given.
        optimizers: one ``{name: optax optimizer}`` per entry of ``opt_params``.

    Raises:
        ValueError: an entry of ``opt_params`` is not a one-key dict, or its name has no
            entry in ``optimizer_args``.
    """

    def __init__(self, optimizer: Callable, optimizer_args: dict[str, Any],
                 opt_params: list[dict]) -> None:
        if not callable(optimizer):
            raise TypeError(f"TypeOptimizer: optimizer must be callable (args -> optax"
                            f" optimizer), got {optimizer!r}")
        self.base_optimizer = optimizer
        self.optimizers = []
        for position, entry in enumerate(opt_params):
            name = _single_name(entry, position)
            if name not in optimizer_args:
                raise ValueError(f"TypeOptimizer: optimizer_args has no entry for parameter"
                                 f" {name!r} (has {sorted(optimizer_args)})")
            self.optimizers.append({name: optimizer(optimizer_args[name])})

    def _check_length(self, tree: list, what: str) -> None:
        if len(tree) != len(self.optimizers):
            raise ValueError(f"TypeOptimizer: {what} has {len(tree)} entries, expected"
                             f" {len(self.optimizers)} (one per entry of opt_params)")

    def init(self, opt_params: list[dict]) -> list:
        """Optimizer states, one per entry (as ``optax``'s ``init``)."""
        self._check_length(opt_params, "opt_params")
        return [next(iter(opt.values())).init(params)
                for params, opt in zip(opt_params, self.optimizers, strict=True)]

    def update(self, gradient: list, opt_state: list) -> tuple[list, list]:
        """``(updates, new_opt_state)`` from the gradients (as ``optax``'s ``update``)."""
        self._check_length(gradient, "gradient")
        self._check_length(opt_state, "opt_state")
        updates, states = [], []
        for grad, state, opt in zip(gradient, opt_state, self.optimizers, strict=True):
            update, new_state = next(iter(opt.values())).update(grad, state)
            updates.append(update)
            states.append(new_state)
        return updates, states
