"""Checks of the run entry points' arguments (``integrate``, ``init_fn``, ``step_fn``).

Everything here runs in Python before tracing, on concrete values; traced values (inside a
user's ``jit``/``vmap``/``grad``) are only checked for what is static about them (dtype,
shape). Parameter values go through :func:`simulator.param_ranges.check_parameter` (values a
run uses: :func:`~simulator.param_ranges.check_run_value`, which refuses singular ones first).

The memory guard (:func:`check_run_memory`) refuses an ``integrate`` call whose buffers would
not fit: XLA aborts the Python process (SIGABRT) instead of raising when an allocation of
hundreds of GB fails. The limit is :data:`MEMORY_FRACTION` of the physical memory (and of
the accelerator's memory where JAX reports it); the environment variable
``SIMULATOR_MAX_RUN_BYTES`` replaces it by a number of bytes.
"""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from simulator.param_ranges import check_parameter, check_run_value, shown

__all__ = [
    "MEMORY_FRACTION",
    "check_all_states",
    "check_checkpoint_lengths",
    "check_externals",
    "check_params",
    "check_param_state",
    "check_run_memory",
    "check_time",
    "compiled_mechanisms",
    "memory_limit",
]

#: Fraction of the available memory one ``integrate`` call may plan to use.
MEMORY_FRACTION = 0.5
#: Environment variable that overrides the memory limit (bytes).
MEMORY_ENV = "SIMULATOR_MAX_RUN_BYTES"


def compiled_mechanisms(compiled) -> list:
    """The channels, pumps and synapses of a compiled module."""
    return ([c for c, _ in compiled.channels] + [p for p, _ in compiled.pumps]
            + [s for s, *_ in compiled.synapses])


# ------------------------------------------------------------------ times
def check_time(value, name: str, expected: str, positive: bool) -> float:
    """A concrete, finite, non-negative (``positive``: > 0) time in ms, as a float.

    Raises TypeError for bool, str, complex or non-numeric values, ValueError for a traced
    value (times fix the number of steps), NaN, ±inf, a negative (or zero) value.
    """
    if isinstance(value, bool | np.bool_) or isinstance(value, str | bytes | complex):
        raise TypeError(f"{name} must be {expected} (a real number), got {shown(value)}")
    dtype = getattr(value, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "fiu":
        raise TypeError(f"{name} must be {expected} (a real number), got dtype {dtype}")
    if jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be {expected} (a scalar), got shape {jnp.shape(value)}")
    try:
        number = float(value)
    except jax.errors.ConcretizationTypeError as err:
        raise ValueError(f"{name} must be {expected} (a concrete number, not traced), got"
                         f" {value!r}") from err
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be {expected} (a real number), got {shown(value)}"
                        ) from err
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_step_delta_t(delta_t) -> None:
    """``delta_t`` of ``init_fn``/``step_fn``: a positive finite time step; a traced one only
    needs a real dtype and shape ()."""
    if isinstance(delta_t, jax.core.Tracer):
        if np.dtype(delta_t.dtype).kind not in "fiu" or delta_t.ndim != 0:
            raise TypeError(f"delta_t must be a real scalar time step (ms), got {delta_t!r}")
        return
    check_time(delta_t, "delta_t", "a positive time step in ms", positive=True)


def check_checkpoint_lengths(checkpoint_lengths, n_steps: int) -> tuple[int, ...] | None:
    """``checkpoint_lengths`` as a tuple of positive ints with a product ≥ ``n_steps``."""
    if checkpoint_lengths is None:
        return None
    expected = (f"a list of positive ints whose product is at least the number of steps"
                f" ({n_steps})")
    if not isinstance(checkpoint_lengths, list | tuple | np.ndarray):
        raise TypeError(f"checkpoint_lengths must be {expected}, got"
                        f" {shown(checkpoint_lengths)}")
    values = list(checkpoint_lengths)
    if not values or any(isinstance(c, bool | np.bool_)
                         or not isinstance(c, int | np.integer) for c in values):
        raise TypeError(f"checkpoint_lengths must be {expected}, got"
                        f" {shown(checkpoint_lengths)}")
    lengths = tuple(int(c) for c in values)
    if any(c < 1 for c in lengths) or math.prod(lengths) < n_steps:
        raise ValueError(
            f"checkpoint_lengths {lengths} must be positive with a product of at least the"
            f" number of steps ({n_steps})"
        )
    return lengths


