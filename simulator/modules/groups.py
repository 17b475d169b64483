"""Groups: named sets of compartments (``add_to_group``), accessible as ``module.<name>``."""

from __future__ import annotations

from simulator.modules.columns import RESERVED_NAMES
from simulator.modules.selection import require_compartments


def add_to_group(module, group_name: str) -> None:
    """Add the compartments of this selection to group ``group_name``.

    Creates the boolean column ``group_name`` (False elsewhere) on first use; later calls
    add compartments. The group is then the view ``module.<group_name>`` (one shared
    trainable parameter, like a channel name) and travels along when the module becomes
    part of a bigger one.

    Raises:
        ValueError: the name is not a valid attribute name, or it is already a channel, a
            parameter or state column, a reserved column or a method of modules.
    """
    if not isinstance(group_name, str):
        raise TypeError(f"a group name must be a str, got {group_name!r}")
    if not group_name.isidentifier() or group_name.startswith("_"):
        raise ValueError(
            f"group name {group_name!r} must be a Python identifier not starting with '_'"
            " (groups are accessed as attributes: module.<name>)"
        )
    require_compartments(module, f"add_to_group({group_name!r})")
    base = module.base
    if group_name in {c.name for c in base._channels}:
        raise ValueError(
            f"group name {group_name!r} is already a channel name; choose another name"
        )
    if group_name in RESERVED_NAMES:
        raise ValueError(f"group name {group_name!r} is a reserved column of .nodes")
    nodes = base._nodes
    if group_name not in base._groups and group_name in nodes.columns:
        raise ValueError(
            f"group name {group_name!r} is already a column of .nodes (a channel parameter"
            " or state); choose another name"
        )
    if hasattr(type(base), group_name):
        raise ValueError(
            f"group name {group_name!r} is a module attribute (module.{group_name} would not"
            " reach the group); choose another name"
        )
    if group_name not in base._groups:
        nodes[group_name] = False
        base._groups.append(group_name)
    nodes.loc[module._node_inds, group_name] = True
    module._invalidate()
