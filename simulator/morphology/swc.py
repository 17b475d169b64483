"""``read_swc``: a reconstructed neuron as a Cell with NEURON-compatible geometry."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.modules.cell import Cell
from simulator.modules.columns import COMPARTMENT_PARAMS, COMPARTMENT_STATES
from simulator.modules.counts import check_compartment_count, check_ncomp, format_count
from simulator.modules.topology import Topology
from simulator.morphology.frustum import compartment_geometry_many
from simulator.morphology.swc_file import keep_main_tree, parse_swc
from simulator.morphology.tracing import Section, TracedSections, trace_sections_flat

GROUP_NAMES = {0: "undefined", 1: "soma", 2: "axon", 3: "basal", 4: "apical"}
#: Length (µm) given to a section whose traced points all coincide.
ZERO_LENGTH_FALLBACK = 0.1


def group_name(swc_type: int) -> str:
    return GROUP_NAMES.get(swc_type, f"custom{swc_type}")


def _check_length_arg(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a positive finite length (µm, a float), got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite length (µm), got {value!r}")
    return float(value)


def read_swc(fname, ncomp, max_branch_len: float | None = None, min_radius: float | None = None,
             assign_groups: bool = True, backend: str = "graph",
             ignore_swc_tracing_interruptions: bool | None = None,
             relevant_type_ids: list[int] | None = None, max_compartments: int | None = None):
    """Read an SWC file into a :class:`~simulator.Cell`.

    Two backends, chosen by ``backend``:

    * ``"graph"`` (default, as in jaxley 0.14): jaxley's sectioning (:mod:`simulator.io.graph`);
      ``cell.branch(k)`` is the branch, with the compartment lengths, radii, areas and
      coordinates, of ``jaxley.read_swc``. Default because this package is a drop-in for
      jaxley, whose scripts index branches. Needs networkx (``graph`` extra).
    * ``"neuron"``: sections traced as NEURON's Import3d does (see
      :mod:`simulator.morphology.tracing`), so each branch is one NEURON section and
      ``ncomp`` compartments per branch describe the same cable as ``nseg = ncomp`` in
      NEURON: equal path-length compartments whose areas, volumes and axial resistive
      loads are integrated over the traced frustums. The root branch is the soma (the SWC
      root); branches are numbered parents first. Choose it to compare with NEURON.

    Args:
        fname: path of the SWC file.
        ncomp: compartments per branch (int), or a callable ``f(length_um, radius_um) -> int``
            (see :func:`simulator.morphology.d_lambda_rule`).
        max_branch_len: split longer branches (µm) into equal pieces.
        min_radius: raise smaller radii (µm) to this value instead of refusing them.
        assign_groups: add groups ``soma``, ``axon``, ``basal``, ``apical``, ``custom<N>``.
        backend: ``"graph"`` (jaxley's branches) or ``"neuron"`` (NEURON's sections).
        ignore_swc_tracing_interruptions: True joins points across a break in the file's
            tracing order (a point whose parent is not the previous line) into one branch,
            False ends the branch there. None: each backend's reference behaviour (True
            for ``"graph"``, as jaxley; False for ``"neuron"``, as NEURON).
        relevant_type_ids: (``"graph"`` only) SWC types whose changes end a branch; other
            types count as one (default ``[1, 2, 3, 4]``).
        max_compartments: the most compartments the cell may get (default
            :data:`~simulator.modules.counts.MAX_COMPARTMENTS`, 1,000,000). A discretisation
            that would give more (a tiny ``max_branch_len`` or ``d_lambda``, a huge
            ``ncomp``) is refused with a ValueError stating the count, before any branch is
            built; pass a larger value to build it anyway.

    Disconnected pieces: the one containing the soma (else the largest) is kept and a
    warning names the dropped ones.

    Time and memory are linear in the file's size (``bench/swc_scaling.py``: a 200,000-point
    tree of 198,000 branches loads in seconds).
    """
    if not isinstance(fname, str | Path):
        raise TypeError(f"fname must be a path (str or pathlib.Path), got {fname!r}")
    if backend not in ("graph", "neuron"):
        raise ValueError(f"backend must be 'graph' (jaxley's branches) or 'neuron' (NEURON's"
                         f" sections), got {backend!r}")
    if backend == "graph":
        from simulator.io.swc_reader import read_swc_graph
        return read_swc_graph(fname, ncomp, max_branch_len, min_radius, assign_groups,
                              ignore_swc_tracing_interruptions in (None, True),
                              relevant_type_ids, max_compartments)
    if relevant_type_ids is not None:
        raise ValueError("relevant_type_ids applies to backend='graph' only")
    return _read_swc_neuron(fname, ncomp, max_branch_len, min_radius, assign_groups,
                            bool(ignore_swc_tracing_interruptions), max_compartments)


def _read_swc_neuron(fname, ncomp, max_branch_len, min_radius, assign_groups: bool,
                     join_interruptions: bool, max_compartments):
    """``read_swc(..., backend="neuron")``: NEURON's Import3d sections."""
    if not callable(ncomp):
        ncomp = check_ncomp(ncomp)
    if max_branch_len is not None:
        max_branch_len = _check_length_arg("max_branch_len", max_branch_len)
    if min_radius is not None:
        min_radius = _check_length_arg("min_radius", min_radius)
    check_compartment_count(0, "read_swc", max_compartments)  # validates max_compartments
    try:
        text = Path(fname).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read SWC file {str(fname)!r}: {err}") from err
    points = keep_main_tree(parse_swc(text, str(fname), min_radius), str(fname))
    sections = trace_sections_flat(points, join_interruptions=join_interruptions)
    call = f"read_swc({str(fname)!r}, ncomp={ncomp!r})"
    if max_branch_len is not None:
        call = f"{call[:-1]}, max_branch_len={max_branch_len!r})"
        sections = _split_checked(sections, ncomp, max_branch_len, call, max_compartments)
    return cell_from_sections(sections, ncomp, assign_groups, str(fname),
                              max_compartments=max_compartments, call=call)