# ------------------------------------------------------------------ memory
def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def _device_memory() -> int | None:
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # noqa: BLE001 - backends without memory stats
        return None
    return None if not stats else stats.get("bytes_limit")


def memory_limit() -> int:
    """Bytes one ``integrate`` call may plan to use (see the module docstring)."""
    override = os.environ.get(MEMORY_ENV)
    if override:
        try:
            return int(float(override))
        except ValueError as err:
            raise ValueError(f"{MEMORY_ENV} must be a number of bytes, got {override!r}"
                             ) from err
    sizes = [s for s in (_physical_memory(), _device_memory()) if s]
    return int(MEMORY_FRACTION * min(sizes)) if sizes else 2**62


def check_run_memory(*, n_steps: int, n_recordings: int, input_rows: int, state_values: int,
                     checkpoint_lengths, itemsize: int, t_max, delta_t) -> int:
    """Refuse a run whose buffers exceed :func:`memory_limit`; return the planned bytes.

    Counted: the recordings twice (the scan's output and the returned array), the inputs
    twice (as given and transposed for the scan), a flag per step, and the states carried
    through a checkpointed scan (one copy per checkpoint level length) or once.
    """
    recordings = 2 * n_recordings * (n_steps + 1) * itemsize
    inputs = 2 * input_rows * n_steps * itemsize + n_steps
    levels = sum(checkpoint_lengths) if checkpoint_lengths else 1
    carry = state_values * itemsize * (levels + 1)
    total = recordings + inputs + carry
    limit = memory_limit()
    if total > limit:
        raise ValueError(
            f"this run needs about {total / 1e9:.3g} GB ({total} bytes: {n_recordings}"
            f" recordings × {n_steps + 1} steps × {itemsize} bytes, {input_rows} input rows,"
            f" the carried states) for t_max={t_max!r}, delta_t={delta_t!r}; the limit is"
            f" {limit} bytes ({MEMORY_FRACTION:g} of the available memory; set"
            f" {MEMORY_ENV} to change it): shorten t_max, lengthen delta_t or record less"
        )
    return total


# ------------------------------------------------------------------ values
def check_params(params, expected: list[dict], mechanisms, where: str = "params") -> None:
    """``params`` must match the trainables (``expected``: ``get_parameters()``) in order,
    keys and shapes; concrete values must lie in their parameters' ranges."""
    if not isinstance(params, list | tuple):
        # ValueError (not TypeError) as before this check existed: callers catch it.
        raise ValueError(f"{where} must be a list of dicts (one key each, from"
                         f" get_parameters()), got {shown(params)}")
    # An empty dict sets nothing (jaxley accepts integrate(params=[{}]) without trainables).
    params = [entry for entry in params if not (isinstance(entry, dict) and not entry)]
    if len(params) != len(expected):
        raise ValueError(
            f"{where} has {len(params)} entries but the module has {len(expected)} trainable"
            f" parameters (make_trainable calls): {[next(iter(e)) for e in expected]}"
        )
    for i, (entry, reference) in enumerate(zip(params, expected, strict=True)):
        (key, ref_val), = reference.items()
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError(f"{where}[{i}] must be a one-key dict like {{{key!r}: ...}},"
                             f" got {shown(entry)}")
        (given_key, val), = entry.items()
        if given_key != key:
            raise ValueError(
                f"{where}[{i}] sets {given_key!r} but trainable parameter {i} is {key!r}"
                " (make_trainable order): give the entries in get_parameters() order"
            )
        if jnp.shape(val) != jnp.shape(ref_val):
            raise ValueError(f"{where}[{i}]: parameter {key!r} must have shape"
                             f" {jnp.shape(ref_val)}, got {jnp.shape(val)}")
        check_run_value(key, val, mechanisms, where=f"{where}[{i}]")


def _sizes(compiled) -> dict:
    """Number of entries of each parameter/state array (nodes or synapses of one type)."""
    sizes = dict.fromkeys((*compiled.param_names, *compiled.state_names), compiled.n_nodes)
    for synapse, pre, _ in compiled.synapses:
        n = len(pre)
        for key in (*synapse.synapse_params, *synapse.synapse_states):
            sizes[key] = n
    return sizes


