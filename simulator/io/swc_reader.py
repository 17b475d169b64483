"""``read_swc(..., backend="graph")``: jaxley 0.14's SWC reader (its sectioning, branch
numbering and compartment geometry), built on :mod:`simulator.io.graph`."""

from __future__ import annotations

from simulator.io.compartment_graph import build_compartment_graph
from simulator.io.module_from_graph import from_graph
from simulator.io.swc_graph import to_swc_graph
from simulator.modules.counts import check_compartment_count, check_ncomp


def read_swc_graph(fname, ncomp: int, max_branch_len=None, min_radius=None,
                   assign_groups: bool = True, ignore_swc_tracing_interruptions: bool = True,
                   relevant_type_ids=None, max_compartments: int | None = None):
    """A Cell with jaxley 0.14's branches: SWC graph -> compartment graph -> module.

    Arguments as :func:`simulator.morphology.swc.read_swc`; ``ncomp`` must be an int.
    More than ``max_compartments`` compartments are refused (ValueError) before the
    module is built.
    """
    if callable(ncomp):
        raise ValueError("read_swc(backend='graph') needs an int ncomp; a rule such as"
                         " d_lambda_rule needs backend='neuron'")
    if relevant_type_ids is not None and not all(
            isinstance(t, int) and not isinstance(t, bool) for t in relevant_type_ids):
        raise TypeError(f"relevant_type_ids must be a list of int SWC types or None, got"
                        f" {relevant_type_ids!r}")
    ncomp = check_ncomp(ncomp)
    for name, value in (("max_branch_len", max_branch_len), ("min_radius", min_radius)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 < value < float("inf")):
            raise ValueError(f"{name} must be a positive finite length (µm) or None, got"
                             f" {value!r}")
    comp_graph = build_compartment_graph(
        to_swc_graph(fname), ncomp=ncomp, min_radius=min_radius, max_len=max_branch_len,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids)
    n_comps = sum(1 for _, t in comp_graph.nodes(data="type") if t == "comp")
    check_compartment_count(n_comps, f"read_swc({str(fname)!r}, ncomp={ncomp!r})",
                            max_compartments)
    return from_graph(comp_graph, assign_groups=assign_groups)
