"""The level of a module or view (network, cell, branch, compartment): what it iterates over."""

from __future__ import annotations

#: ``selection._subview``'s control column -> the level of the view it makes.
_LEVEL_OF_CONTROL = {"global_cell_index": "cell", "global_branch_index": "branch",
                     "global_comp_index": "comp"}


def level_of(module) -> str:
    """``"network"``, ``"cell"``, ``"branch"`` or ``"comp"`` for a base module (from its
    class) and for views made by ``.cell``/``.branch``/``.comp``/``.loc``; ``"view"`` for
    other views (groups, channels, ``select``)."""
    if not module._is_view:
        return ("comp", "branch", "cell", "network")[module._depth]
    return module.__dict__.get("_level", "view")


def mark_level(view, module, control: str):
    """Record on ``view`` (made from ``module`` with ``_subview``'s ``control``) its level;
    returns ``view``."""
    view._level = level_of(module) if control == "keep" else _LEVEL_OF_CONTROL.get(
        control, "view")
    return view
