"""The one validator of ``EnvParams``, on every path into an env (listed in
``docs/validation.md``), and the checks of the other inputs of the functional env (key,
state, action).

What is checked:

- **always** (also for traced values, inside ``jit``/``vmap``/``grad``): the type
  (an ``EnvParams`` of the env's structure: the same ``sim`` and ``task`` keys), every
  leaf's dtype (real numbers: no bool, complex or strings) and shape (the default's, after
  ``batch_ndim`` leading batch axes);
- **concrete values only** (traced values cannot be read): finiteness and range. The env
  scalars by :data:`ENV_FIELD_RANGES`, simulator parameters by the simulator's own
  declarations (:func:`simulator.param_ranges.check_parameter` with the module's
  mechanisms; only at the entries that hold the parameter: compartments that carry the
  channel; placeholders of compartments without it and of branch points are never read),
  task parameters by the task's ``param_ranges()`` and ``param_order`` (pairs
  ``low <= high``).

Concrete params are validated once per object: a params object that passed is remembered
(by identity; ``EnvParams`` and JAX arrays are immutable) and not read again.
"""

from __future__ import annotations

import dataclasses
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.validation import INT32_MAX, Range, TypeAndValueError, check_range, show
from simulator.param_ranges import check_run_value, mechanisms_of

#: Valid values of the env scalars of ``EnvParams`` (the constructor's keyword arguments).
ENV_FIELD_RANGES = {
    "action_scale": Range(0.0, units="nA per unit action"),
    "obs_noise_std": Range(0.0, units="mV"),
    "init_v_jitter": Range(0.0, units="mV"),
    "max_steps_in_episode": Range(1, INT32_MAX, integer=True, units="control periods"),
    "param_spread": Range(0.0, units="std of a log-scale"),
    "param_drift": Range(0.0, units="std of a log-scale per sqrt(ms)"),
}

_FINITE = Range()


# ---------------------------------------------------------------------- the validator
class _Spec:
    """What valid params of one env look like (shapes, dtypes, active entries, ranges)."""

    def __init__(self, env) -> None:
        default = env.default_params
        if not (dataclasses.is_dataclass(default) and hasattr(default, "sim")
                and hasattr(default, "task")):
            self.params_type = None
            return
        self.params_type = type(default)
        self.fields = tuple(f.name for f in dataclasses.fields(default)
                            if f.name not in ("sim", "task"))
        self.shapes = {f: np.shape(getattr(default, f)) for f in self.fields}
        self.sim_shapes = {k: np.shape(v) for k, v in default.sim.items()}
        self.task_shapes = {k: np.shape(v) for k, v in default.task.items()}
        module = getattr(env, "module", None)
        self.mechanisms = [] if module is None else mechanisms_of(module)
        compiled = getattr(env, "_compiled", None)
        is_comp = None if compiled is None else np.asarray(compiled.is_comp)
        self.active = {}
        for k, v in default.sim.items():
            v = np.asarray(v)
            mask = np.isfinite(v)
            if is_comp is not None and v.shape == is_comp.shape:
                mask &= is_comp
            self.active[k] = mask
        task = getattr(env, "task", None)
        declared = task.param_ranges() if task is not None else {}
        self.task_ranges = {k: declared.get(k, _FINITE) for k in self.task_shapes}
        self.task_order = tuple(getattr(task, "param_order", ()))
        # An env that declares it randomises nothing refuses a spread or drift.
        self.scales_nothing = getattr(env, "randomized", None) == ()


_SPECS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_VALIDATED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _spec(env) -> _Spec:
    spec = _SPECS.get(env)
    if spec is None:
        spec = _SPECS[env] = _Spec(env)
    return spec


def _is_traced(leaf) -> bool:
    return isinstance(leaf, jax.core.Tracer)


def _check_leaf(label: str, leaf, shape: tuple, batch: tuple, integer: bool = False,
                shared_ok: bool = False):
    """Type, dtype and shape of one leaf (static: works on tracers)."""
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        if isinstance(leaf, bool) or not isinstance(leaf, int | float):
            raise TypeError(f"{label} must be a real number or array, got {show(leaf)}")
        dtype = np.asarray(leaf).dtype
    kind = np.dtype(dtype).kind
    if kind not in ("i", "u", "f") or (integer and kind == "f" and _is_traced(leaf)):
        want = "an integer" if integer else "a real (int or float)"
        raise TypeError(f"{label} must be {want} array, got dtype {np.dtype(dtype)} "
                        f"({show(leaf)})")
    _check_shape(label, leaf, shape, batch, shared_ok)


