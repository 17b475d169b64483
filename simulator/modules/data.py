"""The state a base module owns (:class:`ModuleData`) and its builder (:func:`build_data`).

A base module (Compartment, Branch, Cell, Network) holds one :class:`ModuleData` as
``module._data``; views own none and reach their base's through ``view.base._data``. Every
module operation (:mod:`simulator.modules.mechanisms`, ``groups``, ``io``, ...) reads and
writes this object.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from simulator.modules.columns import BOOKKEEPING_COLUMNS, GEOMETRY_COLUMNS
from simulator.modules.edges import empty_edges
from simulator.modules.topology import Numbering, Topology, first_comps, number_nodes


@dataclasses.dataclass(slots=True, eq=False)
class ModuleData:
    """A base module's state (a fixed set of fields; the values are mutable).

    Attributes:
        nodes: one row per compartment, index = node index (see
            :mod:`simulator.modules.columns` for the columns and units).
        topology: branch structure.
        numbering: node and edge layout derived from ``topology``.
        first_comp: (n_branches,) global index of each branch's first compartment.
        channels: inserted channels and pumps, in insertion order.
        groups: group names (each a boolean column of ``nodes``).
        recordings: ``rec_index`` (node or within-type synapse index) and ``state`` per row.
        externals: stimuli ``"i"`` (n, T) nA and clamps per state (n, T).
        external_inds: node (or synapse) index of each row of ``externals``, per key.
        trainable_params: ``{key: (n_params,) array}`` per ``make_trainable`` call.
        indices_set_by_trainables: (n_params, group size) indices of each entry above.
        xyzr: per branch, (n_points, 4) traced points x, y, z, radius in µm (NaN: none).
        edges: one row per synapse (see :mod:`simulator.modules.edges`).
        synapses: synapse types, in the order they were first connected.
        structure_log: the structural changes so far (views made before one are stale).
        compiled: the compiled module (``to_jax``), None after a mutation.
        electrodes: name -> :class:`simulator.modules.electrodes.Entry` (extracellular
            electrodes, in registration order).
    """

    nodes: pd.DataFrame
    topology: Topology
    numbering: Numbering
    first_comp: np.ndarray
    channels: list
    groups: list[str]
    recordings: pd.DataFrame
    externals: dict[str, np.ndarray]
    external_inds: dict[str, np.ndarray]
    trainable_params: list[dict]
    indices_set_by_trainables: list[np.ndarray]
    xyzr: list[np.ndarray]
    edges: pd.DataFrame
    synapses: list
    structure_log: list[str]
    compiled: object = None
    electrodes: dict = dataclasses.field(default_factory=dict)


def node_table(comp_table: pd.DataFrame, topology: Topology,
               numbering: Numbering, first_comp: np.ndarray) -> pd.DataFrame:
    """``comp_table`` (one row per compartment, global order) with local and global indices
    and ``controlled_by_param`` added, indexed by node index."""
    n = topology.n_comps
    branch_of_comp = np.repeat(np.arange(topology.n_branches), topology.ncomp)
    cell_of_comp = topology.cell_of_branch[branch_of_comp]
    _, first_branch_of_cell = np.unique(topology.cell_of_branch, return_index=True)
    table = comp_table.reset_index(drop=True).drop(
        columns=[c for c in BOOKKEEPING_COLUMNS if c in comp_table.columns]
    )
    indices = pd.DataFrame({
        "local_cell_index": cell_of_comp,
        "local_branch_index": branch_of_comp - first_branch_of_cell[cell_of_comp],
        "local_comp_index": np.arange(n) - first_comp[branch_of_comp],
    })
    global_indices = pd.DataFrame({
        "global_cell_index": cell_of_comp,
        "global_branch_index": branch_of_comp,
        "global_comp_index": np.arange(n),
        "controlled_by_param": np.zeros(n, dtype=np.int64),
    })
    mechanism_cols = [c for c in table.columns if c not in GEOMETRY_COLUMNS]
    nodes = pd.concat([indices, table[list(GEOMETRY_COLUMNS)], global_indices,
                       table[mechanism_cols]], axis=1)
    nodes.index = pd.Index(numbering.comp_nodes, name=None)
    return nodes


def build_data(comp_table: pd.DataFrame, topology: Topology, channels=(), groups=(),
               xyzr=None, structure_log=()) -> ModuleData:
    """A fresh :class:`ModuleData` for ``comp_table`` on ``topology``: no recordings,
    inputs, trainables or synapses; ``xyzr`` None means no traced points."""
    numbering = number_nodes(topology)
    first_comp = first_comps(topology.ncomp)
    if xyzr is None:
        xyzr = [np.full((2, 4), np.nan) for _ in range(topology.n_branches)]
    recordings = pd.DataFrame({"rec_index": pd.Series(dtype=np.int64),
                               "state": pd.Series(dtype=object)})
    return ModuleData(
        nodes=node_table(comp_table, topology, numbering, first_comp), topology=topology,
        numbering=numbering, first_comp=first_comp, channels=list(channels),
        groups=list(groups), recordings=recordings, externals={}, external_inds={},
        trainable_params=[], indices_set_by_trainables=[],
        xyzr=[np.asarray(x, dtype=float) for x in xyzr], edges=empty_edges(), synapses=[],
        structure_log=list(structure_log),
    )
