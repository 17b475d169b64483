"""Whether a mechanism's ``linear_current`` describes its current (the MRO rule).

Channels and synapses may implement ``linear_current``: the exact slope and intercept of a
current that is linear in the voltage it is linearised in, used by the step instead of a
forward difference. A class inherits that form only together with the current it
describes: the form counts where the class that defines ``compute_current`` (the nearest
in the MRO) also defines ``linear_current``, so a subclass that changes the current alone
is linearised by forward difference again, never by its parent's form.
"""

from __future__ import annotations

__all__ = ["owner", "describes_current"]


def owner(obj, name: str) -> type | None:
    """The class in ``type(obj)``'s MRO that defines ``name`` (None if none does)."""
    return next((k for k in type(obj).__mro__ if name in vars(k)), None)


def describes_current(obj, base: type) -> bool:
    """Whether ``obj.linear_current`` describes ``obj.compute_current`` (module docstring);
    ``base`` is the abstract class whose placeholder ``linear_current`` never counts."""
    defining = owner(obj, "compute_current")
    return defining is not None and defining is not base \
        and defining is owner(obj, "linear_current")