def _check_shape(label: str, leaf, shape: tuple, batch: tuple, shared_ok: bool) -> None:
    """``leaf`` has the shape ``(*batch, *shape)`` (``batch``: sizes, ``None`` for any) or,
    with ``shared_ok``, ``shape``."""
    got, shape = tuple(np.shape(leaf)), tuple(shape)
    if shared_ok and got == shape:
        return
    n = len(batch)
    if (len(got) != len(shape) + n or got[n:] != shape
            or any(b is not None and g != b for g, b in zip(got, batch, strict=False))):
        expected = (shape if n == 0
                    else f"{tuple('n' if b is None else b for b in batch) + shape} ({n} batch "
                    "axes)" + (f" or {shape} (shared)" if shared_ok else ""))
        raise ValueError(f"{label} must have shape {expected}, got shape {got}")


def _check_keys(label: str, got, expected) -> None:
    if not isinstance(got, dict):
        raise TypeError(f"{label} must be a dict with keys {sorted(expected)}, got {show(got)}")
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {extra}"] if extra
                                                                 else [])
        raise ValueError(f"{label} must have the keys {sorted(expected)} of the env's "
                         f"default params; {', '.join(parts)}")


def check_params(env, params, where: str = "params", batch_ndim: int = 0,
                 flat: bool = False, shared_ok: bool = False,
                 batch_size: int | None = None) -> None:
    """Validate ``params`` for ``env`` (see the module docstring); raise ``TypeError`` /
    ``ValueError`` naming ``where`` and the offending entry, the value and what is expected.

    Args:
        env: the functional env (a :class:`~neuroenv.NeuronEnv`).
        params: its ``EnvParams`` (concrete or traced).
        where: how the caller calls ``params`` in messages (``"options['params']"``).
        batch_ndim: leading batch axes of every leaf (1 for the per-row params of a vector
            env: leaves of shape (num_envs, *default shape)).
        shared_ok: with ``batch_ndim``, leaves may also have the default shape (shared
            by every row).
        batch_size: with ``batch_ndim=1``, the length the batch axis must have (``None``:
            any).
        flat: name entries ``where['HH_gNa']`` and ``where['action_scale']`` (the flat dict
            of ``NeuronGymEnv.reset(options={"params": ...})``) instead of
            ``where.sim['HH_gNa']`` and ``where.action_scale``.
    """
    def sim(k):
        return f"{where}[{k!r}]" if flat else f"{where}.sim[{k!r}]"

    def top(f):
        return f"{where}[{f!r}]" if flat else f"{where}.{f}"

    batch = (batch_size,) if batch_ndim == 1 else (None,) * batch_ndim
    spec = _spec(env)
    if spec.params_type is None:  # not a NeuronEnv-like env: its default's structure only
        _check_structure(env.default_params, params, where, batch, shared_ok)
        return
    if type(params) is not spec.params_type:  # (ValueError too: the vector env raised it)
        raise TypeAndValueError(
            f"{where} must be an {spec.params_type.__name__} with the structure of the env's "
            f"default_params (e.g. env.default_params.replace(...)), got {show(params)}")
    if batch_ndim == 0 and _VALIDATED.get(id(params)) is params:
        return
    _check_keys(f"{where}.sim", params.sim, spec.sim_shapes)
    _check_keys(f"{where}.task", params.task, spec.task_shapes)
    for f in spec.fields:
        _check_leaf(top(f), getattr(params, f), spec.shapes[f], batch,
                    integer=ENV_FIELD_RANGES.get(f, _FINITE).integer, shared_ok=shared_ok)
    for k, shape in spec.sim_shapes.items():
        _check_leaf(sim(k), params.sim[k], shape, batch, shared_ok=shared_ok)
    for k, shape in spec.task_shapes.items():
        _check_leaf(f"{where}.task[{k!r}]", params.task[k], shape, batch,
                    shared_ok=shared_ok)
    leaves = jax.tree_util.tree_leaves(params)
    if any(_is_traced(leaf) for leaf in leaves):
        return  # values unknown while tracing
    _check_values(spec, params, where, sim, top)
    if batch_ndim == 0:
        _VALIDATED[id(params)] = params


def _check_values(spec, params, where: str, sim, top) -> None:
    """The range checks of concrete ``params`` (env fields, active simulator entries, task
    entries and their order); ``sim(k)``/``top(f)`` name entries in messages."""
    for f in spec.fields:
        check_range(ENV_FIELD_RANGES.get(f, _FINITE), top(f), np.asarray(getattr(params, f)))
    for k in spec.sim_shapes:
        values = np.asarray(params.sim[k])
        mask = np.broadcast_to(spec.active[k], values.shape)  # rows share the active entries
        check_run_value(k, values[mask], spec.mechanisms, where=sim(k))
    if spec.scales_nothing:
        _check_nothing_to_scale(params, top)
    task = {k: np.asarray(v) for k, v in params.task.items()}
    for k, rng in spec.task_ranges.items():
        check_range(rng, f"{where}.task[{k!r}]", task[k])
    for low, high in spec.task_order:
        bad = np.asarray(task[low] > task[high])
        if bad.any():
            raise ValueError(f"{where}.task[{low!r}] must be <= {where}.task[{high!r}]; got "
                             f"{show(task[low])} > {show(task[high])}")


