"""Assemble ``all_params`` and ``all_states`` (the step function's inputs).

``param_state`` entries (from ``data_set`` and from trainable parameters) are dicts
``{"key": name, "val": (g,) values, "indices": (g, k) node indices padded with -1}``: value
``val[j]`` is written to every node in row ``indices[j]``.

Parameters come in two kinds. *Primary* ones are what a user sets: ``radius``, ``length``,
``axial_resistivity``, ``capacitance``, channel, pump, diffusion and synapse parameters.
*Derived* ones (:data:`DERIVED_GEOMETRY` and ``axial_conductances``) follow from them:
:func:`derive` computes them from the primary ones and a geometry *reference* (the module's
built geometry, :func:`primary_parameters`). A compartment built as a cylinder keeps the
cylinder formulas of its radius r and length L (as ``Module.set`` rebuilds it); any other
value (SWC frusta, ``data_set`` areas) is the reference's, scaled by the change of r and L
since it was built: area ∝ r·L, volume ∝ r²·L, half load ∝ L/r² (so a frustum keeps its
shape). Both are exact at the built values, so default values are bitwise the reference's.
So anything that changes the primary parameters inside a jitted program (``data_set``,
trainables, an env's ``EnvParams.sim``, vmap over them) gets consistent derived values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from simulator.membrane import all_currents, synapse_currents
from simulator.modules.geometry import CYLINDER_FORMULAS, DERIVED_GEOMETRY


def params_to_pstate(params: list[dict], indices_set_by_trainables: list) -> list[dict]:
    """Turn ``get_parameters()``-style parameters into param_state entries (validated)."""
    if not isinstance(params, list | tuple):
        raise ValueError(f"params must be a list of dicts (from get_parameters()), got {params!r}")
    # An empty dict sets nothing (jaxley accepts integrate(params=[{}]) without trainables).
    params = [entry for entry in params if not (isinstance(entry, dict) and not entry)]
    if len(params) != len(indices_set_by_trainables):
        raise ValueError(
            f"params has {len(params)} entries but the module has"
            f" {len(indices_set_by_trainables)} trainable parameters (make_trainable calls)"
        )
    pstate = []
    for entry, indices in zip(params, indices_set_by_trainables, strict=True):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError(f"each params entry must be a one-key dict, got {entry!r}")
        (key, val), = entry.items()
        if jnp.shape(val) != (np.shape(indices)[0],):
            raise ValueError(
                f"parameter {key!r} must have shape ({np.shape(indices)[0]},), got"
                f" {jnp.shape(val)}"
            )
        pstate.append({"key": key, "val": val, "indices": indices})
    return pstate


def _apply(arrays: dict, entries: list[dict], n_nodes: int, valid: tuple[str, ...]):
    """Write the entries whose key is in ``valid``; return arrays and touched-node masks."""
    arrays = dict(arrays)
    touched = {}
    for entry in entries:
        key = entry["key"]
        if key not in valid:
            continue
        indices = jnp.asarray(entry["indices"])
        size = arrays[key].shape[0]  # nodes, or synapses of one type
        indices = jnp.where(indices < 0, size, indices)
        values = jnp.broadcast_to(jnp.asarray(entry["val"])[:, None], indices.shape)
        arrays[key] = arrays[key].at[indices].set(values.astype(arrays[key].dtype), mode="drop")
        mask = touched.get(key, jnp.zeros(size, dtype=bool))
        touched[key] = mask.at[indices].set(True, mode="drop")
    return arrays, touched


def check_param_state(compiled, pstate: list[dict]) -> None:
    known = (set(compiled.param_names) | set(compiled.state_names)
             | set(compiled.synapse_param_names) | set(compiled.synapse_state_names))
    for entry in pstate:
        if not isinstance(entry, dict) or set(entry) != {"key", "val", "indices"}:
            raise ValueError(f"param_state entries come from data_set(); got {entry!r}")
        if entry["key"] not in known:
            raise ValueError(
                f"param_state sets unknown key {entry['key']!r}; known: {sorted(known)}"
            )


def axial_conductances(compiled, params: dict, state: str = "v"):
    """Conductance of every directed edge (1/ms into compartments, raw weights into branch points).

    Voltage (``state="v"``): edge source j -> sink i between compartments:
    g = 1e7 / ((R_j ρ_j + R_i ρ_i) · A_i · c_i), with R the axial resistivity (Ω·cm), ρ the
    facing half-compartment resistive loads (µm⁻¹), A the sink's area (µm²) and c its
    capacitance (µF/cm²). Into a branch point: w = 1/(R ρ) (only ratios matter there: the
    branch point's voltage is the w-weighted mean).

    A diffused state (e.g. ``"CaCon_i"``): the same with R replaced by 1/D (D =
    ``axial_diffusion_<state>``, µm²/ms) and the area by the volume V (µm³), without the
    1e7 and the capacitance: g = 1 / ((ρ_j/D_j + ρ_i/D_i) · V_i) (1/ms); w = D/ρ.
    """
    num = compiled.numbering
    if state == "v":
        res = params["axial_resistivity"]
    else:
        res = 1.0 / params[f"axial_diffusion_{state}"]
    half = jnp.concatenate(
        [res * params["resistive_load_in"], res * params["resistive_load_out"],
         jnp.zeros(1, dtype=res.dtype)]
    )
    resistance = half[num.edge_halves[:, 0]] + half[num.edge_halves[:, 1]]
    comp_sink = compiled.is_comp[num.edge_sink]
    sink = num.edge_sink[comp_sink]
    g = jnp.zeros(len(num.edge_sink), dtype=res.dtype)
    if state == "v":
        g_comp = 1e7 / (resistance[comp_sink] * params["area"][sink] * params["capacitance"][sink])
    else:
        g_comp = 1.0 / (resistance[comp_sink] * params["volume"][sink])
    g = g.at[np.flatnonzero(comp_sink)].set(g_comp)
    return g.at[np.flatnonzero(~comp_sink)].set(1.0 / resistance[~comp_sink])


#: Every derived entry of ``all_params`` (never primary; recomputed by :func:`derive`).
DERIVED = (*DERIVED_GEOMETRY, "axial_conductances")
#: Entries of a geometry reference: the built radius and length and what they gave.
REFERENCE_KEYS = ("radius", "length", *DERIVED_GEOMETRY)


def primary_parameters(compiled, node_arrays: dict, pstate: list[dict]) -> tuple[dict, dict]:
    """The primary parameters with ``pstate`` applied, and their geometry reference.

    Args:
        compiled: a :class:`~simulator.compile.CompiledModule`.
        node_arrays: name -> (n_nodes,) (or (n_synapses_of_type,)) values.
        pstate: param_state entries (``data_set`` and trainables).

    Returns:
        ``(primary, reference)``: ``primary`` maps every primary parameter name to its
        (n_nodes,) (synapse parameters: (n_synapses_of_type,)) array; ``reference`` maps
        :data:`REFERENCE_KEYS` to (n_nodes,) arrays: the built geometry, with ``pstate``'s
        derived-geometry entries applied and cylinders (as ``Module.set`` writes them) at the
        nodes whose radius or length ``pstate`` sets. Its radius and length equal the primary
        ones and carry no gradient (the primary ones do), so :func:`derive` returns the
        reference's values, differentiable through the primary ones.
    """
    n = compiled.n_nodes
    names = (*compiled.param_names, *compiled.synapse_param_names)
    base = {k: jnp.asarray(node_arrays[k]) for k in names}
    params, touched = _apply(base, pstate, n, names)
    primary = {k: v for k, v in params.items() if k not in DERIVED_GEOMETRY}
    r = jax.lax.stop_gradient(params["radius"])
    length = jax.lax.stop_gradient(params["length"])
    reference = {"radius": r, "length": length,
                 **{k: params[k] for k in DERIVED_GEOMETRY}}
    if "radius" in touched or "length" in touched:
        mask = touched.get("radius", jnp.zeros(n, bool)) | touched.get("length", jnp.zeros(n, bool))
        for key, formula in CYLINDER_FORMULAS.items():
            reference[key] = jnp.where(mask, formula(r, length), reference[key])
    return primary, reference


def derive(compiled, primary: dict, reference: dict) -> dict:
    """``all_params``: the primary parameters plus every derived one.

    Args:
        compiled: a :class:`~simulator.compile.CompiledModule`.
        primary: every primary parameter (as :func:`primary_parameters` returns; no entry of
            :data:`DERIVED`); arrays may be traced and differentiated.
        reference: the geometry the module was built with (:data:`REFERENCE_KEYS`, (n_nodes,)
            each; from :func:`primary_parameters` or :func:`split_all_params`).

    Returns:
        ``primary`` plus area (µm²), volume (µm³), resistive_load_in/out (µm⁻¹) and
        ``axial_conductances`` (``"v"`` and every diffused state). Each geometric value is
        the cylinder formula of the new radius and length where the reference's value is
        that formula's (bit for bit: compartments built as cylinders, as ``Module.set``
        rebuilds them), else the reference's scaled by the change of radius and length
        (see the module docstring); both are the reference's value at the built radius and
        length, bit for bit.
    """
    stale = [k for k in DERIVED if k in primary]
    if stale:
        raise ValueError(
            f"primary parameters must not hold derived values {stale}: they are computed from"
            " radius, length, axial_resistivity and capacitance (set those instead)"
        )
    missing = [k for k in REFERENCE_KEYS if k not in reference]
    if missing:
        raise ValueError(f"the geometry reference lacks {missing}; expected {REFERENCE_KEYS}")
    params = dict(primary)
    r, length = params["radius"], params["length"]
    r0, length0 = reference["radius"], reference["length"]
    # 1 + Δ/x0 rather than x/x0: exactly 1 at the built values even where XLA turns the
    # division by the (constant) reference into a multiplication by its reciprocal.
    r_scale, l_scale = 1.0 + (r - r0) / r0, 1.0 + (length - length0) / length0
    scales = {"area": r_scale * l_scale, "volume": (r_scale * r_scale) * l_scale,
              "resistive_load_in": l_scale / (r_scale * r_scale)}
    scales["resistive_load_out"] = scales["resistive_load_in"]
    for key, formula in CYLINDER_FORMULAS.items():
        built = reference[key]
        # Built by the cylinder formula (bit for bit): keep following it, as a rebuilt
        # module would; otherwise (frusta, data_set values) scale what was built.
        params[key] = jnp.where(built == formula(r0, length0), formula(r, length),
                                built * scales[key])
    params["axial_conductances"] = {"v": axial_conductances(compiled, params)}
    for state in compiled.diffusion_states:
        params["axial_conductances"][state] = axial_conductances(compiled, params, state)
    return params


def split_all_params(all_params: dict) -> tuple[dict, dict]:
    """``(primary, reference)`` of an ``all_params`` (e.g. ``init_fn``'s): its primary
    entries, and its geometry as the reference that :func:`derive` reproduces it from."""
    primary = {k: v for k, v in all_params.items() if k not in DERIVED}
    return primary, {k: all_params[k] for k in REFERENCE_KEYS}


def all_parameters(compiled, node_arrays: dict, pstate: list[dict]) -> dict:
    """``all_params`` (as jaxley's): every parameter as (n_nodes,) arrays (synapse parameters
    (n_synapses_of_type,)) plus ``axial_conductances``; :func:`derive` of
    :func:`primary_parameters`."""
    primary, reference = primary_parameters(compiled, node_arrays, pstate)
    return derive(compiled, primary, reference)


def all_states(compiled, node_arrays: dict, pstate: list[dict], params: dict) -> dict:
    """Every state as (n_nodes,) arrays, plus the membrane (and pump) currents at those states.

    Pump currents see the states as given (e.g. the node value of ``i_Ca``), before the
    channel currents are written into the states, as in a step.
    """
    names = (*compiled.state_names, *compiled.synapse_state_names)
    base = {k: jnp.asarray(node_arrays[k]) for k in names}
    states, _ = _apply(base, pstate, compiled.n_nodes, names)
    *_, currents = all_currents(compiled, states, params, states["v"])
    states.update(currents)
    states.update(synapse_currents(compiled.synapses, states, params, states["v"]))
    return states