def _split_checked(sections: TracedSections, ncomp, max_len: float, call: str,
                   max_compartments: int | None) -> TracedSections:
    """:func:`split_long_sections`, refused (ValueError) before cutting anything if the
    pieces (each at least one compartment) would exceed ``max_compartments``."""
    pieces = float(np.sum(_piece_counts(sections.lengths(), max_len)))
    per_piece = ncomp if isinstance(ncomp, int) else 1
    check_compartment_count(pieces * per_piece, f"{call} ({format_count(pieces)}"
                            f" branches)", max_compartments)
    return TracedSections.from_list(split_long_sections(sections.to_list(), max_len))


def _piece_counts(lengths: np.ndarray, max_len: float) -> np.ndarray:
    """Pieces (float, may exceed any int) :func:`split_long_sections` cuts sections of
    ``lengths`` (µm) into."""
    with np.errstate(over="ignore"):
        return np.maximum(1.0, np.ceil(lengths / max_len - 1e-9))


def split_long_sections(sections: list[Section], max_len: float) -> list[Section]:
    """Cut sections longer than ``max_len`` into equal pieces chained at their ends."""
    out: list[Section] = []
    pieces_of: dict[int, list[tuple[int, float, float]]] = {}
    counts = _piece_counts(np.array([sec.length for sec in sections]), max_len)
    for i, sec in enumerate(sections):
        n_pieces = int(counts[i])
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(sec.xyz, axis=0), axis=1))])
        cuts = np.linspace(0.0, s[-1], n_pieces + 1)
        pieces_of[i] = []
        for k in range(n_pieces):
            a, b = cuts[k], cuts[k + 1]
            inner = (s > a) & (s < b)
            pos = np.concatenate([[a], s[inner], [b]])
            xyz = np.stack([np.interp(pos, s, sec.xyz[:, d]) for d in range(3)], axis=1)
            radius = np.interp(pos, s, sec.radius)
            # the first piece keeps the section's parent (re-pointed below), the others chain
            parent, attach = (sec.parent, sec.attach) if k == 0 else (len(out) - 1, 1.0)
            pieces_of[i].append((len(out), a / s[-1] if s[-1] else 0.0,
                                 b / s[-1] if s[-1] else 1.0))
            out.append(Section(xyz, radius, sec.swc_type, parent, attach, sec.rows))
    for i, sec in enumerate(sections):  # re-point first pieces at the right parent piece
        if sec.parent < 0:
            continue
        x = sec.attach
        for index, lo, hi in pieces_of[sec.parent]:
            if (lo < x <= hi) or (x == 0.0 and lo == 0.0):
                local = 0.0 if x == 0.0 else (x - lo) / (hi - lo)
                first = pieces_of[i][0][0]
                piece = out[first]
                out[first] = Section(piece.xyz, piece.radius, piece.swc_type, index,
                                              min(local, 1.0), piece.rows)
                break
    return out


def _section_ncomps(sections: TracedSections, ncomp, lengths: np.ndarray,
                    xyz: list[np.ndarray], radius: list[np.ndarray], what: str,
                    max_compartments: int | None) -> np.ndarray:
    """Compartments of each section: ``ncomp`` itself or the rule's count per section
    (``xyz``, ``radius``: its points after the zero-length fallback); refused (ValueError
    with the count) as soon as their sum passes the limit."""
    if isinstance(ncomp, int):
        check_compartment_count(float(ncomp) * len(sections), what, max_compartments)
        return np.full(len(sections), ncomp, dtype=np.int64)
    counts, total = [], 0
    offsets = sections.offsets
    for i in range(len(sections)):
        if hasattr(ncomp, "for_section"):  # exact per-section rules (d_lambda over the taper)
            n = ncomp.for_section(xyz[i], radius[i])
        else:
            own_radius = sections.radius[offsets[i] : offsets[i + 1]]
            n = ncomp(float(lengths[i]), float(np.mean(own_radius)))
        n = check_ncomp(n)
        total += n
        check_compartment_count(total, f"{what}: already {i + 1} of them", max_compartments)
        counts.append(n)
    return np.asarray(counts, dtype=np.int64)


