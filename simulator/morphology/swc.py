"""``read_swc``: a reconstructed neuron as a Cell with NEURON-compatible geometry."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.modules.branch import check_ncomp
from simulator.modules.compartment import COMPARTMENT_PARAMS, COMPARTMENT_STATES
from simulator.modules.topology import Topology
from simulator.morphology.frustum import compartment_geometry
from simulator.morphology.swc_file import keep_main_tree, parse_swc
from simulator.morphology.tracing import Section, trace_sections

GROUP_NAMES = {0: "undefined", 1: "soma", 2: "axon", 3: "basal", 4: "apical"}
#: Length (µm) given to a section whose traced points all coincide.
ZERO_LENGTH_FALLBACK = 0.1


def group_name(swc_type: int) -> str:
    return GROUP_NAMES.get(swc_type, f"custom{swc_type}")


def read_swc(fname, ncomp, max_branch_len: float | None = None, min_radius: float | None = None,
             assign_groups: bool = True, ignore_swc_tracing_interruptions: bool | None = None):
    """Read an SWC file into a :class:`~simulator.Cell`.

    Sections are traced as NEURON's Import3d does (see :mod:`simulator.morphology.tracing`),
    so each branch here is one NEURON section and ``ncomp`` compartments per branch describe
    the same cable as ``nseg = ncomp`` in NEURON: equal path-length compartments whose areas,
    volumes and axial resistive loads are integrated over the traced frustums. The root
    branch is the soma (the SWC root); branches are numbered parents first.

    Args:
        fname: path of the SWC file.
        ncomp: compartments per branch (int), or a callable ``f(length_um, radius_um) -> int``
            (see :func:`simulator.morphology.d_lambda_rule`).
        max_branch_len: split longer branches (µm) into equal pieces.
        min_radius: raise smaller radii (µm) to this value instead of refusing them.
        assign_groups: add groups ``soma``, ``axon``, ``basal``, ``apical``, ``custom<N>``.
        ignore_swc_tracing_interruptions: True joins points across a break in the file's
            tracing order (a point whose parent is not the previous line) into one branch,
            as the reference does by default; None or False ends the branch there, as
            NEURON does.

    Disconnected pieces: the one containing the soma (else the largest) is kept and a
    warning names the dropped ones.
    """
    path = Path(fname)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read SWC file {str(fname)!r}: {err}") from err
    points = keep_main_tree(parse_swc(text, str(fname), min_radius), str(fname))
    sections = trace_sections(points, join_interruptions=bool(ignore_swc_tracing_interruptions))
    if max_branch_len is not None:
        if not (max_branch_len > 0 and math.isfinite(max_branch_len)):
            raise ValueError(f"max_branch_len must be a positive length (µm), got"
                             f" {max_branch_len!r}")
        sections = split_long_sections(sections, max_branch_len)
    return cell_from_sections(sections, ncomp, assign_groups, str(fname))


def split_long_sections(sections: list[Section], max_len: float) -> list[Section]:
    """Cut sections longer than ``max_len`` into equal pieces chained at their ends."""
    out: list[Section] = []
    first_piece, last_piece = {}, {}
    pieces_of: dict[int, list[tuple[int, float, float]]] = {}
    for i, sec in enumerate(sections):
        n_pieces = max(1, math.ceil(sec.length / max_len - 1e-9))
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(sec.xyz, axis=0), axis=1))])
        cuts = np.linspace(0.0, s[-1], n_pieces + 1)
        pieces_of[i] = []
        for k in range(n_pieces):
            a, b = cuts[k], cuts[k + 1]
            inner = (s > a) & (s < b)
            pos = np.concatenate([[a], s[inner], [b]])
            xyz = np.stack([np.interp(pos, s, sec.xyz[:, d]) for d in range(3)], axis=1)
            radius = np.interp(pos, s, sec.radius)
            if k == 0:
                parent = -1 if sec.parent < 0 else sec.parent  # remapped below
                attach = sec.attach
            else:
                parent, attach = len(out) - 1, 1.0
            pieces_of[i].append((len(out), a / s[-1] if s[-1] else 0.0,
                                 b / s[-1] if s[-1] else 1.0))
            out.append(Section(xyz, radius, sec.swc_type, parent, attach, sec.rows))
        first_piece[i], last_piece[i] = pieces_of[i][0][0], pieces_of[i][-1][0]
    for i, sec in enumerate(sections):  # re-point first pieces at the right parent piece
        if sec.parent < 0:
            continue
        x = sec.attach
        for index, lo, hi in pieces_of[sec.parent]:
            if (lo < x <= hi) or (x == 0.0 and lo == 0.0):
                local = 0.0 if x == 0.0 else (x - lo) / (hi - lo)
                piece = out[first_piece[i]]
                out[first_piece[i]] = Section(piece.xyz, piece.radius, piece.swc_type, index,
                                              min(local, 1.0), piece.rows)
                break
    return out


def cell_from_sections(sections: list[Section], ncomp, assign_groups: bool = True,
                       source: str = "<swc>"):
    """Build a Cell whose branches are ``sections`` (parents before children)."""
    from simulator.modules.base import Module
    from simulator.modules.cell import Cell

    rows, ncomps = [], []
    for i, sec in enumerate(sections):
        xyz, radius = sec.xyz, sec.radius
        if sec.length == 0.0:
            warnings.warn(f"{source}: branch {i} has zero length; using a"
                          f" {ZERO_LENGTH_FALLBACK} µm cylinder", stacklevel=3)
            xyz = np.array([xyz[0], xyz[0] + [ZERO_LENGTH_FALLBACK, 0, 0]])
            radius = np.full(2, radius.mean())
        if hasattr(ncomp, "for_section"):  # exact per-section rules (d_lambda over the taper)
            n = ncomp.for_section(xyz, radius)
        elif callable(ncomp):
            n = ncomp(sec.length, float(np.mean(sec.radius)))
        else:
            n = ncomp
        n = check_ncomp(n)
        geometry = compartment_geometry(xyz, radius, n)
        table = pd.DataFrame(geometry)
        table["axial_resistivity"] = COMPARTMENT_PARAMS["axial_resistivity"]
        table["capacitance"] = COMPARTMENT_PARAMS["capacitance"]
        table["v"] = COMPARTMENT_STATES["v"]
        if assign_groups:
            table[group_name(sec.swc_type)] = True
        rows.append(table)
        ncomps.append(n)
    table = pd.concat(rows, ignore_index=True)
    groups = [c for c in table.columns if c in set(map(group_name, {s.swc_type for s in sections}))]
    for g in groups:
        table[g] = table[g].astype("boolean").fillna(False).astype(bool)
    topology = Topology(
        ncomp=np.asarray(ncomps),
        parents=np.asarray([s.parent for s in sections], dtype=np.int64),
        cell_of_branch=np.zeros(len(sections), dtype=np.int64),
        attach=np.asarray([s.attach if s.parent >= 0 else 1.0 for s in sections]),
    )
    cell = Cell.__new__(Cell)
    Module.__init__(cell)
    xyzr = [np.column_stack([s.xyz, s.radius]) for s in sections]
    cell._init_data(table, topology, channels=(), groups=groups if assign_groups else (),
                    xyzr=xyzr)
    return cell
