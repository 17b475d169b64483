"""Building modules out of smaller ones (compartments -> branch -> cell -> network)."""

from __future__ import annotations

import warnings

import pandas as pd

from simulator.modules.columns import BOOKKEEPING_COLUMNS
from simulator.modules.module_type import ModuleType


def compose(parts: list) -> tuple[pd.DataFrame, list, list[str]]:
    """Concatenate the compartment tables of ``parts`` in order.

    Returns the table (one row per compartment), the union of their channels (first
    occurrence wins; two different channels with one name are an error) and their groups.
    Parts must be base modules with no inputs or trainable parameters, since those refer
    to node indices that change when modules are combined. Recordings of parts are left
    behind, as in jaxley (the new module records nothing), with a :class:`UserWarning`.
    """
    channels: dict[str, object] = {}
    groups: list[str] = []
    tables = []
    for part in parts:
        if not isinstance(part, ModuleType) or part._is_view:
            raise TypeError(f"expected a Compartment, Branch or Cell (not a view), got {part!r}")
        if len(part.recordings):
            warnings.warn(
                f"a part of the new module has {len(part.recordings)} recordings; they are not"
                " carried over (as in jaxley): record on the combined module instead",
                UserWarning, stacklevel=3)
        for what, present in (
            ("stimuli or clamps", len(part.externals)),
            ("trainable parameters", len(part.trainable_params)),
        ):
            if present:
                raise ValueError(
                    f"a part of the new module has {what}; they refer to node indices that change"
                    " when modules are combined: add them to the combined module instead"
                )
        for channel in part.channels:
            known = channels.get(channel.name)
            if known is not None and type(known) is not type(channel):
                raise ValueError(
                    f"two different channels are named {channel.name!r}; rename one with"
                    " change_name()"
                )
            channels.setdefault(channel.name, channel)
        groups += [g for g in part.groups if g not in groups]
        clash = sorted(set(groups) & set(channels))
        if clash:
            raise ValueError(
                f"{clash} are group names in one part and channel names in another; rename"
                " the group or the channel"
            )
        tables.append(part.nodes)
    # One concat, then one drop (a drop per part dominated building large networks).
    table = pd.concat(tables, ignore_index=True).drop(columns=list(BOOKKEEPING_COLUMNS))
    for name in [*channels, *groups]:
        table[name] = table[name].astype("boolean").fillna(False).astype(bool)
    return table, list(channels.values()), groups
