"""The module base class: data a module owns and the attribute name space.

A base module (Compartment, Branch, Cell, Network) owns one pandas table ``.nodes`` (one row
per compartment, index = node index), its :class:`~simulator.modules.topology.Topology`, the
inserted mechanisms, groups, recordings, external inputs and trainable parameters. A
:class:`~simulator.modules.view.View` owns nothing: it is a set of node indices into a base
module and every mutation through it writes into the base.

The state lives in :class:`~simulator.modules.data.ModuleData` (``module._data``); the
operations are plain functions, one concern per file (selection, mechanisms, groups, io,
parameters, edges, layout, drawing, morphology_ops), and each method here is one of them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from simulator.modules import (
    drawing,
    exp_euler_custom,
    exp_euler_matrix,
    io,
    iteration,
    layout,
    mechanisms,
    morphology_ops,
    parameters,
    selection,
    summary,
    view_scoped,
)
from simulator.modules import edges as edge_ops
from simulator.modules import electrodes as electrode_ops
from simulator.modules import groups as group_ops
from simulator.modules.data import build_data
from simulator.modules.graph_export import GraphExportMixin, to_graph  # noqa: F401 (jaxley path)
from simulator.modules.module_type import ModuleType
from simulator.modules.simulation_api import SimulationMethods
from simulator.modules.topology import Topology


def _field(name: str, doc: str | None = None) -> property:
    """Field ``name`` of this base module's data, read and written."""
    return property(lambda self: getattr(self._data, name),
                    lambda self, value: setattr(self._data, name, value), doc=doc)


def _of_base(name: str) -> property:
    """Field ``name`` of the data of the module that owns this selection (read only)."""
    return property(lambda self: getattr(self.base._data, name),
                    doc=f"The owner's :attr:`~simulator.modules.data.ModuleData.{name}`.")


