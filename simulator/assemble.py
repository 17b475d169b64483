"""Assemble ``all_params`` and ``all_states`` (the step function's inputs).

``param_state`` entries (from ``data_set`` and from trainable parameters) are dicts
``{"key": name, "val": (g,) values, "indices": (g, k) node indices padded with -1}``: value
``val[j]`` is written to every node in row ``indices[j]``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from simulator.membrane import all_currents, synapse_currents
from simulator.modules.geometry import cylinder_area, cylinder_half_load, cylinder_volume


def params_to_pstate(params: list[dict], indices_set_by_trainables: list) -> list[dict]:
    """Turn ``get_parameters()``-style parameters into param_state entries (validated)."""
    if not isinstance(params, list | tuple):
        raise ValueError(f"params must be a list of dicts (from get_parameters()), got {params!r}")
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


def all_parameters(compiled, node_arrays: dict, pstate: list[dict]) -> dict:
    """Every parameter as (n_nodes,) arrays plus ``axial_conductances``."""
    n = compiled.n_nodes
    names = (*compiled.param_names, *compiled.synapse_param_names)
    base = {k: jnp.asarray(node_arrays[k]) for k in names}
    params, touched = _apply(base, pstate, n, names)
    if "radius" in touched or "length" in touched:
        mask = touched.get("radius", jnp.zeros(n, bool)) | touched.get("length", jnp.zeros(n, bool))
        r, length = params["radius"], params["length"]
        params["area"] = jnp.where(mask, cylinder_area(r, length), params["area"])
        params["volume"] = jnp.where(mask, cylinder_volume(r, length), params["volume"])
        half = cylinder_half_load(r, length)
        params["resistive_load_in"] = jnp.where(mask, half, params["resistive_load_in"])
        params["resistive_load_out"] = jnp.where(mask, half, params["resistive_load_out"])
    params["axial_conductances"] = {"v": axial_conductances(compiled, params)}
    for state in compiled.diffusion_states:
        params["axial_conductances"][state] = axial_conductances(compiled, params, state)
    return params


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
