"""Simulation entry points: ``integrate`` and ``build_init_and_step_fn`` (jaxley-compatible).

Both run the same pure step (:mod:`simulator.step`). ``integrate`` runs it in one jitted
``lax.scan`` (optionally nested and checkpointed) and records the requested states.

Each entry point calls one module-level ``jax.jit``-ed function (``_run``, ``_init``,
``_step``) with a frozen description of the program (:mod:`simulator.program`) as its static
argument and every value as a traced argument. The module is read outside the trace, when the
call is prepared, so a result never depends on what an earlier call compiled; modules of the
same structure share compilations. ``integrate(..., electrodes={name: Electrode | Medium |
dict of positions/weights/sigma})`` replaces registered electrodes' values (traced: grad and
vmap over electrode position and σ).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from simulator.assemble import check_param_state
from simulator.batch_last import batch_last, supports_batch_last
from simulator.extracellular import coupling
from simulator.initialise import device_arrays, plain
from simulator.initialise import init as _init
from simulator.initialise import initialise as _initialise
from simulator.inputs import add_clamps as add_clamps  # jaxley's path: jaxley.integrate
from simulator.inputs import add_stimuli as add_stimuli  # jaxley's path: jaxley.integrate
from simulator.inputs import fit_length, merged_inputs, number_of_steps
from simulator.modules.electrodes import electrode_overrides
from simulator.modules.exp_euler_custom import TRANSITION_KEY, transition_override
from simulator.param_ranges import in_range
from simulator.physical_range import check_nonsingular_module
from simulator.program import (
    InitProgram,
    RunProgram,
    StepProgram,
    check_dhs_width,
    freeze_indices,
    index_array,
    structure_of,
)
from simulator.run_checks import (
    check_all_states,
    check_checkpoint_lengths,
    check_externals,
    check_params,
    check_run_memory,
    check_step_delta_t,
    check_time,
    compiled_mechanisms,
)
from simulator.run_checks import check_param_state as check_param_state_values
from simulator.scan import nested_checkpoint_scan
from simulator.solvers.registry import check_solver_names
from simulator.solvers.stability import check_module
from simulator.solvers.voltage import default_width
from simulator.step import make_step_fn


def _compiled(module):
    base = module.base
    base.to_jax()
    return base._compiled


def _make_step(program: StepProgram):
    compiled = program.structure.compiled
    return make_step_fn(compiled, program.solver, program.voltage_solver, program.width)


@functools.partial(jax.jit, static_argnames="program")
def _step(states, all_params, externals, external_inds, delta_t, prepared, *, program):
    """One step; ``program.external_inds`` / ``program.delta_t``, where set, replace the
    ``external_inds`` / ``delta_t`` arguments (then None) by constants; ``prepared`` as
    :class:`simulator.step.Step` takes it."""
    if program.external_inds is not None:
        external_inds = {k: index_array(v) for k, v in program.external_inds}
    if program.delta_t is not None:
        delta_t = program.delta_t
    return _make_step(program)(states, all_params, externals, external_inds, delta_t,
                               prepared)


def _trainable_inds(base) -> tuple:
    return tuple(freeze_indices(i) for i in base.indices_set_by_trainables)


def _frozen_inds(external_inds: dict) -> tuple:
    """``((key, frozen node indices), ...)`` sorted by key."""
    return tuple((k, freeze_indices(v)) for k, v in sorted(external_inds.items()))


def _split_param_state(compiled, param_state) -> tuple[tuple[str, ...], list]:
    """``data_set`` entries -> (static keys, traced ``(val, indices)`` pairs); concrete
    values and indices are checked (ranges, indices within the module)."""
    if param_state is not None and not isinstance(param_state, list | tuple):
        raise TypeError(f"param_state must be a list of data_set() entries or None, got"
                        f" {param_state!r}")
    param_state = list(param_state or [])
    check_param_state(compiled, param_state)
    check_param_state_values(compiled, param_state, compiled_mechanisms(compiled))
    keys = tuple(entry["key"] for entry in param_state)
    return keys, [(entry["val"], entry["indices"]) for entry in param_state]


def _width(voltage_solver: str, dhs_width) -> int | None:
    if voltage_solver == "dense":
        return None
    return check_dhs_width(default_width(voltage_solver) if dhs_width is None else dhs_width)


def build_init_and_step_fn(module, voltage_solver: str = "jaxley.dhs", solver: str = "bwd_euler",
                           *, dhs_width: int | None = None):
    """Return ``(init_fn, step_fn)`` for step-by-step simulation.

    ``init_fn(params, all_states=None, param_state=None, delta_t=0.025) -> (all_states,
    all_params)``: ``params`` from ``get_parameters()`` (empty: the trainables' values at the
    time ``build_init_and_step_fn`` was called), ``param_state`` from ``data_set``;
    ``delta_t`` is checked and otherwise unused (jaxley's signature; see ``prepared``).
    ``step_fn(all_states, all_params, externals, external_inds=<module's>, delta_t=0.025,
    prepared=None) -> all_states``: ``externals[key]`` holds this step's values, shape
    (n_inputs_of_key,); ``prepared``: the solver's precomputation for ``all_params`` and
    ``delta_t`` (``simulator.solvers.registry.make_solver(...).prepare(
    all_params["axial_conductances"], delta_t)``; None: computed in every step, which for
    exp_euler is a dense matrix exponential).
    Both are pure and jit/vmap/grad-able. The module is read now (its structure, values,
    trainables and inputs) and never again: rebuild after changing the module. Modules of
    the same structure share compiled programs. ``dhs_width`` sets the DHS level width
    (default 1 on CPU, 32 on accelerators).
    """
    check_solver_names(solver, voltage_solver)
    compiled = _compiled(module)
    base = module.base
    structure = structure_of(compiled)
    width = _width(voltage_solver, dhs_width)
    node_arrays = device_arrays(compiled)
    trainable_inds = _trainable_inds(base)
    default_params = [{k: jnp.asarray(v) for k, v in entry.items()}
                      for entry in base.get_parameters()]
    default_inds = {k: np.asarray(v) for k, v in base.external_inds.items()}
    frozen_inds = _frozen_inds(default_inds)
    general = StepProgram(structure, solver, voltage_solver, width)
    mechanisms = compiled_mechanisms(compiled)

    def init_fn(params, all_states=None, param_state=None, delta_t=0.025):
        check_step_delta_t(delta_t)
        if isinstance(params, list | tuple) and len(params) == 0:
            params = default_params
        check_params(params, default_params, mechanisms)
        if all_states is not None:
            check_all_states(compiled, all_states, "all_states")
        keys, values = _split_param_state(compiled, param_state)
        program = InitProgram(structure, trainable_inds, keys)
        out = _init(node_arrays, params, values, all_states, program=program)
        return tuple(plain(part) for part in out)

    def step_fn(all_states, all_params, externals, external_inds=None, delta_t=0.025,
                prepared=None):
        fixed_inds = external_inds is None or _same_inds(external_inds, default_inds)
        check_step_delta_t(delta_t)
        check_all_states(compiled, all_states, "all_states")
        check_externals(compiled, externals, default_inds if fixed_inds else external_inds,
                        mechanisms)
        program = _specialised(general, frozen_inds if fixed_inds else None, delta_t)
        return _step(all_states, all_params, externals, None if fixed_inds else external_inds,
                     delta_t if program.delta_t is None else None, prepared, program=program)

    return init_fn, step_fn


def _specialised(general: StepProgram, frozen_inds, delta_t) -> StepProgram:
    """``general`` with the module's own indices (``frozen_inds``; None: traced) and a
    Python-number ``delta_t`` as constants (no transfer per call; one compile per value)."""
    fixed_dt = type(delta_t) in (float, int)
    return dataclasses.replace(general, external_inds=frozen_inds,
                               delta_t=float(delta_t) if fixed_dt else None)


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


def integrate(module, params=[], *, param_state=None, data_stimuli=None,  # noqa: B006
              data_clamps=None, t_max=None, delta_t=0.025, solver="bwd_euler",
              voltage_solver="jaxley.dhs", checkpoint_lengths=None, all_states=None,
              return_states=False, dhs_width=None, checks=False, electrodes=None):
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
        voltage_solver: ``jaxley.dhs`` (default) | ``dhs`` | ``jaxley.dhs.cpu|gpu`` | ``dense``;
            jaxley's ``jax.sparse``, ``jaxley.stone``: the exact DHS solve (VOLTAGE_SOLVERS).
        checkpoint_lengths: nested-scan lengths whose product ≥ the number of steps;
            reverse-mode memory then grows with their sum instead of the number of steps.
        all_states: start from these states (e.g. a previous ``return_states=True`` run).
        return_states: also return the final ``all_states``.
        dhs_width: DHS level width (default 1 on CPU, 32 on accelerators).
        checks: also check traced values inside the compiled program (``checkify``): every
            ``params``/``param_state`` value in its range, finite inputs and initial states,
            finite recordings. Concrete values are always checked before tracing. Under a
            user's ``jit``, wrap the caller in ``jax.experimental.checkify.checkify``.

    Returns:
        (n_recordings, n_steps + 1) recorded values (column 0 is the initial state; then
        µV rows of recorded electrodes), and the final states if ``return_states``.

    Raises:
        ValueError/TypeError: bad arguments, values outside their parameters' ranges
            (:mod:`simulator.param_ranges`), or a run whose buffers would not fit in memory
            (:func:`simulator.run_checks.check_run_memory`).
    """
    check_solver_names(solver, voltage_solver)
    dt_given = delta_t
    delta_t = check_time(delta_t, "delta_t", "a positive time step in ms", positive=True)
    base = module.base
    if len(base.recordings) == 0 and not any(e.recorded for e in base._data.electrodes.values()):
        raise ValueError("no recordings: call .record() or .record_extracellular(name)")
    compiled = _compiled(module)
    check_module(module, solver, delta_t)  # NumericalStabilityWarning past fwd_euler's bound
    externals, external_inds, n_steps, checkpoint_lengths = _inputs(
        base, compiled, data_stimuli, data_clamps, t_max, dt_given, checkpoint_lengths,
        all_states)
    params, keys, pstate_values = _parameters(base, compiled, params, param_state)
    step = StepProgram(structure_of(compiled), solver, voltage_solver,
                       _width(voltage_solver, dhs_width), _frozen_inds(external_inds))
    program = _run_program_of(base, step, keys, n_steps, checkpoint_lengths, return_states,
                              checks)
    nodes = _node_arrays(base, compiled, electrodes, solver)
    args = (nodes, params, pstate_values, externals, all_states, delta_t)
    if not checks:
        return _run(*args, program=program)
    error, out = _run_checked(*args, program=program)
    checkify.check_error(error)
    return out


def _node_arrays(base, compiled, electrodes, solver: str) -> dict:
    """The run's node arrays: the module's, electrode overrides, and a custom exp_euler
    transition matrix (``customize_solver_exp_euler``) when the solver uses it."""
    return {**device_arrays(compiled), **electrode_overrides(base, electrodes),
            **transition_override(base, solver)}


def _inputs(base, compiled, data_stimuli, data_clamps, t_max, delta_t, checkpoint_lengths,
            all_states):
    """``(externals, external_inds, n_steps, checkpoint_lengths)`` of a run, checked (also
    its memory and ``all_states``) and each input fitted to the ``n_steps`` steps."""
    if all_states is not None:
        check_all_states(compiled, all_states, "all_states")
    externals, external_inds = merged_inputs(base, data_stimuli, data_clamps)
    n_steps = number_of_steps(externals, t_max, delta_t)
    checkpoint_lengths = check_checkpoint_lengths(checkpoint_lengths, n_steps)
    check_run_memory(
        n_steps=n_steps, n_recordings=len(base.recordings),
        input_rows=sum(v.shape[0] for v in externals.values()),
        state_values=compiled.n_nodes * (len(compiled.state_names)
                                         + len(compiled.current_names)),
        checkpoint_lengths=checkpoint_lengths,
        itemsize=jax.dtypes.canonicalize_dtype(jnp.float64).itemsize,
        t_max=t_max, delta_t=delta_t)
    externals = {k: fit_length(k, v, n_steps) for k, v in externals.items()}
    return externals, external_inds, n_steps, checkpoint_lengths


def _parameters(base, compiled, params, param_state):
    """``(params, pstate keys, pstate values)``, checked; empty ``params``: the trainables'
    current values."""
    check_nonsingular_module(base, "integrate")  # radius, length, ... <= 0: ValueError
    keys, pstate_values = _split_param_state(compiled, param_state)
    if isinstance(params, list | tuple) and len(params) == 0:
        params = base.get_parameters()
    check_params(params, base.get_parameters(), compiled_mechanisms(compiled))
    return params, keys, pstate_values


def _run_program_of(base, step: StepProgram, pstate_keys, n_steps, checkpoint_lengths,
                    return_states, checks) -> RunProgram:
    rec = base.recordings
    return RunProgram(
        init=InitProgram(step.structure, _trainable_inds(base), pstate_keys),
        step=step,
        n_steps=n_steps,
        checkpoint_lengths=checkpoint_lengths,
        return_states=bool(return_states),
        recordings=tuple((str(s), int(i)) for s, i in zip(rec["state"], rec["rec_index"],
                                                           strict=True)),
        checks=bool(checks),
    )


@functools.partial(jax.jit, static_argnames="program")
def _run_checked(node_arrays, params, pstate_values, externals, initial_states, delta_t, *,
                 program):
    """:func:`_run` under ``checkify`` (``integrate(..., checks=True)``): ``(error, out)``."""
    run = functools.partial(_run_program, program=program)
    return checkify.checkify(run, errors=checkify.user_checks)(
        node_arrays, params, pstate_values, externals, initial_states, delta_t)


def _check_traced(program: RunProgram, params, pstate_values, externals, states, out):
    """``checkify`` checks of a checked run (values in range, finite inputs and outputs)."""
    mechanisms = compiled_mechanisms(program.init.structure.compiled)
    for i, entry in enumerate(params):
        for key, val in entry.items():
            checkify.check(jnp.all(in_range(key, val, mechanisms)),
                           f"params[{i}] ({key!r}) is outside its valid range or not finite")
    for key, (val, _) in zip(program.init.pstate_keys, pstate_values, strict=True):
        checkify.check(jnp.all(in_range(key, val, mechanisms)),
                       f"param_state value of {key!r} is outside its valid range or not finite")
    for key, values in externals.items():
        checkify.check(jnp.all(jnp.isfinite(values)), f"input {key!r} is not finite")
    for key, values in states.items():
        checkify.check(jnp.all(jnp.isfinite(values)), f"initial state {key!r} is not finite")
    checkify.check(jnp.all(jnp.isfinite(out)), "the recordings are not finite (NaN or inf)")


def _run_program(node_arrays, params, pstate_values, externals, initial_states, delta_t, *,
                 program):
    """``integrate``'s one program (jitted as ``_run``): initialise, scan the steps, record."""
    step_program = program.step
    step = _make_step(step_program)
    ext_inds = {k: index_array(v) for k, v in step_program.external_inds}
    states_of_rec = np.asarray([s for s, _ in program.recordings], dtype=object)
    inds_of_rec = np.asarray([i for _, i in program.recordings], dtype=np.int64)
    groups = [(s, inds_of_rec[states_of_rec == s]) for s in dict.fromkeys(states_of_rec)]
    order = np.concatenate([np.flatnonzero(states_of_rec == s) for s, _ in groups] + [[]])
    order = order.astype(np.int64)
    inverse = np.argsort(order)
    checkpointed = program.checkpoint_lengths is not None

    recorded = any(e[3] for e in step_program.structure.compiled.electrodes)
    outputs = bool(program.recordings) or recorded

    def record(states, prepared, ext=None, inds=None):
        rows = [states[s][i] for s, i in groups]
        out = jnp.concatenate(rows)[inverse] if rows else jnp.zeros(0, states["v"].dtype)
        if not recorded:
            return out
        lfp = coupling.recorded_potentials(prepared["extracellular"], states["v"], ext or {},
                                           inds or {})
        return jnp.concatenate([out, lfp.astype(out.dtype)])

    node_arrays = dict(node_arrays)
    custom = node_arrays.pop(TRANSITION_KEY, None)  # customize_solver_exp_euler's matrix
    states, all_params = _initialise(program.init, node_arrays, params, pstate_values,
                                     initial_states)
    prepared = step.prepare(all_params, delta_t)  # once, not every step (exp_euler: expm)
    if custom is not None:
        prepared = {**prepared, "v": custom}

    n_steps = program.n_steps

    def steps(states, all_params, xs, delta_t, prepared):
        def body(carry, x):
            new = step(carry, all_params, x["ext"], ext_inds, delta_t, prepared)
            # Steps past n_steps (padding of a checkpointed scan) leave the state unchanged.
            if checkpointed:
                new = jax.tree_util.tree_map(lambda a, b: jnp.where(x["active"], a, b), new,
                                             carry)
            # Nothing recorded: no output (batch_last's outputs must not be empty arrays).
            return new, (record(new, prepared, x["ext"], ext_inds) if outputs else None)

        return nested_checkpoint_scan(body, states, xs, program.checkpoint_lengths, n_steps)

    if supports_batch_last(step.compiled, step.solver):
        steps = batch_last(steps, carried=(0,), shared=(4,))  # node-major under vmap
    xs = {"ext": {k: jnp.asarray(v).T for k, v in externals.items()},
          "active": jnp.ones(n_steps, dtype=bool)}
    final, recs = steps(states, all_params, xs, delta_t, prepared)
    if recs is None:
        recs = jnp.zeros((n_steps, 0), states["v"].dtype)
    out = jnp.concatenate([record(states, prepared)[None], recs[:n_steps]]).T
    if program.checks:
        _check_traced(program, params, pstate_values, externals, states, out)
    return (out, final) if program.return_states else out


_run = jax.jit(_run_program, static_argnames="program")