class Module(ModuleType, summary.SummaryAttributes, SimulationMethods, GraphExportMixin):
    """Base class of every simulator module and view (see the module docstring)."""

    #: The class of this module's views (:class:`~simulator.modules.view.View`, which
    #: subclasses Module, so each concrete module class names it).
    _view_type: type
    #: Dimensions of ``.shape``: the last ``_depth`` of (cells, branches, compartments).
    _depth: int
    #: A Compartment has no branch to re-discretise.
    _is_compartment = False
    _scope = "local"
    _explicit_branches = False

    # The operations, one concern per file; each method is the function of that name.
    cell = selection.cell
    branch = selection.branch
    comp = selection.comp
    loc = selection.loc
    select = selection.select
    scope = selection.scope
    set_scope = selection.set_scope
    __getitem__ = selection.__getitem__
    shape = property(selection.shape)
    cells = property(iteration.cells)
    branches = property(iteration.branches)
    comps = property(iteration.comps)
    __iter__ = iteration.iterate
    __enter__ = iteration.enter
    __exit__ = iteration.leave
    insert = mechanisms.insert
    delete = mechanisms.delete
    init_states = mechanisms.init_states
    diffuse = mechanisms.diffuse
    delete_diffusion = mechanisms.delete_diffusion
    pumps = property(mechanisms.pumps)
    diffusion_states = property(mechanisms.diffusion_states)
    add_to_group = group_ops.add_to_group
    record = edge_ops.record
    delete_recordings = view_scoped.delete_recordings
    stimulate = io.stimulate
    clamp = edge_ops.clamp
    delete_stimuli = view_scoped.delete_stimuli
    delete_clamps = view_scoped.delete_clamps
    data_stimulate = io.data_stimulate
    add_electrode = electrode_ops.add_electrode
    stimulate_extracellular = electrode_ops.stimulate_extracellular
    data_stimulate_extracellular = electrode_ops.data_stimulate_extracellular
    record_extracellular = electrode_ops.record_extracellular
    data_clamp = edge_ops.data_clamp
    set = edge_ops.set
    data_set = edge_ops.data_set
    make_trainable = edge_ops.make_trainable
    get_parameters = parameters.get_parameters
    delete_trainables = view_scoped.delete_trainables
    write_trainables = parameters.write_trainables
    to_jax = parameters.to_jax
    num_trainable_params = property(parameters.num_trainable_params)
    edge = edge_ops.edge
    copy_node_property_to_edges = edge_ops.copy_node_property_to_edges
    edges = property(edge_ops.edges)
    _select_edges = edge_ops._select_edges
    _append_synapses = edge_ops._append_synapses
    compute_xyz = layout.compute_xyz
    compute_compartment_centers = layout.compute_compartment_centers
    vis = drawing.vis
    move = layout.move
    move_to = layout.move_to
    rotate = layout.rotate
    customize_solver_exp_euler = exp_euler_custom.customize_solver_exp_euler
    build_exp_euler_transition_matrix = exp_euler_matrix.build_exp_euler_transition_matrix
    solver_customizers = property(exp_euler_custom.solver_customizers)
    set_ncomp = morphology_ops.set_ncomp
    set_ncomp_d_lambda = morphology_ops.set_ncomp_d_lambda
    distance_from = morphology_ops.distance_from

    def __init__(self) -> None:
        self._is_view = False

    def _init_data(self, comp_table: pd.DataFrame, topology: Topology, channels=(), groups=(),
                   xyzr=None, change: str = "a rebuild of its compartment table") -> None:
        """Own ``comp_table`` (one row per compartment, global compartment order).

        Called again on a built module (``set_ncomp`` and other structural operations) it
        renumbers the rows: that is logged as the structural change ``change`` (e.g.
        ``"set_ncomp(4) of branch(es) [0]"``), and every view made before it is stale from
        then on (:class:`~simulator.modules.view.StaleViewError` names ``change``).
        """
        old = self.__dict__.get("_data")
        if old is not None and len(old.edges):
            raise ValueError(
                "this module has synapses, whose compartment indices would change: change its"
                " compartments before connecting cells"
            )
        self._data = build_data(comp_table, topology, channels, groups, xyzr,
                                () if old is None else [*old.structure_log, change])
        layout.ensure_coordinates(self)  # jaxley fills x, y, z at construction

    @property
    def base(self) -> Module:
        """The module that owns the data (``self`` for a base module)."""
        return self

    # A base module selects all its rows and synapses, sharing one parameter (a View holds its own).
    _node_inds = property(lambda self: self._nodes.index.to_numpy())
    _controlled_by = property(lambda self: np.zeros(len(self._nodes), dtype=np.int64))
    _edge_inds = property(lambda self: self._edges.index.to_numpy())
    _edge_controlled_by = property(lambda self: np.zeros(len(self._edges), dtype=np.int64))

    @property
    def nodes(self) -> pd.DataFrame:
        """One row per compartment (index = node index); see the README for the columns."""
        return self._nodes

    # The base's data (views have none: on a view these raise AttributeError).
    _nodes = _field("nodes")
    _topology = _field("topology")
    _numbering = _field("numbering")
    _channels = _field("channels")
    _groups = _field("groups")
    _recordings = _field("recordings")
    _externals = _field("externals")
    _external_inds = _field("external_inds")
    _trainable_params = _field("trainable_params")
    _indices_set_by_trainables = _field("indices_set_by_trainables")
    _edges = _field("edges")
    _synapses = _field("synapses")
    _compiled = _field("compiled")
    xyzr = property(summary.xyzr_of, summary.set_xyzr, doc=summary.xyzr_of.__doc__)
    channels = property(mechanisms.channels_of, doc=mechanisms.channels_of.__doc__)
    groups = _of_base("groups")
    recordings = property(view_scoped.recordings_of)
    externals = property(view_scoped.externals_of)
    external_inds = property(view_scoped.external_inds_of)
    trainable_params = property(summary.trainable_params_of)
    indices_set_by_trainables = property(summary.indices_set_by_trainables_of)
    topology = _of_base("topology")
    synapses = _of_base("synapses")

    @property
    def initialized(self) -> bool:
        return True

    def _invalidate(self) -> None:
        """Drop compiled data after a mutation (``to_jax`` recompiles)."""
        self.base._data.compiled = None

    def __getstate__(self) -> dict:
        # Pickle (the save/load mechanism) without the compiled module: it is rebuilt on
        # demand anyway.
        state = dict(self.__dict__)
        if "_data" in state:
            state["_data"] = dataclasses.replace(state["_data"], compiled=None)
        return state

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: group and channel names become views.
        if name.startswith("_"):
            raise AttributeError(name)
        base = self.base
        if name in base._groups or name in {c.name for c in base._channels}:
            kind = "group" if name in base._groups else "channel"
            mask = selection.view_table(self)[name].to_numpy(dtype=bool)
            return selection._subview(self, mask, "group", what=f"{kind} {name!r}")
        if name in {s.name for s in base._synapses}:
            return edge_ops._synapse_type_view(self, name)
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r}; groups: {base._groups}, "
            f"channels: {[c.name for c in base._channels]}, "
            f"synapses: {[s.name for s in base._synapses]}"
        )

    def __repr__(self) -> str:
        kind = type(self).__name__
        return (
            f"{kind} with {len(self.channels)} different channels and "
            f"{len(self._node_inds)} compartments. Use `.nodes` for details."
        )

    def __len__(self) -> int:
        return len(self._node_inds)
