"""A network of cells (point neurons and morphologies mixed) coupled by synapses."""

from __future__ import annotations

import numpy as np

from simulator.modules import network_drawing, synthetic_layout
from simulator.modules.arguments import show
from simulator.modules.base import Module
from simulator.modules.cell import Cell
from simulator.modules.compose import compose
from simulator.modules.topology import Topology
from simulator.modules.view import View


class Network(Module):
    """Cells side by side; connect them with :mod:`simulator.connect`.

    Node indices run cell by cell (each cell's compartments, then its branch points), so a
    node index differs from ``global_comp_index`` after the first multi-branch cell. Each
    cell is an independent tree of the voltage solve: with a DHS level width above one,
    level k of every cell is eliminated in the same vectorised step (cells as parallel
    lanes), not one cell after another.

    Args:
        cells: list of :class:`Cell`.
        vectorize_cells: accepted for compatibility; lanes follow ``dhs_width`` instead.
    """

    _view_type = View
    _depth = 3
    arrange_in_layers = synthetic_layout.arrange_in_layers
    vis = network_drawing.vis

    def __init__(self, cells, vectorize_cells: bool | None = None) -> None:
        super().__init__()
        if isinstance(cells, Module | str | bytes | dict) or not hasattr(cells, "__iter__"):
            hint = " (wrap a single cell in a list: Network([cell]))" if isinstance(
                cells, Module) else ""
            raise TypeError(f"Network expects a list of Cells{hint}; got {show(cells)}")
        cells = list(cells)
        if not cells:
            raise ValueError("Network needs at least one cell, got an empty list")
        for cell in cells:
            if not isinstance(cell, Cell):
                raise TypeError(f"Network is built from Cells, got {cell!r}")
        table, channels, groups = compose(cells)
        ncomp, parents, cell_of_branch, attach, xyzr = [], [], [], [], []
        offset = 0
        for index, cell in enumerate(cells):
            topo = cell.topology
            ncomp.append(topo.ncomp)
            parents.append(np.where(topo.parents >= 0, topo.parents + offset, -1))
            cell_of_branch.append(np.full(topo.n_branches, index))
            attach.append(topo.attach_positions())
            xyzr += [x.copy() for x in cell.xyzr]
            offset += topo.n_branches
        topology = Topology(
            ncomp=np.concatenate(ncomp),
            parents=np.concatenate(parents),
            cell_of_branch=np.concatenate(cell_of_branch),
            attach=np.concatenate(attach),
        )
        self._init_data(table, topology, channels, groups, xyzr)
