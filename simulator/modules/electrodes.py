"""Extracellular electrodes of a module: registration, contact currents, recordings.

An electrode registered with :func:`add_electrode` lives in the base module's data
(``base._data.electrodes``, name -> :class:`Entry`, in registration order). Its contacts get
*global contact indices* in that order (the first electrode's contacts first); the contact
currents are the input ``"i_extracellular"`` (µA, (n_rows, T), ``external_inds`` = global
contact indices), which the step turns into the activating function
(:mod:`simulator.extracellular.coupling`). A recorded electrode adds n_contacts rows (µV)
after the other recordings of ``integrate``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from simulator.extracellular.checks import is_concrete
from simulator.extracellular.coupling import CONTACTS
from simulator.extracellular.electrode import Electrode
from simulator.extracellular.mapping import MODELS, electrode_matrix
from simulator.extracellular.medium import DEFAULT_SIGMA, Medium, as_medium
from simulator.extracellular.near_field import deferred, warn_deferred
from simulator.extracellular.segments import Segments, module_segments


@dataclass(frozen=True)
class Entry:
    """A registered electrode: its contacts, the medium, the forward model and whether
    ``integrate`` records it."""

    electrode: Electrode
    medium: Medium
    model: str
    recorded: bool = False


def add_electrode(module, electrode: Electrode, name: str = "lead",
                  medium: Medium | float = DEFAULT_SIGMA, model: str = "point") -> None:
    """Register ``electrode`` as ``name`` on the module's base (a cell or network).

    Args:
        electrode: an :class:`~simulator.extracellular.Electrode` (positions µm).
        name: unique electrode name (the params key is ``electrode_<name>``).
        medium: a :class:`~simulator.extracellular.Medium` or σ in S/m.
        model: ``"point"`` (V_e at compartment centres, point sources at segment
            midpoints) or ``"line"`` (line-source average over each segment).
    """
    if not isinstance(electrode, Electrode):
        raise TypeError(f"electrode must be an Electrode (simulator.extracellular), got"
                        f" {type(electrode).__name__}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"electrode name must be a non-empty string, got {name!r}")
    if name in module.base._data.electrodes:
        raise ValueError(f"an electrode called {name!r} exists already")
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    module.base._data.electrodes[name] = Entry(electrode, as_medium(medium), model)
    module.base._invalidate()


def entry(module, name: str) -> Entry:
    """The registered electrode ``name``; ValueError naming the known ones."""
    electrodes = module.base._data.electrodes
    if name not in electrodes:
        raise ValueError(f"unknown electrode {name!r}; registered: {list(electrodes)}")
    return electrodes[name]


def contact_indices(module, name: str, contacts=None) -> np.ndarray:
    """Global contact indices of electrode ``name`` (``contacts``: names or None for all)."""
    electrode, electrodes = entry(module, name).electrode, module.base._data.electrodes
    before = list(electrodes.values())[: list(electrodes).index(name)]
    offset = sum(item.electrode.n_contacts for item in before)
    names = electrode.names if contacts is None else (
        [contacts] if isinstance(contacts, str) else list(contacts))
    return offset + np.array([electrode.index(c) for c in names], dtype=np.int64)


def _current(module, name: str, current, contacts, traced: bool):
    rows = contact_indices(module, name, contacts)
    if not traced and is_concrete(current):
        arr = np.asarray(current, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"contact current of {name!r} must be finite (µA)")
    else:
        arr = jnp.asarray(current)
    if arr.ndim == 1 and len(rows) == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] != len(rows) or arr.shape[1] == 0:
        raise ValueError(
            f"the contact current of electrode {name!r} must have shape ({len(rows)}, T) µA"
            f" (one row per contact{', or (T,)' if len(rows) == 1 else ''}), got shape"
            f" {tuple(arr.shape)}")
    return arr, rows


def stimulate_extracellular(module, name: str, current, contacts=None) -> None:
    """Drive the contacts of electrode ``name`` with ``current`` (µA, (n_contacts, T), or
    (T,) for one contact; sample k drives step k). Repeated calls add up."""
    from_io, inds = module.base._externals, module.base._external_inds
    values, rows = _current(module, name, current, contacts, traced=False)
    if CONTACTS in from_io and from_io[CONTACTS].shape[1] != values.shape[1]:
        raise ValueError(f"the new contact current has {values.shape[1]} samples but earlier"
                         f" ones have {from_io[CONTACTS].shape[1]}; give them the same length")
    from_io[CONTACTS] = np.concatenate([from_io.get(CONTACTS, values[:0]), values])
    inds[CONTACTS] = np.concatenate([inds.get(CONTACTS, rows[:0]), rows])


def data_stimulate_extracellular(module, name: str, current, data_stimuli=None,
                                 contacts=None):
    """Jit-safe :func:`stimulate_extracellular`: ``(names, arrays, inds)`` for
    ``integrate(data_stimuli=...)`` (``current`` may be traced)."""
    names, arrays, inds = data_stimuli if data_stimuli is not None else ([], [], [])
    values, rows = _current(module, name, current, contacts, traced=True)
    return [*names, CONTACTS], [*arrays, values], [*inds, rows]


def record_extracellular(module, name: str) -> None:
    """Record the potential (µV) at every contact of electrode ``name``: n_contacts rows
    after the state recordings of ``integrate``, in registration order of electrodes."""
    electrodes = module.base._data.electrodes
    electrodes[name] = replace(entry(module, name), recorded=True)
    module.base._invalidate()


def electrode_values(entry_: Entry) -> dict:
    """The traced values of an electrode: positions (n_c, n_p, 3) µm, weights (n_c, n_p),
    sigma () or (3,) S/m."""
    return {"positions": entry_.electrode.positions, "weights": entry_.electrode.weights,
            "sigma": entry_.medium.sigma}


def check_override(name: str, value, default: dict) -> dict:
    """``integrate(electrodes={name: value})``: an Electrode, a Medium, or a dict with
    some of positions / weights / sigma; returns the full values dict."""
    if isinstance(value, Electrode):
        value = {"positions": value.positions, "weights": value.weights}
    elif isinstance(value, Medium):
        value = {"sigma": value.sigma}
    if not isinstance(value, dict) or not set(value) <= set(default):
        raise ValueError(f"electrodes[{name!r}] must be an Electrode, a Medium or a dict with"
                         f" keys among {sorted(default)}; got {value!r}")
    out = dict(default)
    for key, val in value.items():
        if jnp.shape(val) != jnp.shape(default[key]):
            raise ValueError(f"electrodes[{name!r}][{key!r}] must have shape"
                             f" {jnp.shape(default[key])}, got {jnp.shape(val)}")
        if not isinstance(val, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(val))):
            raise ValueError(f"electrodes[{name!r}][{key!r}] must be finite, got {val!r}")
        out[key] = val
    return out


def compiled_electrodes(base, node_arrays: dict) -> tuple:
    """The static electrode description of a compiled module; writes the segments and each
    electrode's values into ``node_arrays`` (traced, see :func:`electrode_arrays`)."""
    electrodes = base._data.electrodes
    if not electrodes:
        return ()
    with jax.ensure_compile_time_eval():  # concrete even when compiled under a trace
        segments = module_segments(base)
        for item in electrodes.values():  # warns once if a contact lies within a radius
            warn_deferred(_near_field(segments, item.electrode, item.medium, item.model))
    node_arrays.update({f"extracellular_{k}": np.asarray(getattr(segments, k))
                        for k in ("starts", "ends", "diameters", "centres")})
    for name, item in electrodes.items():
        for key, value in electrode_values(item).items():
            node_arrays[f"electrode_{name}_{key}"] = np.asarray(value, dtype=float)
    return tuple((name, item.model, item.electrode.names, item.recorded)
                 for name, item in electrodes.items())