def _check_nothing_to_scale(params, top) -> None:
    """An env built without randomised parameters refuses a nonzero spread or drift (it
    would scale nothing)."""
    for f in ("param_spread", "param_drift"):
        value = np.asarray(getattr(params, f, 0.0))
        if np.any(value != 0):
            raise ValueError(
                f"{top(f)} is {show(value)}, but this env randomises no parameters: it was "
                "built with param_spread=0 and param_drift=0 and no randomize=(...), so "
                "nothing would be scaled. Build it with param_spread/param_drift > 0 (every "
                "channel conductance) or randomize=('HH_gNa', ...)")


def _check_structure(default, params, where: str, batch: tuple, shared_ok: bool) -> None:
    """``params`` has the pytree structure of ``default`` and every leaf its shape (after
    the ``batch`` axes, or shared with ``shared_ok``); for envs without ``EnvParams``."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    ref_leaves, ref_treedef = jax.tree_util.tree_flatten(default)
    if treedef != ref_treedef:
        raise ValueError(f"{where} must have the structure of the env's default_params (e.g."
                         f" env.default_params.replace(...)); got {treedef}, expected "
                         f"{ref_treedef}")
    for (path, leaf), ref in zip(leaves, ref_leaves, strict=True):
        _check_shape(f"{where}{jax.tree_util.keystr(path)}", leaf, np.shape(ref), batch,
                     shared_ok)


def check_env_scalar(name: str, value) -> None:
    """A constructor keyword of ``NeuronEnv`` that sets an ``EnvParams`` scalar
    (``action_scale``, ``obs_noise_std``, ...): ``TypeError`` unless a real number,
    ``ValueError`` unless in :data:`ENV_FIELD_RANGES`."""
    rng = ENV_FIELD_RANGES[name]
    ok_types = (int, np.integer) if rng.integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool | np.bool_) or not isinstance(value, ok_types):
        kind = "an int" if rng.integer else "a real number"
        raise TypeError(f"{name} must be {kind} ({rng.describe(True)}), got {show(value)}")
    check_range(rng, name, value)


# ---------------------------------------------------------------------- key, state, action
def check_key(key, where: str = "key") -> None:
    """A single JAX PRNG key: a typed key of shape () (``jax.random.key(seed)``) or a raw
    uint32 key of shape (2,) (``jax.random.PRNGKey(seed)``); static, works on tracers."""
    dtype = getattr(key, "dtype", None)
    shape = tuple(getattr(key, "shape", ()))
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if shape != ():
            raise ValueError(f"{where} must be a single JAX key (shape ()), got a key array of "
                             f"shape {shape}: vmap over a batch of keys")
        return
    if dtype is not None and np.dtype(dtype) == np.uint32 and shape == (2,):
        return
    raise TypeError(f"{where} must be a JAX PRNG key (jax.random.key(seed)), got "
                    f"{show(key)}")


def check_state(state, state_type, where: str = "state") -> None:
    """``state`` must be an instance of the env's state class (``EnvState``)."""
    if type(state) is not state_type:
        raise TypeError(f"{where} must be the {state_type.__name__} returned by reset/step, "
                        f"got {show(state)}")


def check_action(action, n_sites: int, where: str = "action"):
    """``action`` as a float32 (n_sites,) array; static checks only (so it runs on traced
    actions too): ``TypeError`` unless real numbers, ``ValueError`` unless it has n_sites
    entries (shape (n_sites,), or () with one site). NaN and ±inf are not refused here (the
    values may be traced): ±inf is clipped to ±1, and a NaN makes the simulation non-finite,
    which the env flags (``info["numerical_error"]``)."""
    if action is None or isinstance(action, str | bytes):
        raise TypeError(f"{where} must be a real array of shape ({n_sites},), got "
                        f"{show(action)}")
    dtype = getattr(action, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(action).dtype
        except (TypeError, ValueError) as err:  # ragged nesting
            raise TypeError(f"{where} must be a real array of shape ({n_sites},), got "
                            f"{show(action)}") from err
    if np.dtype(dtype).kind not in ("i", "u", "f"):
        raise TypeError(f"{where} must be real numbers (int or float) of shape ({n_sites},), "
                        f"got dtype {np.dtype(dtype)} ({show(action)})")
    shape = tuple(np.shape(action))
    if shape not in ((n_sites,), ()) or (shape == () and n_sites != 1):
        raise ValueError(f"{where} must have shape ({n_sites},) (one entry per stimulation "
                         f"site), got shape {shape}")
    return jnp.asarray(action, jnp.float32).reshape(n_sites)
