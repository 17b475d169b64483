"""Small cells and ``.nodes`` column lists shared by the module tests (imported by name)."""

from __future__ import annotations

import simulator as jx

# jaxley 0.14.0: .nodes columns of Cell(Branch(Compartment(), 2), [-1, 0, 0]) after insert(HH())
BASE_COLUMNS = [
    "local_cell_index", "local_branch_index", "local_comp_index", "length", "radius",
    "axial_resistivity", "capacitance", "v", "area", "volume", "resistive_load_in",
    "resistive_load_out", "x", "y", "z", "global_cell_index", "global_branch_index",
    "global_comp_index", "controlled_by_param",
]
HH_COLUMNS = ["HH", "HH_gNa", "HH_gK", "HH_gLeak", "HH_eNa", "HH_eK", "HH_eLeak", "HH_m",
              "HH_h", "HH_n"]
INT_COLUMNS = ["local_cell_index", "local_branch_index", "local_comp_index",
               "global_cell_index", "global_branch_index", "global_comp_index",
               "controlled_by_param"]


def y_cell(ncomp=2):
    """Root branch with two children, ``ncomp`` compartments each (node indices 0..3*ncomp-1)."""
    return jx.Cell(jx.Branch(jx.Compartment(), ncomp), [-1, 0, 0])


def mixed_cell():
    """Branches of 1, 2 and 3 compartments in a chain: branch of node i is [0,1,1,2,2,2]."""
    branches = [jx.Branch(jx.Compartment(), n) for n in (1, 2, 3)]
    return jx.Cell(branches, [-1, 0, 1])


def inds(view) -> list[int]:
    """The node indices of a module or view, as a list."""
    return view.nodes.index.tolist()
