"""Changing the number of compartments of branches (``set_ncomp``) and NEURON's d_lambda rule.

``set_ncomp`` re-discretises whole branches in place. A branch with traced points (an SWC
cell: ``module.xyzr[b]`` finite) whose compartments still have the geometry of those points is
re-integrated over the traced frustums with
:func:`~simulator.morphology.frustum.compartment_geometry`, exactly as ``read_swc`` with that
``ncomp`` would build it (and as NEURON with ``nseg = ncomp``). Any other branch is treated as
a cylinder: equal compartment lengths (total / ncomp) and its (uniform) radius.

The d_lambda rule is NEURON's (``stdlib.hoc``'s ``lambda_f`` and the rule of its manual):
``lambda_f = 1e5 * sqrt(d / (4π f c_m R_a))`` µm (d in µm, f in Hz, c_m in µF/cm², R_a in
Ω·cm) and ``nseg = int((L / (d_lambda * lambda_f) + 0.9) / 2) * 2 + 1`` (odd). For traced
sections ``lambda_f`` is NEURON's length-weighted one: ``L / Σ Δs / lambda(d̄)`` over the traced
pieces, each with the mean diameter of its two end points.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from simulator.modules.columns import BOOKKEEPING_COLUMNS, COMPARTMENT_PARAMS
from simulator.modules.counts import check_compartment_count
from simulator.modules.geometry import cylinder_columns
from simulator.modules.topology import comp_offsets
from simulator.morphology.frustum import compartment_geometry

#: Columns of ``.nodes`` that ``set_ncomp`` recomputes; every other column is copied.
RECOMPUTED_COLUMNS = (
    "length", "radius", "area", "volume", "resistive_load_in", "resistive_load_out",
    "x", "y", "z",
)
#: Default axial resistivity of the rule: the package's default (Ω·cm), as in new modules.
DEFAULT_AXIAL_RESISTIVITY = COMPARTMENT_PARAMS["axial_resistivity"]


# ------------------------------------------------------------------------ d_lambda rule
def _check_rule_args(d_lambda, frequency, capacitance, axial_resistivity) -> None:
    for name, value in (("d_lambda", d_lambda), ("frequency", frequency),
                        ("capacitance", capacitance), ("axial_resistivity", axial_resistivity)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer
                                                     | np.floating):
            raise TypeError(f"{name} must be a positive finite number (a float), got"
                            f" {value!r}")
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def lambda_f(diameter_um, frequency: float = 100.0, capacitance: float = 1.0,
             axial_resistivity: float = DEFAULT_AXIAL_RESISTIVITY):
    """AC length constant (µm) of a cylinder of diameter ``diameter_um`` at ``frequency`` Hz.

    NEURON's ``lambda_f`` for a section without 3-D points: ``1e5 * sqrt(d / (4π f cm Ra))``.
    """
    return 1e5 * np.sqrt(np.asarray(diameter_um, dtype=float)
                         / (4.0 * np.pi * frequency * capacitance * axial_resistivity))


def _ncomp_from_lambda(length_um: float, lam: float, d_lambda: float) -> int:
    with np.errstate(over="ignore", divide="ignore"):
        pieces = np.float64(length_um) / (np.float64(d_lambda) * lam)
    if not np.isfinite(pieces):
        raise ValueError(
            f"d_lambda={d_lambda!r} gives an unbounded number of compartments for a"
            f" {length_um!r} µm cable with lambda_f {lam!r} µm; expected a d_lambda that gives"
            " a finite count (NEURON's default is 0.1)"
        )
    return int((pieces + 0.9) / 2) * 2 + 1


def d_lambda_ncomp(length_um: float, radius_um: float, d_lambda: float = 0.1,
                   frequency: float = 100.0, capacitance: float = 1.0,
                   axial_resistivity: float = DEFAULT_AXIAL_RESISTIVITY) -> int:
    """Number of compartments of NEURON's d_lambda rule for a cylinder.

    Args:
        length_um: cable length (µm).
        radius_um: radius (µm); the rule uses the diameter 2r.
        d_lambda: longest compartment as a fraction of ``lambda_f`` (NEURON's 0.1).
        frequency: frequency of ``lambda_f`` (Hz; NEURON's 100).
        capacitance: membrane capacitance (µF/cm²).
        axial_resistivity: Ω·cm; the default is this package's default (5000, as in
            jaxley), not NEURON's 35.4: pass the value the cell will use.

    Returns:
        ``int((L / (d_lambda * lambda_f) + 0.9) / 2) * 2 + 1``: an odd number ≥ 1.
    """
    _check_rule_args(d_lambda, frequency, capacitance, axial_resistivity)
    if not (np.isfinite(length_um) and length_um >= 0):
        raise ValueError(f"length_um must be a non-negative length (µm), got {length_um!r}")
    if not (np.isfinite(radius_um) and radius_um > 0):
        raise ValueError(f"radius_um must be a positive radius (µm), got {radius_um!r}")
    lam = float(lambda_f(2.0 * radius_um, frequency, capacitance, axial_resistivity))
    return _ncomp_from_lambda(float(length_um), lam, d_lambda)


def d_lambda_ncomp_traced(xyz: np.ndarray, radius: np.ndarray, d_lambda: float = 0.1,
                          frequency: float = 100.0, capacitance: float = 1.0,
                          axial_resistivity: float = DEFAULT_AXIAL_RESISTIVITY) -> int:
    """d_lambda rule for a traced section, with NEURON's ``lambda_f`` over its 3-D points.

    ``lambda_f = L / Σ_pieces Δs / lambda(d̄)`` where each piece between consecutive points
    has the mean diameter of its end points (exactly ``stdlib.hoc``'s ``lambda_f``).
    """
    _check_rule_args(d_lambda, frequency, capacitance, axial_resistivity)
    ds = np.linalg.norm(np.diff(np.asarray(xyz, dtype=float), axis=0), axis=1)
    length = float(ds.sum())
    diameters = 2.0 * np.asarray(radius, dtype=float)
    mean_d = (diameters[:-1] + diameters[1:]) / 2.0
    electrotonic = float(np.sum(ds / lambda_f(mean_d, frequency, capacitance, axial_resistivity)))
    if electrotonic == 0.0:
        return 1
    return _ncomp_from_lambda(length, length / electrotonic, d_lambda)


@dataclasses.dataclass(eq=False, repr=False)
class DLambdaRule:
    """A callable ``(length_um, radius_um) -> ncomp`` for ``read_swc(fname, ncomp=rule)``.

    ``rule.for_section(xyz, radius)`` applies NEURON's traced ``lambda_f`` instead (what
    ``set_ncomp_d_lambda`` uses for traced branches); the plain call can only see the length
    and mean radius, so on tapering sections it may differ from NEURON by one step (2).
    """

    d_lambda: float = 0.1
    frequency: float = 100.0
    capacitance: float = 1.0
    axial_resistivity: float = DEFAULT_AXIAL_RESISTIVITY

    def __post_init__(self) -> None:
        _check_rule_args(**dataclasses.asdict(self))
        for name, value in dataclasses.asdict(self).items():
            setattr(self, name, float(value))

    def __call__(self, length_um: float, radius_um: float) -> int:
        return d_lambda_ncomp(length_um, radius_um, **dataclasses.asdict(self))

    def for_section(self, xyz: np.ndarray, radius: np.ndarray) -> int:
        return d_lambda_ncomp_traced(xyz, radius, **dataclasses.asdict(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self).items())
        return f"d_lambda_rule({args})"


def d_lambda_rule(d_lambda: float = 0.1, frequency: float = 100.0, capacitance: float = 1.0,
                  axial_resistivity: float = DEFAULT_AXIAL_RESISTIVITY) -> DLambdaRule:
    """NEURON's d_lambda rule as an ``ncomp`` argument: ``read_swc(f, ncomp=d_lambda_rule())``.

    The cell's parameters are not known while reading, so pass the capacitance and axial
    resistivity the cell will get (and set them after reading), e.g.
    ``read_swc(f, d_lambda_rule(axial_resistivity=100)); cell.set("axial_resistivity", 100)``.
    """
    return DLambdaRule(d_lambda, frequency, capacitance, axial_resistivity)


# ------------------------------------------------------------------------ set_ncomp
def _traced_points(xyzr: np.ndarray):
    """(xyz, radius, length) of a branch's traced points, or None without usable points."""
    xyzr = np.asarray(xyzr, dtype=float)
    if xyzr.ndim != 2 or xyzr.shape[0] < 2 or xyzr.shape[1] != 4 or not np.all(np.isfinite(xyzr)):
        return None
    length = float(np.linalg.norm(np.diff(xyzr[:, :3], axis=0), axis=1).sum())
    if length <= 0.0 or np.any(xyzr[:, 3] <= 0):
        return None
    return xyzr[:, :3], xyzr[:, 3], length


def _matches_traced(rows: dict[str, np.ndarray], traced) -> bool:
    """Whether the branch's compartments still have the geometry of its traced points."""
    if traced is None:
        return False
    geometry = compartment_geometry(traced[0], traced[1], len(rows["length"]))
    return all(
        np.allclose(rows[k], geometry[k], rtol=1e-9, atol=0.0)
        for k in ("length", "radius", "area", "volume", "resistive_load_in",
                  "resistive_load_out")
    )


def _check_homogeneous(rows: dict[str, np.ndarray], branch: int, channels: set,
                       groups: set) -> None:
    for column, values in rows.items():
        if column in RECOMPUTED_COLUMNS or len(values) < 2:
            continue
        if values.dtype == bool:
            if values.all() or not values.any():
                continue
            kind = "channel" if column in channels else "group" if column in groups else "flag"
            raise ValueError(
                f"set_ncomp: {kind} {column!r} covers {int(values.sum())} of the {len(values)}"
                f" compartments of branch {branch}; the new compartments cannot inherit a"
                f" partial {kind}. Call set_ncomp first, then insert channels / add groups per"
                " compartment"
            )
        arr = values.astype(float)
        nan = np.isnan(arr)
        if nan.all():
            continue
        if nan.any() or not np.allclose(arr, arr[0], rtol=1e-12, atol=0.0):
            raise ValueError(
                f"set_ncomp: {column!r} differs between the compartments of branch {branch}"
                f" (from {np.nanmin(arr)!r} to {np.nanmax(arr)!r}); heterogeneous values cannot"
                " be redistributed over new compartments. Call set_ncomp first, then set"
                " per-compartment values"
            )


def _new_branch_rows(rows: dict[str, np.ndarray], xyzr: np.ndarray, ncomp: int, branch: int,
                     min_radius: float | None) -> dict[str, np.ndarray]:
    """The compartment columns of ``branch`` re-discretised into ``ncomp`` compartments."""
    traced = _traced_points(xyzr)
    new = {k: np.repeat(v[:1], ncomp) for k, v in rows.items()}
    if _matches_traced(rows, traced):
        xyz, radius, _ = traced
        if min_radius is not None:
            radius = np.maximum(radius, min_radius)
        geometry = compartment_geometry(xyz, radius, ncomp)
        new.update({key: geometry[key] for key in RECOMPUTED_COLUMNS})
        return new
    radii = rows["radius"].astype(float)
    if not np.allclose(radii, radii[0], rtol=1e-12, atol=0.0):
        raise ValueError(
            f"set_ncomp: the radius differs between the compartments of branch {branch} (from"
            f" {radii.min()!r} to {radii.max()!r} µm) and the branch has no traced points whose"
            " geometry it still has, so the radius profile cannot be re-discretised. Call"
            " set_ncomp first, then set per-compartment radii"
        )
    radius = float(radii[0]) if min_radius is None else max(float(radii[0]), min_radius)
    length = float(rows["length"].sum()) / ncomp
    full = np.ones(ncomp)
    new["length"] = length * full
    new["radius"] = radius * full
    new.update({k: v * full for k, v in cylinder_columns(radius, length).items()})
    if traced is not None:  # keep plotting positions along the traced path
        centres = compartment_geometry(traced[0], traced[1], ncomp)
        new["x"], new["y"], new["z"] = centres["x"], centres["y"], centres["z"]
    else:
        new["x"] = new["y"] = new["z"] = np.full(ncomp, np.nan)
    return new


def branch_columns(base) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """Columns (no bookkeeping) of ``base.nodes`` as arrays, and each branch's first row."""
    nodes = base._nodes
    names = [c for c in nodes.columns if c not in BOOKKEEPING_COLUMNS]
    columns = {c: nodes[c].to_numpy() for c in names}
    first = comp_offsets(base._topology.ncomp)
    return names, columns, first


def check_no_indexed_data(base, action: str = "set_ncomp") -> None:
    """Refuse when recordings, inputs or trainables refer to node indices that will change."""
    for what, present in (
        ("recordings", len(base._recordings)),
        ("stimuli or clamps", len(base._externals)),
        ("trainable parameters", len(base._trainable_params)),
    ):
        if present:
            raise ValueError(
                f"{action}: the module has {what}; they refer to node indices that change when"
                f" branches are re-discretised. Call {action} first, or delete them"
                " (delete_recordings / delete_stimuli / delete_clamps / delete_trainables)"
            )


def set_branch_ncomp(base, new_ncomp: dict[int, int], min_radius: float | None,
                     change: str) -> None:
    """Re-discretise global branches ``new_ncomp`` (branch -> ncomp) of base module ``base``.

    Rebuilds ``.nodes``, the topology and the node numbering in place; keeps channels,
    groups and ``xyzr``. Views made before the call are stale afterwards; ``change`` names
    the change in their error. ``min_radius`` (µm, checked by the caller) or None.
    """
    check_no_indexed_data(base)
    topology = base._topology
    changed = np.fromiter(new_ncomp, dtype=np.int64, count=len(new_ncomp))
    total = (int(np.sum(topology.ncomp)) - int(np.sum(topology.ncomp[changed]))
             + sum(int(n) for n in new_ncomp.values()))
    shown = dict(list(new_ncomp.items())[:3])
    check_compartment_count(total, f"set_ncomp (branch -> ncomp {shown}"
                            f"{' ...' if len(new_ncomp) > 3 else ''})")
    names, columns, first = branch_columns(base)
    channels = {c.name for c in base._channels}
    groups = set(base._groups)
    pieces = []
    ncomp = np.asarray(topology.ncomp).copy()
    for b in range(topology.n_branches):
        rows = {k: v[first[b] : first[b + 1]] for k, v in columns.items()}
        if b in new_ncomp:
            _check_homogeneous(rows, b, channels, groups)
            rows = _new_branch_rows(rows, base.xyzr[b], new_ncomp[b], b, min_radius)
            ncomp[b] = new_ncomp[b]
        pieces.append(rows)
    new_table = pd.DataFrame({k: np.concatenate([p[k] for p in pieces]) for k in names})
    base._init_data(new_table, dataclasses.replace(topology, ncomp=ncomp),
                    channels=list(base._channels), groups=list(base._groups), xyzr=base.xyzr,
                    change=change)
    base.__dict__.pop("jaxnodes", None)


def branch_d_lambda_ncomp(base, branch: int, rule: DLambdaRule, columns=None, first=None) -> int:
    """The d_lambda rule for one branch with its own capacitance and axial resistivity.

    Traced branches that still have their traced geometry use NEURON's traced ``lambda_f``;
    others the compartments as cylinders (``L / Σ l_i / lambda(2 r_i)``). Heterogeneous
    capacitance or axial resistivity enter as their length-weighted means. ``columns`` and
    ``first`` (from one ``branch_columns`` call) avoid re-reading ``.nodes`` per branch.
    """
    if columns is None:
        _, columns, first = branch_columns(base)
    rows = {k: v[first[branch] : first[branch + 1]] for k, v in columns.items()}
    lengths = rows["length"].astype(float)
    n = len(lengths)
    weights = lengths / lengths.sum() if lengths.sum() > 0 else np.full(n, 1.0 / n)
    local = dataclasses.replace(  # checks the means as rule arguments
        rule, capacitance=float(np.sum(weights * rows["capacitance"].astype(float))),
        axial_resistivity=float(np.sum(weights * rows["axial_resistivity"].astype(float))))
    traced = _traced_points(base.xyzr[branch])
    if _matches_traced(rows, traced):
        return local.for_section(traced[0], traced[1])
    lam = lambda_f(2.0 * rows["radius"].astype(float), local.frequency, local.capacitance,
                   local.axial_resistivity)
    electrotonic = float(np.sum(lengths / lam))
    if electrotonic == 0.0 or not math.isfinite(electrotonic):
        return 1
    total = float(lengths.sum())
    return _ncomp_from_lambda(total, total / electrotonic, rule.d_lambda)
