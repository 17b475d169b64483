"""Inserting, deleting and initialising ion channels and pumps; ion diffusion.

Pumps (:class:`simulator.pumps.Pump`) are inserted like channels and kept in the same
insertion-ordered list (so views, recordings and composition treat them alike); the
simulation steps channels first and pumps after them. A state is *diffused* when the
column ``axial_diffusion_<state>`` exists in ``.nodes`` (written by :meth:`diffuse`), so the
setting survives composition, ``set_ncomp`` and pickling with the table itself.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from simulator.channels.channel import Channel
from simulator.modules.arguments import real_scalar
from simulator.modules.columns import GEOMETRY_PARAMS, RESERVED_NAMES
from simulator.modules.selection import require_compartments, require_whole_module, view_table
from simulator.pumps.pump import Pump
from simulator.static_key import static_key

#: Column prefix of the axial diffusion constant (µm²/ms) of a diffused state.
DIFFUSION_PREFIX = "axial_diffusion_"


def diffusion_states_of(nodes) -> list[str]:
    """The diffused states of a ``.nodes`` table, in the order they were diffused."""
    return [c[len(DIFFUSION_PREFIX):] for c in nodes.columns if c.startswith(DIFFUSION_PREFIX)]


def channels_of(module) -> list:
    """The inserted channels and pumps (insertion order) present in this selection.

    A base module lists all of them; a view only those inserted in at least one of its
    compartments (as jaxley's ``View.channels``).
    """
    base = module.base
    if not module._is_view:
        return base._channels
    table = view_table(module)
    return [c for c in base._channels if table[c.name].to_numpy(dtype=bool).any()]


def require_same_diffusion(parts) -> None:
    """Refuse to combine modules that do not all diffuse the same states.

    The combined ``axial_diffusion_<state>`` column would be undefined (NaN) on the parts
    that do not diffuse ``state``. jaxley refuses any diffused part; parts that all diffuse
    the same states give a well-defined module and are accepted.

    Raises:
        ValueError: two parts diffuse different states.
    """
    diffused = [diffusion_states_of(part.nodes) for part in parts]
    for index, states in enumerate(diffused):
        if sorted(states) != sorted(diffused[0]):
            raise ValueError(
                f"parts diffuse different states (part 0: {diffused[0]}, part {index}:"
                f" {states}): the diffusion constants would be undefined in some parts;"
                " diffuse() the same states in every part, or call diffuse() on the"
                " combined module instead"
            )


def pumps(module) -> list:
    """Inserted pumps, in insertion order (they are stepped after every channel)."""
    return [c for c in module.base._channels if isinstance(c, Pump)]


def diffusion_states(module) -> list[str]:
    """States that diffuse along the neurites (see :meth:`diffuse`)."""
    return diffusion_states_of(module.base._nodes)


def diffuse(module, state: str) -> None:
    """Let ``state`` (e.g. an ion concentration ``"CaCon_i"``) diffuse along the neurites.

    Only on a whole module (not a view). Adds the column ``axial_diffusion_<state>``
    (µm²/ms, default 1.0 everywhere; it must stay strictly positive, use e.g. 1e-8 for
    almost none) and sets the state to 0 in compartments where it is undefined. The
    state is then solved with the voltage solver on axial conductances
    ``1 / ((ρ_j/D_j + ρ_i/D_i)·V_i)`` (ρ: half-compartment resistive loads, V: volume);
    pumps acting on it enter as linearised sink/source terms.
    """
    require_whole_module(module, "diffuse()", " (use a tiny axial_diffusion_<state> to keep"
                         " parts almost without diffusion)")
    if not isinstance(state, str):
        raise TypeError(f"diffuse expects the name of a state (a str), got {state!r}")
    nodes = module.base._nodes
    if state == "v" or state.startswith(DIFFUSION_PREFIX):
        raise ValueError(f"cannot diffuse {state!r}")
    state_names = {k for c in module.base._channels for k in c.channel_states}
    if state not in state_names or state not in nodes.columns:
        raise ValueError(
            f"cannot diffuse {state!r}: it is not a state of an inserted channel or pump;"
            f" states: {sorted(state_names)}"
        )
    nodes[f"{DIFFUSION_PREFIX}{state}"] = 1.0
    nodes[state] = nodes[state].fillna(0.0)
    module._invalidate()


def delete_diffusion(module, state: str) -> None:
    """Stop diffusing ``state`` (drops its ``axial_diffusion_<state>`` column)."""
    require_whole_module(module, "delete_diffusion()")
    nodes = module.base._nodes
    diffused = diffusion_states_of(nodes)
    if state not in diffused:
        raise ValueError(f"{state!r} is not diffused; diffused states: {diffused}")
    module.base._nodes = nodes.drop(columns=[f"{DIFFUSION_PREFIX}{state}"])
    module._invalidate()


def insert(module, channel) -> None:
    """Insert ``channel`` into every compartment of this selection.

    Writes the channel's default parameters and states into those compartments
    (overwriting earlier values, including shared ones such as ``eK``).
    """
    if not isinstance(channel, Channel):
        hint = (f" (an instance: {channel.__name__}())" if isinstance(channel, type)
                and issubclass(channel, Channel) else "")
        raise TypeError(f"insert expects a Channel instance{hint}, got {channel!r}")
    channel._validate()
    require_compartments(module, f"insert({channel.name})")
    base = module.base
    name = channel.name
    if name in base._groups:
        raise ValueError(f"channel name {name!r} is already a group name; rename the channel")
    keys = {**channel.channel_params, **channel.channel_states}
    clash = sorted(set(keys) & RESERVED_NAMES | ({name} & RESERVED_NAMES))
    if clash:
        raise ValueError(f"channel {name!r} uses reserved names {clash}")
    group_clash = sorted(set(keys) & set(base._groups))
    if group_clash:
        raise ValueError(f"channel {name!r} has parameters or states named like the groups"
                         f" {group_clash}; rename the group")
    registered = {c.name: c for c in base._channels}
    if name in registered and type(registered[name]) is not type(channel):
        raise ValueError(
            f"a different channel named {name!r} ({type(registered[name]).__name__}) is"
            " already inserted; use change_name() to give this one another name"
        )
    if name not in registered and name in base._nodes.columns:
        raise ValueError(
            f"channel name {name!r} is already a column of .nodes (a parameter or state of"
            " another channel); rename the channel with change_name()"
        )
    names_clash = sorted(set(keys) & {c.name for c in base._channels if c.name != name})
    if name in keys or names_clash:
        raise ValueError(
            f"channel {name!r} has parameters or states named like channels"
            f" {names_clash or [name]}; rename them"
        )
    if name not in registered:
        base._channels.append(channel)
    nodes = base._nodes
    rows = module._node_inds
    if name not in nodes.columns:
        nodes[name] = False
    nodes.loc[rows, name] = True
    for key, value in keys.items():
        if key not in nodes.columns:
            nodes[key] = np.nan
        nodes.loc[rows, key] = float(value)
    module._invalidate()


def delete(module, channel) -> None:
    """Remove ``channel`` (instance or name) from the compartments of this selection.

    Raises:
        TypeError: ``channel`` is neither a Channel/Pump instance nor a name.
        ValueError: the channel is not inserted in any compartment of this selection, or
            a recording, clamp or trainable parameter needs one of the states, currents
            or parameters the deletion removes (nothing is deleted then: remove those
            first with ``delete_recordings`` / ``delete_clamps`` / ``delete_trainables``,
            or delete the channel only where nothing refers to it).
    """
    base = module.base
    name, chan = _registered_channel(base, channel)
    nodes = base._nodes
    rows = module._node_inds
    here = nodes.loc[rows, name].to_numpy(dtype=bool)
    if not here.any():
        present = [c.name for c in base._channels
                   if nodes.loc[rows, c.name].to_numpy(dtype=bool).any()]
        raise ValueError(
            f"cannot delete {name!r}: it is not inserted in any of the {len(rows)}"
            f" compartments of this selection (inserted here: {present or 'no channel'};"
            f" {name!r} is in {int(nodes[name].sum())} other compartments of the module)"
        )
    cleared = _cleared_keys(base, chan, rows, here)
    _refuse_if_needed(base, name, cleared)
    nodes.loc[rows, name] = False
    for key, lost in cleared.items():
        if key in nodes.columns:
            nodes.loc[lost, key] = np.nan
    if not nodes[name].any():
        base._channels.remove(chan)
        used = {k for other in base._channels for k in _keys(other)}
        base._nodes = nodes.drop(
            columns=[name] + [k for k in _keys(chan) if k not in used and k in nodes.columns])
    module._invalidate()


def init_states(module, delta_t: float = 0.025) -> None:
    """Set every channel's states to its steady state at the current voltages.

    Calls ``channel.init_state(states, v, params, delta_t)`` for each channel on the
    compartments of this selection that carry it and writes the result into ``.nodes``.
    """
    delta_t = real_scalar("init_states: delta_t", delta_t, positive=True, unit="ms")
    require_compartments(module, "init_states")
    nodes = module.base._nodes
    view = nodes.loc[module._node_inds]
    for channel in module.base._channels:
        rows = view.index[view[channel.name].to_numpy(dtype=bool)]
        if len(rows) == 0:
            continue
        table = nodes.loc[rows]
        states = {k: table[k].to_numpy() for k in channel.channel_states}
        params = {k: table[k].to_numpy() for k in (*channel.channel_params, *GEOMETRY_PARAMS)}
        new = _steady_state(channel, states, table["v"].to_numpy(), params, delta_t)
        for key, value in new.items():
            nodes.loc[rows, key] = np.broadcast_to(np.asarray(value, dtype=float), len(rows))
    module._invalidate()


def _steady_state(channel, states: dict, v, params: dict, delta_t: float) -> dict:
    """``channel.init_state`` as one compiled program (a new process loads it from the
    persistent compilation cache at once, instead of one program per array operation),
    shared by channels of equal content (a ``jax.jit`` of the bound method compiled again
    at every call: 504 compilations in one test run); evaluated eagerly if the channel's
    code needs concrete values (e.g. a Python ``if`` on a parameter)."""
    try:
        return _init_state_program(_ByContent(channel), states, v, params, delta_t)
    except jax.errors.JAXTypeError:  # concretization of a traced value in user code
        return channel.init_state(states, v, params, delta_t)


class _ByContent:
    """A static argument of ``jax.jit`` compared by content (:func:`static_key`: class and
    attributes), holding the object it keys."""

    __slots__ = ("hash", "key", "obj")

    def __init__(self, obj) -> None:
        self.obj, self.key = obj, static_key(obj)
        self.hash = hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _ByContent) and other.key == self.key

    def __hash__(self) -> int:
        return self.hash


@functools.partial(jax.jit, static_argnums=(0, 4))
def _init_state_program(channel: _ByContent, states, v, params, delta_t):
    return channel.obj.init_state(states, v, params, delta_t)


def _registered_channel(base, channel) -> tuple:
    """``(name, inserted channel)`` for ``delete(channel)`` (a Channel or its name)."""
    if not isinstance(channel, str | Channel):
        raise TypeError(
            f"delete expects a Channel or Pump instance or its name (a str); got {channel!r}"
        )
    name = channel if isinstance(channel, str) else channel.name
    registered = {c.name: c for c in base._channels}
    if name not in registered:
        raise ValueError(f"channel {name!r} is not inserted; inserted: {list(registered)}")
    chan = registered[name]
    if not isinstance(channel, str) and type(channel) is not type(chan):
        raise ValueError(
            f"the channel named {name!r} in this module is a {type(chan).__name__}, not a"
            f" {type(channel).__name__}"
        )
    return name, chan


def _keys(channel) -> tuple[str, ...]:
    return (*channel.channel_params, *channel.channel_states)


def _cleared_keys(base, chan, rows: np.ndarray, here: np.ndarray) -> dict[str, np.ndarray]:
    """Key -> node indices (of ``rows``; ``here``: where ``chan`` is) where deleting
    ``chan`` sets the key to NaN: its parameters, states and current no other channel uses."""
    def lost(uses) -> np.ndarray:
        kept = np.zeros(len(rows), dtype=bool)
        for other in base._channels:
            if other is not chan and uses(other):
                kept |= base._nodes.loc[rows, other.name].to_numpy(dtype=bool)
        return rows[here & ~kept]

    cleared = {key: lost(lambda other, key=key: key in _keys(other)) for key in _keys(chan)}
    cleared[chan.current_name] = lost(lambda other: other.current_name == chan.current_name)
    return cleared


def _refuse_if_needed(base, name: str, cleared: dict[str, np.ndarray]) -> None:
    """ValueError if a recording, clamp or trainable uses a key at a node where deleting
    channel ``name`` would remove it (``cleared``: key -> those node indices)."""
    needs = []
    rec = base._recordings
    for key, lost in cleared.items():
        hit = rec["rec_index"].to_numpy()[(rec["state"] == key).to_numpy()]
        if np.isin(hit, lost).any():
            needs.append(f"recordings of {key!r} (delete_recordings())")
        if key in base._external_inds and np.isin(base._external_inds[key], lost).any():
            needs.append(f"a clamp of {key!r} (delete_clamps({key!r}))")
        for params, indices in zip(base._trainable_params, base._indices_set_by_trainables,
                                   strict=True):
            if key in params and np.isin(np.asarray(indices), lost).any():
                needs.append(f"a trainable parameter {key!r} (delete_trainables())")
    if needs:
        raise ValueError(
            f"cannot delete {name!r} here: {', '.join(dict.fromkeys(needs))} refer to its"
            " states, currents or parameters in these compartments and would fail or read"
            " NaN in integrate; remove them first, then delete the channel"
        )