def check_param_state(compiled, param_state, mechanisms) -> None:
    """Concrete ``data_set`` values in range; concrete indices integer and in range."""
    sizes = _sizes(compiled)
    for entry in param_state:
        key, val, indices = entry["key"], entry["val"], entry["indices"]
        check_run_value(key, val, mechanisms, where="param_state")
        if isinstance(indices, jax.core.Tracer):
            continue
        inds = np.asarray(indices)
        if inds.size and not np.issubdtype(inds.dtype, np.integer):
            raise TypeError(f"param_state indices of {key!r} must be integers, got dtype"
                            f" {inds.dtype}")
        size = sizes.get(key, compiled.n_nodes)
        bad = inds[(inds < -1) | (inds >= size)]
        if bad.size:
            raise ValueError(
                f"param_state indices of {key!r} must lie in [0, {size}) (the module's"
                f" {'synapses' if size != compiled.n_nodes else 'nodes'}), got {bad[:5].tolist()}"
                " (use data_set() of this module)"
            )


def check_all_states(compiled, all_states, where: str) -> None:
    """``all_states`` must be a dict with every state the step reads."""
    if not isinstance(all_states, dict):
        raise TypeError(f"{where} must be a dict of state name -> array (from init_fn or"
                        f" integrate(return_states=True)), got {shown(all_states)}")
    needed = (*compiled.state_names, *compiled.current_names, *compiled.synapse_state_names)
    missing = [k for k in needed if k not in all_states]
    if missing:
        raise ValueError(f"{where} lacks the states {missing} (expected every key of"
                         f" init_fn's states: {list(needed)})")


def check_externals(compiled, externals, external_inds, mechanisms=()) -> None:
    """``step_fn``'s inputs: known keys, one value per index, indices within the nodes.

    Values given as NumPy arrays or Python numbers are range-checked (a clamp of a gate in
    [0, 1], ...); jax arrays are not (reading them would wait for the device every step).
    """
    if not isinstance(externals, dict):
        raise TypeError(f"externals must be a dict of input name -> values, got"
                        f" {shown(externals)}")
    if not isinstance(external_inds, dict):
        raise TypeError(f"external_inds must be a dict of input name -> node indices, got"
                        f" {shown(external_inds)}")
    valid = ("i", "i_extracellular", *compiled.state_names)
    for key, values in externals.items():
        if key not in valid:
            raise ValueError(f"externals[{key!r}]: unknown input; expected 'i' (current, nA)"
                             f" or a state to clamp {list(compiled.state_names)}")
        if key not in external_inds:
            raise ValueError(f"externals[{key!r}] has no external_inds[{key!r}] (the nodes it"
                             f" acts on); given indices for {list(external_inds)}")
        inds = external_inds[key]
        if jnp.shape(values) not in ((), jnp.shape(inds)):
            raise ValueError(
                f"externals[{key!r}] must have shape {jnp.shape(inds)} (one value per index"
                f" of external_inds[{key!r}]) or be a scalar, got shape {jnp.shape(values)}"
            )
        dtype = getattr(values, "dtype", None)
        if dtype is not None and np.dtype(dtype).kind not in "fiu":
            raise TypeError(f"externals[{key!r}] must be real numbers, got dtype {dtype}")
        if not isinstance(values, jax.Array) and key != "i_extracellular":
            check_parameter(key, values, mechanisms, where=f"externals[{key!r}]")
        if isinstance(inds, jax.core.Tracer):
            continue
        array = np.asarray(inds)
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"external_inds[{key!r}] must be integers, got dtype {array.dtype}")
        contacts = key == "i_extracellular"
        limit = sum(len(e[2]) for e in compiled.electrodes) if contacts else compiled.n_nodes
        bad = array[(array < 0) | (array >= limit)]
        if bad.size:
            raise ValueError(f"external_inds[{key!r}] must lie in [0, {limit}) (the module's"
                             f" {'electrode contacts' if contacts else 'nodes'}), got"
                             f" {bad[:5].tolist()}")


def check_input_values(key: str, values) -> None:
    """A stimulus or clamp array of ``integrate``: real dtype; concrete values finite."""
    if isinstance(values, bool | complex | str):
        raise TypeError(f"the input {key!r} must be real numbers, got {shown(values)}")
    dtype = getattr(values, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "fiu":
        raise TypeError(f"the input {key!r} must be real numbers, got dtype {dtype}")
    if not isinstance(values, jax.core.Tracer):
        check_parameter(key, values, where="data_stimuli" if key == "i" else "data_clamps")
