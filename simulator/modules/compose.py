"""Building modules out of smaller ones (compartments -> branch -> cell -> network)."""

from __future__ import annotations

import warnings

import pandas as pd

from simulator.modules.columns import BOOKKEEPING_COLUMNS
from simulator.modules.mechanisms import require_same_diffusion
from simulator.modules.module_type import ModuleType


def compose(parts: list) -> tuple[pd.DataFrame, list, list[str]]:
    """Concatenate the compartment tables of ``parts`` in order.

    Returns the table (one row per compartment), the union of their channels (first
    occurrence wins; two different channels with one name are an error) and their groups.
    Parts must be base modules (not views). Their recordings, stimuli, clamps and trainable
    parameters refer to node indices that change when modules are combined: they are left
    behind, as in jaxley (the new module has none), with a :class:`UserWarning` each.
    Parts must diffuse the same states (ValueError otherwise; see
    :func:`~simulator.modules.mechanisms.require_same_diffusion`).
    """
    channels: dict[str, object] = {}
    groups: list[str] = []
    tables = []
    for part in parts:
        if not isinstance(part, ModuleType) or part._is_view:
            raise TypeError(f"expected a Compartment, Branch or Cell (not a view), got {part!r}")
        for count, what, instead in (
            (len(part.recordings), "recordings", "record"),
            (len(part.externals), "stimuli or clamps", "stimulate or clamp"),
            (len(part.trainable_params), "trainable parameters", "make_trainable"),
        ):
            if count:
                warnings.warn(
                    f"a part of the new module has {count} {what}; they are not carried over"
                    f" (as in jaxley): {instead} on the combined module instead",
                    UserWarning, stacklevel=3)
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
    require_same_diffusion(parts)
    # One concat, then one drop (a drop per part dominated building large networks).
    table = pd.concat(tables, ignore_index=True).drop(columns=list(BOOKKEEPING_COLUMNS))
    for name in [*channels, *groups]:
        table[name] = table[name].astype("boolean").fillna(False).astype(bool)
    return table, list(channels.values()), groups