def cell_from_sections(sections: TracedSections | list[Section], ncomp,
                       assign_groups: bool = True, source: str = "<swc>",
                       max_compartments: int | None = None, call: str | None = None):
    """Build a Cell whose branches are ``sections`` (parents before children).

    Every per-branch quantity is computed for all branches at once (one table, geometry
    batched by :func:`~simulator.morphology.frustum.compartment_geometry_many`), so the time
    is linear in the number of branches. More than ``max_compartments`` compartments in all
    are refused before the geometry is computed.
    """
    if not isinstance(sections, TracedSections):
        sections = TracedSections.from_list(list(sections))
    if not callable(ncomp):
        ncomp = check_ncomp(ncomp)
    n_sec = len(sections)
    what = f"{call or 'cell_from_sections'} ({n_sec:,} branches)"
    if isinstance(ncomp, int):  # refuse before any per-branch work
        check_compartment_count(float(ncomp) * n_sec, what, max_compartments)
    lengths = sections.lengths()
    offsets = sections.offsets
    bounds = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
    xyz_flat, radius_flat, xyz, radius, offsets = _zero_length_fallback(
        sections, lengths, bounds, split=not isinstance(ncomp, int), source=source)
    ncomps = _section_ncomps(sections, ncomp, lengths, xyz, radius, what, max_compartments)
    geometry = compartment_geometry_many(xyz_flat, radius_flat, offsets, ncomps)
    table, groups = _table(geometry, ncomps, sections.swc_type, assign_groups)
    topology = Topology(ncomp=ncomps, parents=sections.parent.astype(np.int64),
                        cell_of_branch=np.zeros(n_sec, dtype=np.int64),
                        attach=np.where(sections.parent >= 0, sections.attach, 1.0))
    cell = Cell.__new__(Cell)
    super(Cell, cell).__init__()  # Module.__init__, without Cell's
    points = np.column_stack([sections.xyz, sections.radius])
    xyzr = [points[a:b] for a, b in bounds]  # views of one array, no per-branch copies
    cell._init_data(table, topology, channels=(), groups=groups, xyzr=xyzr)
    return cell


def _zero_length_fallback(sections: TracedSections, lengths, bounds, split: bool, source):
    """``(xyz_flat, radius_flat, xyz, radius, offsets)``: the sections' points with each
    zero-length section replaced (with a warning) by a :data:`ZERO_LENGTH_FALLBACK` µm
    cylinder; ``xyz``/``radius`` per section (None unless ``split`` or one is replaced)."""
    xyz_flat, radius_flat, offsets = sections.xyz, sections.radius, sections.offsets
    zero = np.flatnonzero(lengths == 0.0)
    if not (split or zero.size):
        return xyz_flat, radius_flat, None, None, offsets
    xyz = [xyz_flat[a:b] for a, b in bounds]
    radius = [radius_flat[a:b] for a, b in bounds]
    for i in zero:
        warnings.warn(f"{source}: branch {i} has zero length; using a"
                      f" {ZERO_LENGTH_FALLBACK} µm cylinder", stacklevel=4)
        xyz[i] = np.array([xyz[i][0], xyz[i][0] + [ZERO_LENGTH_FALLBACK, 0, 0]])
        radius[i] = np.full(2, radius[i].mean())
    if zero.size:
        xyz_flat, radius_flat = np.concatenate(xyz), np.concatenate(radius)
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in radius])])
    return xyz_flat, radius_flat, xyz, radius, offsets


def _table(geometry: dict, ncomps: np.ndarray, types: np.ndarray, assign_groups: bool):
    """``(nodes table, group names)``: the compartments' geometry, jaxley's default
    parameters and, with ``assign_groups``, one boolean column per SWC type."""
    defaults = {**COMPARTMENT_PARAMS, **COMPARTMENT_STATES}
    columns = {**geometry, **{name: np.full(int(ncomps.sum()), defaults[name])
                              for name in ("axial_resistivity", "capacitance", "v")}}
    groups: list[str] = []
    if assign_groups:
        comp_type = np.repeat(types, ncomps)
        _, first_seen = np.unique(types, return_index=True)
        for t in types[np.sort(first_seen)]:  # in order of first appearance, as concat does
            groups.append(group_name(int(t)))
            columns[groups[-1]] = comp_type == t
    return pd.DataFrame(columns), groups
