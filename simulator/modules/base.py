"""The module base class: data a module owns and the attribute name space.

A base module (Compartment, Branch, Cell, Network) owns one pandas table ``.nodes`` (one row
per compartment, index = node index), its :class:`~simulator.modules.topology.Topology`, the
inserted mechanisms, groups, recordings, external inputs and trainable parameters. A
:class:`~simulator.modules.view.View` owns nothing: it is a set of node indices into a base
module and every mutation through it writes into the base.

The operations themselves live in mixins, one concern per file: selection (views and
indexing), mechanisms (insert/delete/init_states), inputs and outputs (record, stimulate,
clamp, data_*), groups (add_to_group), parameters (set, data_set, make_trainable,
get_parameters, to_jax).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from simulator.modules.columns import BOOKKEEPING_COLUMNS, GEOMETRY_COLUMNS
from simulator.modules.edges import EdgeMixin, SynapseParameterMixin, empty_edges
from simulator.modules.groups import GroupMixin
from simulator.modules.io import InputOutputMixin
from simulator.modules.layout import LayoutMixin
from simulator.modules.mechanisms import MechanismMixin
from simulator.modules.module_type import ModuleType
from simulator.modules.morphology_ops import MorphologyMixin
from simulator.modules.parameters import ParameterMixin
from simulator.modules.selection import SelectionMixin
from simulator.modules.topology import Topology, first_comps, number_nodes


class Module(ModuleType, SelectionMixin, MechanismMixin, GroupMixin, EdgeMixin,
             SynapseParameterMixin, InputOutputMixin, ParameterMixin, LayoutMixin, MorphologyMixin):
    """Base class of every simulator module and view (see the module docstring)."""

    #: The class of this module's views (:class:`~simulator.modules.view.View`, which
    #: subclasses Module, so each concrete module class names it).
    _view_type: type
    #: A Compartment has no branch to re-discretise.
    _is_compartment = False

    def __init__(self) -> None:
        self._is_view = False

    @staticmethod
    def _is_module_attribute(name: str) -> bool:
        """Whether every module has attribute ``name`` (a group so named would be hidden)."""
        return hasattr(Module, name)

    # ------------------------------------------------------------------ data ownership
    def _init_data(
        self,
        comp_table: pd.DataFrame,
        topology: Topology,
        channels=(),
        groups=(),
        xyzr=None,
    ) -> None:
        """Own ``comp_table`` (one row per compartment, global compartment order).

        Called again on a built module (``set_ncomp`` and other structural operations) it
        renumbers the rows: that is recorded as a structural change, which makes every view
        made before it stale (see :meth:`_structural_change`).
        """
        rebuild = "_nodes" in self.__dict__
        if len(getattr(self, "_edges", ())):
            raise ValueError(
                "this module has synapses, whose compartment indices would change: change its"
                " compartments before connecting cells"
            )
        numbering = number_nodes(topology)
        branch_of_comp = np.repeat(np.arange(topology.n_branches), topology.ncomp)
        first_comp = first_comps(topology.ncomp)
        cell_of_comp = topology.cell_of_branch[branch_of_comp]
        first_branch_of_cell = np.array(
            [np.flatnonzero(topology.cell_of_branch == c)[0] for c in range(topology.n_cells)]
        )
        table = comp_table.reset_index(drop=True).drop(
            columns=[c for c in BOOKKEEPING_COLUMNS if c in comp_table.columns]
        )
        indices = pd.DataFrame(
            {
                "local_cell_index": cell_of_comp,
                "local_branch_index": branch_of_comp - first_branch_of_cell[cell_of_comp],
                "local_comp_index": np.arange(topology.n_comps) - first_comp[branch_of_comp],
            }
        )
        mechanism_cols = [c for c in table.columns if c not in GEOMETRY_COLUMNS]
        nodes = pd.concat(
            [
                indices,
                table[list(GEOMETRY_COLUMNS)],
                pd.DataFrame(
                    {
                        "global_cell_index": cell_of_comp,
                        "global_branch_index": branch_of_comp,
                        "global_comp_index": np.arange(topology.n_comps),
                        "controlled_by_param": np.zeros(topology.n_comps, dtype=np.int64),
                    }
                ),
                table[mechanism_cols],
            ],
            axis=1,
        )
        nodes.index = pd.Index(numbering.comp_nodes, name=None)
        self._nodes = nodes
        self._topology = topology
        self._numbering = numbering
        self._channels = list(channels)
        self._groups = list(groups)
        self._recordings = pd.DataFrame({"rec_index": pd.Series(dtype=np.int64),
                                         "state": pd.Series(dtype=object)})
        self._externals: dict[str, np.ndarray] = {}
        self._external_inds: dict[str, np.ndarray] = {}
        self._trainable_params: list[dict] = []
        self._indices_set_by_trainables: list[np.ndarray] = []
        if xyzr is None:
            xyzr = [np.full((2, 4), np.nan) for _ in range(topology.n_branches)]
        self.xyzr = [np.asarray(x, dtype=float) for x in xyzr]
        self._compiled = None
        self._edges = empty_edges()
        self._synapses: list = []
        if rebuild:
            self._structural_change(
                self.__dict__.get("_change_in_progress") or "a rebuild of its compartment table"
            )
        else:
            self._structure_log: list[str] = []

    # --------------------------------------------------------------- structure version
    @property
    def _structure_version(self) -> int:
        """Number of structural changes so far (views remember it when they are made)."""
        return len(self.base.__dict__.get("_structure_log", ()))

    def _structural_change(self, what: str) -> None:
        """Record a change that renumbers rows of ``.nodes`` (or edges): views made before it
        are stale from now on and refuse to be used
        (:class:`~simulator.modules.view.StaleViewError`). ``what`` names the change in that
        error, e.g. ``"set_ncomp(4) of branch(es) [0]"``."""
        base = self.base
        base._structure_log = [*base.__dict__.get("_structure_log", ()), what]

    @contextlib.contextmanager
    def _describing_change(self, what: str):
        """Name the structural change that a rebuild inside this block records."""
        base = self.base
        base._change_in_progress = what
        try:
            yield
        finally:
            base.__dict__.pop("_change_in_progress", None)

    # --------------------------------------------------------------- shared accessors
    @property
    def base(self) -> Module:
        """The module that owns the data (``self`` for a base module)."""
        return self

    @property
    def _node_inds(self) -> np.ndarray:
        return self._nodes.index.to_numpy()

    @property
    def _controlled_by(self) -> np.ndarray:
        return np.zeros(len(self._nodes), dtype=np.int64)

    @property
    def nodes(self) -> pd.DataFrame:
        """One row per compartment (index = node index); see the README for the columns."""
        return self._nodes

    @property
    def channels(self) -> list:
        """Inserted channels, in insertion order (the order they are stepped)."""
        return self.base._channels

    @property
    def groups(self) -> list[str]:
        return self.base._groups

    @property
    def recordings(self) -> pd.DataFrame:
        """Recorded sites: ``rec_index`` (node index) and ``state``; one output row each."""
        return self.base._recordings

    @property
    def externals(self) -> dict[str, np.ndarray]:
        """External inputs: ``"i"`` stimuli (n, T) in nA, and clamps per state (n, T)."""
        return self.base._externals

    @property
    def external_inds(self) -> dict[str, np.ndarray]:
        """Node index of each row of :attr:`externals`, per key."""
        return self.base._external_inds

    @property
    def trainable_params(self) -> list[dict]:
        return self.base._trainable_params

    @property
    def indices_set_by_trainables(self) -> list[np.ndarray]:
        return self.base._indices_set_by_trainables

    @property
    def topology(self) -> Topology:
        return self.base._topology

    @property
    def initialized(self) -> bool:
        return True

    def _invalidate(self) -> None:
        """Drop compiled data after a mutation (``to_jax`` recompiles)."""
        self.base._compiled = None

    def __getstate__(self) -> dict:
        # Pickle (the save/load mechanism) without the compiled module: it is rebuilt on
        # demand anyway.
        state = dict(self.__dict__)
        if "_compiled" in state:
            state["_compiled"] = None
        return state

    # --------------------------------------------------------------- name space
    def __getattr__(self, name: str):
        # Only called when normal lookup fails: group and channel names become views.
        if name.startswith("_"):
            raise AttributeError(name)
        base = self.base
        if name in base._groups or name in {c.name for c in base._channels}:
            kind = "group" if name in base._groups else "channel"
            return self._subview(
                self._view_table()[name].to_numpy(dtype=bool), "group", what=f"{kind} {name!r}"
            )
        if name in {s.name for s in base.__dict__.get("_synapses", ())}:
            return self._synapse_type_view(name)
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r}; groups: {base._groups}, "
            f"channels: {[c.name for c in base._channels]}, "
            f"synapses: {[s.name for s in base.__dict__.get('_synapses', ())]}"
        )

    def __repr__(self) -> str:
        kind = type(self).__name__
        return (
            f"{kind} with {len(self.channels)} different channels and "
            f"{len(self._node_inds)} compartments. Use `.nodes` for details."
        )

    def __len__(self) -> int:
        return len(self._node_inds)
