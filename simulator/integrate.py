"""Simulation entry points: ``integrate`` and ``build_init_and_step_fn`` (reference-compatible).

Both run the same pure step (:mod:`simulator.step`). ``integrate`` runs it in one jitted
``lax.scan`` (optionally nested and checkpointed) and records the requested states.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from simulator.assemble import all_parameters, all_states, check_param_state, params_to_pstate
from simulator.scan import nested_checkpoint_scan
from simulator.solvers.voltage import check_solver_names, default_width
from simulator.step import make_step_fn


def _compiled(module):
    base = module.base
    base.to_jax()
    return base._compiled


def _make_init_fn(module, compiled, solver, step_fn, node_arrays=None):
    indices = [np.asarray(i) for i in module.base.indices_set_by_trainables]
    arrays = compiled.node_arrays if node_arrays is None else node_arrays

    def init_fn(params, all_states_=None, param_state=None, delta_t=0.025):
        if isinstance(params, list | tuple) and len(params) == 0:
            # No params given (integrate's default): the trainables' current values.
            params = module.base.get_parameters()
        pstate = params_to_pstate(params, indices) + list(param_state or [])
        check_param_state(compiled, pstate)
        all_params = all_parameters(compiled, arrays, pstate)
        if solver == "exp_euler":  # dense matrix exponentials once, not every step
            conductances = all_params["axial_conductances"]
            all_params["exp_euler_transition"] = step_fn.coupling.transition(
                conductances["v"], delta_t)
            if compiled.diffusion_states:
                all_params["exp_euler_transition_ions"] = {
                    ion: step_fn.coupling.transition(conductances[ion], delta_t)
                    for ion in compiled.diffusion_states}
        if all_states_ is None:
            all_states_ = all_states(compiled, arrays, pstate, all_params)
        return all_states_, all_params

    return init_fn


def build_init_and_step_fn(module, voltage_solver: str = "jaxley.dhs", solver: str = "bwd_euler",
                           *, dhs_width: int | None = None):
    """Return ``(init_fn, step_fn)`` for step-by-step simulation.

    ``init_fn(params, all_states=None, param_state=None, delta_t=0.025) -> (all_states,
    all_params)``: ``params`` from ``get_parameters()``, ``param_state`` from ``data_set``.
    ``step_fn(all_states, all_params, externals, external_inds=<module's>, delta_t=0.025)
    -> all_states``: ``externals[key]`` holds this step's values, shape (n_inputs_of_key,).
    Both are pure and jit/vmap/grad-able. The module's values are read now: rebuild after
    changing the module. ``dhs_width`` sets the DHS level width (default 1 on CPU, 32 on
    accelerators).
    """
    check_solver_names(solver, voltage_solver)
    compiled = _compiled(module)
    step = make_step_fn(compiled, solver, voltage_solver, dhs_width)
    default_inds = {k: np.asarray(v) for k, v in module.base.external_inds.items()}
    # Jitted here so that a Python loop over step_fn costs one dispatch per call; inside a
    # user's jit/vmap/grad the inner jit is simply inlined. A Python-number ``delta_t`` is
    # a static argument (compiled once per value, no transfer per call); a traced or array
    # one goes through the general function.
    step_default = jax.jit(lambda s, p, e, dt: step(s, p, e, default_inds, dt),
                           static_argnums=3)
    step_general = jax.jit(step)

    def step_fn(all_states, all_params, externals, external_inds=None, delta_t=0.025):
        if ((external_inds is None or _same_inds(external_inds, default_inds))
                and type(delta_t) in (float, int)):
            return step_default(all_states, all_params, externals, delta_t)
        if external_inds is None:
            external_inds = default_inds
        return step_general(all_states, all_params, externals, external_inds, delta_t)

    step_fn.coupling = step.coupling
    return _jitted_init(_make_init_fn(module, compiled, solver, step)), step_fn


def _jitted_init(init_fn):
    """``init_fn`` compiled as one program, returning dicts in ``init_fn``'s key order.

    Run op by op, initialisation compiled ~50 small operations one at a time (1.8 s for a
    13-node cell, against 0.09 s jitted). ``jax.jit`` returns dicts with sorted keys, so the
    order seen while tracing is recorded and restored.
    """
    orders = {}

    def record(tree):
        if isinstance(tree, dict):
            orders[frozenset(tree)] = list(tree)
        if isinstance(tree, dict | tuple | list):
            for value in tree.values() if isinstance(tree, dict) else tree:
                record(value)

    def traced(*args, **kwargs):
        out = init_fn(*args, **kwargs)
        record(out)
        return out

    jitted = jax.jit(traced)

    def reorder(tree):
        if not isinstance(tree, dict):
            return tree
        keys = orders.get(frozenset(tree), list(tree))
        return {k: reorder(tree[k]) for k in keys}

    @functools.wraps(init_fn)
    def init(*args, **kwargs):
        return tuple(reorder(part) for part in jitted(*args, **kwargs))

    return init


def _same_inds(given: dict, default: dict) -> bool:
    if given is default:
        return True
    if given.keys() != default.keys():
        return False
    for k, inds in given.items():
        if inds is default[k]:  # e.g. module.external_inds.copy(): the same arrays
            continue
        if not (isinstance(inds, np.ndarray) and np.array_equal(inds, default[k])):
            return False
    return True


def add_stimuli(externals: dict, external_inds: dict, data_stimuli):
    """Merge ``data_stimulate`` output into ``externals``/``external_inds`` (key ``"i"``)."""
    return _merge(externals, external_inds, data_stimuli)


def add_clamps(externals: dict, external_inds: dict, data_clamps):
    """Merge ``data_clamp`` output into ``externals``/``external_inds``."""
    return _merge(externals, external_inds, data_clamps)


def _merge(externals, external_inds, data):
    externals, external_inds = dict(externals), dict(external_inds)
    if data is None:
        return externals, external_inds
    for key, values, inds in zip(*data, strict=True):
        values = jnp.asarray(values)
        if key in externals:
            externals[key] = jnp.concatenate([jnp.asarray(externals[key]), values])
            external_inds[key] = np.concatenate([external_inds[key], inds])
        else:
            externals[key], external_inds[key] = values, np.asarray(inds)
    return externals, external_inds


def _time(value, name: str, expected: str, positive: bool) -> float:
    """A concrete, finite time (Python, numpy or 0-d jax scalar) as a float."""
    try:
        number = float(value)
    except (TypeError, jax.errors.ConcretizationTypeError) as err:
        raise ValueError(f"{name} must be {expected} (a concrete number), got {value!r}") from err
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def _scalar(value):
    """Python and numpy scalars as they are (keeping numpy's promotion rules), arrays as numpy."""
    return value if isinstance(value, int | float | np.number) else np.asarray(value)[()]


def _fit_length(key, values, n_steps):
    """Cut, pad or refuse an input of T samples for a run of ``n_steps`` steps.

    ``step_current(..., t_max)`` has one sample more than ``integrate(t_max=...)`` runs steps
    (its last sample would drive the step after t_max), so that sample is always cut. Beyond
    it, an input that would lose information is refused: a stimulus with non-zero current
    there, or any traced input or clamp that long. Shorter stimuli are padded with zeros;
    shorter clamps are refused.
    """
    T = values.shape[1]
    if T > n_steps + 1:
        concrete = key == "i" and not isinstance(values, jax.core.Tracer)
        lost = np.any(np.asarray(values)[:, n_steps + 1 :] != 0) if concrete else True
        if lost:
            what = "non-zero current" if concrete else f"{T - n_steps - 1} samples"
            raise ValueError(
                f"the input {key!r} has {what} after the simulation's {n_steps} steps"
                f" ({T} samples, at most {n_steps + 1} are used): it is longer than the"
                " simulation; lengthen t_max or shorten the input"
            )
    if T >= n_steps:
        return values[:, :n_steps]
    if key != "i":
        raise ValueError(
            f"the clamp of {key!r} has {T} samples but the simulation runs {n_steps} steps:"
            " a clamp must cover every step"
        )
    return jnp.pad(jnp.asarray(values), ((0, 0), (0, n_steps - T)))


def integrate(module, params=[], *, param_state=None, data_stimuli=None,  # noqa: B006
              data_clamps=None, t_max=None, delta_t=0.025, solver="bwd_euler",
              voltage_solver="jaxley.dhs", checkpoint_lengths=None, all_states=None,
              return_states=False, dhs_width=None):
    """Simulate ``module`` and return its recordings.

    Args:
        module: a Compartment, Branch, Cell or Network with at least one ``record()``.
        params: trainable parameters (``get_parameters()``), differentiable. Empty (the
            default): the trainables' current values, as ``get_parameters()`` returns them.
        param_state: ``data_set`` entries (jit-safe parameter/initial-state overrides).
        data_stimuli, data_clamps: ``data_stimulate`` / ``data_clamp`` outputs.
        t_max: simulated time (ms); ``int(t_max // delta_t + 1)`` steps. Default: as many
            steps as the inputs have samples.
        delta_t: time step (ms).
        solver: ``bwd_euler`` | ``crank_nicolson`` | ``fwd_euler`` | ``exp_euler``.
        voltage_solver: ``jaxley.dhs`` (default) | ``dhs`` | ``jaxley.dhs.cpu`` |
            ``jaxley.dhs.gpu`` | ``dense``.
        checkpoint_lengths: nested-scan lengths whose product ≥ the number of steps;
            reverse-mode memory then grows with their sum instead of the number of steps.
        all_states: start from these states (e.g. a previous ``return_states=True`` run).
        return_states: also return the final ``all_states``.
        dhs_width: DHS level width (default 1 on CPU, 32 on accelerators).

    Returns:
        (n_recordings, n_steps + 1) recorded values (column 0 is the initial state), and the
        final states if ``return_states``.
    """
    check_solver_names(solver, voltage_solver)
    dt_given = delta_t
    delta_t = _time(delta_t, "delta_t", "a positive time step in ms", positive=True)
    base = module.base
    if len(base.recordings) == 0:
        raise ValueError("no recordings: call .record() on the module (e.g. cell.record('v'))")
    compiled = _compiled(module)
    externals = {k: np.asarray(v) for k, v in base.externals.items()}
    externals, external_inds = add_stimuli(externals, base.external_inds, data_stimuli)
    externals, external_inds = add_clamps(externals, external_inds, data_clamps)
    lengths = {k: v.shape[1] for k, v in externals.items()}
    if t_max is None:
        if not externals:
            raise ValueError("give t_max or at least one stimulus or clamp (none defined)")
        if len(set(lengths.values())) > 1:
            raise ValueError(f"inputs have different numbers of samples {lengths}; give t_max")
        n_steps = next(iter(lengths.values()))
    else:
        _time(t_max, "t_max", "a non-negative time in ms", positive=False)
        # In the inputs' own precision, as the reference (float32 0.025 differs from 0.025).
        n_steps = int(_scalar(t_max) // _scalar(dt_given) + 1)
    externals = {k: _fit_length(k, v, n_steps) for k, v in externals.items()}
    if checkpoint_lengths is not None:
        checkpoint_lengths = tuple(int(c) for c in checkpoint_lengths)
        if any(c < 1 for c in checkpoint_lengths) or math.prod(checkpoint_lengths) < n_steps:
            raise ValueError(
                f"checkpoint_lengths {checkpoint_lengths} must be positive with a product of at"
                f" least the number of steps ({n_steps})"
            )
    width = default_width(voltage_solver) if dhs_width is None else dhs_width
    param_state = list(param_state or [])
    check_param_state(compiled, param_state)
    pstate_keys = tuple(entry["key"] for entry in param_state)
    pstate_values = [(entry["val"], entry["indices"]) for entry in param_state]
    rec = base.recordings
    trainable_layout = tuple(np.asarray(i).tobytes() + bytes(str(np.shape(i)), "ascii")
                             for i in base.indices_set_by_trainables)
    key = (compiled.signature, solver, voltage_solver, width, n_steps, checkpoint_lengths,
           pstate_keys, trainable_layout,
           return_states, tuple(rec["state"]), rec["rec_index"].to_numpy().tobytes(),
           tuple((k, np.asarray(v).tobytes()) for k, v in sorted(external_inds.items())))
    cache = base.__dict__.setdefault("_runners", {})
    if key not in cache:
        if len(cache) >= 8:  # keep the most recent configurations compiled
            cache.pop(next(iter(cache)))
        cache[key] = _make_runner(module, compiled, solver, voltage_solver, width, n_steps,
                                  checkpoint_lengths, return_states, rec, external_inds,
                                  pstate_keys)
    node_arrays = {k: jnp.asarray(v) for k, v in compiled.node_arrays.items()}
    return cache[key](node_arrays, params, pstate_values, externals, all_states, delta_t)


def _make_runner(module, compiled, solver, voltage_solver, width, n_steps, checkpoint_lengths,
                 return_states, recordings, external_inds, pstate_keys):
    step = make_step_fn(compiled, solver, voltage_solver, width)
    states_of_rec = recordings["state"].to_numpy()
    inds_of_rec = recordings["rec_index"].to_numpy()
    groups = [(s, inds_of_rec[states_of_rec == s]) for s in dict.fromkeys(states_of_rec)]
    order = np.concatenate([np.flatnonzero(states_of_rec == s) for s, _ in groups])
    inverse = np.argsort(order)
    ext_inds = {k: np.asarray(v) for k, v in external_inds.items()}

    def record(states):
        return jnp.concatenate([states[s][i] for s, i in groups])[inverse]

    @jax.jit
    def run(node_arrays, params, pstate_values, externals, initial_states, delta_t):
        param_state = [{"key": k, "val": val, "indices": inds}
                       for k, (val, inds) in zip(pstate_keys, pstate_values, strict=True)]
        init_fn = _make_init_fn(module, compiled, solver, step, node_arrays)
        states, all_params = init_fn(params, initial_states, param_state, delta_t)

        def body(carry, x):
            new = step(carry, all_params, x["ext"], ext_inds, delta_t)
            # Steps past n_steps (padding of a checkpointed scan) leave the state unchanged.
            if checkpoint_lengths is not None:
                new = jax.tree_util.tree_map(lambda a, b: jnp.where(x["active"], a, b), new,
                                             carry)
            return new, record(new)

        xs = {"ext": {k: jnp.asarray(v).T for k, v in externals.items()},
              "active": jnp.ones(n_steps, dtype=bool)}
        final, recs = nested_checkpoint_scan(body, states, xs, checkpoint_lengths, n_steps)
        out = jnp.concatenate([record(states)[None], recs[:n_steps]]).T
        return (out, final) if return_states else out

    return run