@functools.partial(jax.jit, static_argnames="model")
def _near_field(segments, electrode, medium, model):
    """The distances that :func:`electrode_matrix` checks against the compartment radii, as
    records for :func:`~simulator.extracellular.near_field.warn_deferred`."""
    with deferred() as records:
        electrode_matrix(segments, electrode, medium, model)
    return list(records)


def electrode_arrays(compiled, node_arrays: dict) -> dict:
    """``all_params["extracellular"]``: ``segments`` and, per electrode name, its values
    (positions, weights, sigma) read from ``node_arrays`` (traced)."""
    segments = Segments(*(jnp.asarray(node_arrays[f"extracellular_{k}"])
                          for k in ("starts", "ends", "diameters", "centres")))
    values = {name: {k: jnp.asarray(node_arrays[f"electrode_{name}_{k}"])
                     for k in ("positions", "weights", "sigma")}
              for name, *_ in compiled.electrodes}
    return {"segments": segments, "electrodes": values}


def electrode_overrides(base, electrodes) -> dict:
    """Node-array entries of ``integrate(electrodes=...)`` (see :func:`check_override`)."""
    if electrodes is None:
        return {}
    if not isinstance(electrodes, dict):
        raise TypeError(f"electrodes must be a dict name -> values, got {electrodes!r}")
    out = {}
    for name, value in electrodes.items():
        values = check_override(name, value, electrode_values(entry(base, name)))
        out.update({f"electrode_{name}_{k}": jnp.asarray(v) for k, v in values.items()})
    return out
