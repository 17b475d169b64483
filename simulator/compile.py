"""Compile a module: builder tables -> static structure + per-node numeric arrays.

The structure (node numbering, edges, which channels sit where, state and parameter
names) is static and hashable through :attr:`CompiledModule.signature`; the numbers (radii,
conductances, initial states) are plain arrays that jitted code receives as arguments, so
changing them with ``set`` never triggers a retrace.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from simulator.modules.electrodes import compiled_electrodes
from simulator.modules.mechanisms import diffusion_states_of
from simulator.modules.topology import Numbering
from simulator.pumps.pump import Pump
from simulator.static_key import static_key

GEOMETRY_PARAMS = (
    "radius",
    "length",
    "axial_resistivity",
    "capacitance",
    "area",
    "volume",
    "resistive_load_in",
    "resistive_load_out",
)


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledModule:
    """Static structure of a module plus its current numeric values.

    Attributes:
        numbering: node/edge layout (see :class:`~simulator.modules.topology.Numbering`).
        is_comp: (n_nodes,) True for compartments, False for branch points.
        channels: ((channel, node indices), ...) in insertion order (pumps excluded).
        state_names: ``"v"`` and every channel and pump state.
        current_names: membrane current names (``"i_HH"``, ...) of channels and pumps,
            recorded as states.
        param_names: geometry parameters, every channel and pump parameter and the
            ``axial_diffusion_<ion>`` of every diffused state.
        node_arrays: name -> (n_nodes,) float64 values (NaN where a channel is absent, -1 at
            branch points, as in jaxley's ``jaxnodes``).
        pumps: ((pump, node indices), ...) in insertion order.
        ions: the states that pumps act on (``ion_name``s), in order of first appearance.
        diffusion_states: the diffused states (``module.diffuse``), in the order diffused.
        electrodes: ``((name, model, contact names, recorded), ...)`` of the registered
            extracellular electrodes (their values are node arrays, see
            :func:`simulator.modules.electrodes.compiled_electrodes`).
    """

    numbering: Numbering
    is_comp: np.ndarray
    channels: tuple
    state_names: tuple[str, ...]
    current_names: tuple[str, ...]
    param_names: tuple[str, ...]
    node_arrays: dict
    synapses: tuple = ()
    synapse_state_names: tuple[str, ...] = ()
    synapse_param_names: tuple[str, ...] = ()
    pumps: tuple = ()
    ions: tuple[str, ...] = ()
    diffusion_states: tuple[str, ...] = ()
    electrodes: tuple = ()

    @property
    def n_nodes(self) -> int:
        return self.numbering.n_nodes

    @functools.cached_property
    def signature(self) -> tuple:
        """Hashable content key of everything static (all but ``node_arrays``; see
        :func:`structure_key`): equal for identically built modules. Computed at first use."""
        return structure_key(self)


def compile_module(base) -> CompiledModule:
    """Compile ``base`` (a Compartment, Branch, Cell or Network)."""
    numbering = base._numbering
    nodes = base._nodes
    is_comp = np.zeros(numbering.n_nodes, dtype=bool)
    is_comp[numbering.comp_nodes] = True
    channels, pumps, ions, state_names, current_names, param_names = _mechanisms(base)
    diffusion_states = diffusion_states_of(nodes)
    param_names += [_check_diffusion(nodes, ion, state_names) for ion in diffusion_states]
    node_arrays = {}
    for key in (*param_names, *state_names):
        values = np.full(numbering.n_nodes, -1.0)
        values[nodes.index.to_numpy()] = nodes[key].to_numpy(dtype=float)
        node_arrays[key] = values
    synapses, syn_states, syn_params = [], [], []
    edges = base._edges
    for synapse in base._synapses:
        rows = edges[edges["type"] == synapse.name].sort_values("index_within_type")
        pre = rows["pre_index"].to_numpy().astype(np.int64)
        post = rows["post_index"].to_numpy().astype(np.int64)
        synapses.append((synapse, pre, post))
        syn_params += synapse.synapse_params
        syn_states += synapse.synapse_states
        for key in (*synapse.synapse_params, *synapse.synapse_states):
            node_arrays[key] = rows[key].to_numpy(dtype=float)
    electrodes = compiled_electrodes(base, node_arrays)
    return CompiledModule(
        numbering=numbering, is_comp=is_comp, channels=tuple(channels),
        state_names=tuple(state_names), current_names=tuple(current_names),
        param_names=tuple(param_names), node_arrays=node_arrays, synapses=tuple(synapses),
        synapse_state_names=tuple(syn_states), synapse_param_names=tuple(syn_params),
        pumps=tuple(pumps), ions=tuple(ions), diffusion_states=tuple(diffusion_states),
        electrodes=electrodes,
    )


def _mechanisms(base) -> tuple[list, ...]:
    """``(channels, pumps, ions, state_names, current_names, param_names)`` of the inserted
    channels and pumps, in insertion order (``channels``/``pumps``: (mechanism, node
    indices) pairs)."""
    nodes = base._nodes
    channels, pumps, ions = [], [], []
    state_names, current_names, param_names = ["v"], [], list(GEOMETRY_PARAMS)
    for channel in base._channels:
        inds = nodes.index[nodes[channel.name].to_numpy(dtype=bool)].to_numpy().astype(np.int64)
        if isinstance(channel, Pump):
            pumps.append((channel, inds))
            if channel.ion_name not in ions:
                ions.append(channel.ion_name)
        else:
            channels.append((channel, inds))
        state_names += [k for k in channel.channel_states if k not in state_names]
        param_names += [k for k in channel.channel_params if k not in param_names]
        if channel.current_name not in current_names:
            current_names.append(channel.current_name)
    for ion in ions:
        if ion not in state_names:
            raise ValueError(
                f"pumps act on {ion!r}, which is not a state of any inserted mechanism; add it"
                " to the pump's channel_states"
            )
    return channels, pumps, ions, state_names, current_names, param_names


def _check_diffusion(nodes, ion: str, state_names: list) -> str:
    """Check the diffused state ``ion`` (a defined state, positive diffusion constants);
    return its parameter name ``axial_diffusion_<ion>``."""
    if ion not in state_names or ion == "v":
        raise ValueError(
            f"{ion!r} is diffused but is not a state of any inserted mechanism (was its"
            f" mechanism deleted?); call delete_diffusion({ion!r})"
        )
    key = f"axial_diffusion_{ion}"
    values = nodes[key].to_numpy(dtype=float)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(
            f"{key} must be finite and strictly positive in every compartment (use a small"
            f" value such as 1e-8 for almost no diffusion), got {values}"
        )
    values = nodes[ion].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"the diffused state {ion!r} must be defined (finite) in every compartment,"
            f" got {values}"
        )
    return key


def structure_key(compiled: CompiledModule) -> tuple:
    """Content key of everything static in ``compiled`` (all fields but the node arrays).

    Mechanisms (channels, pumps, synapses) are keyed by class and attributes, arrays by their
    bytes (:func:`~simulator.static_key.static_key`): two identically built modules have equal
    keys, and any change of structure, of a mechanism's attributes or of its sites changes it.
    """
    static = tuple(
        (field.name, getattr(compiled, field.name))
        for field in dataclasses.fields(compiled)
        if field.name != "node_arrays"
    )
    return static_key(static)
