"""The init program: a module's initial states and all parameters from its node arrays,
trainable ``params`` and ``data_set`` entries (``init_fn``, and the first stage of
``integrate``'s run)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from simulator.assemble import all_parameters, check_param_state, params_to_pstate
from simulator.assemble import all_states as _all_states
from simulator.modules.electrodes import electrode_arrays
from simulator.program import InitProgram, index_array, structure_of


class _Ordered:
    """A dict that keeps its key order through ``jax.jit`` (which sorts plain dicts' keys)."""

    def __init__(self, items: dict) -> None:
        self.items = items


jax.tree_util.register_pytree_node(
    _Ordered,
    lambda o: (tuple(o.items.values()), tuple(o.items)),
    lambda keys, values: _Ordered(dict(zip(keys, values, strict=True))),
)


def _ordered(tree):
    """Nested dicts as :class:`_Ordered` (inside a jitted function, before returning)."""
    if isinstance(tree, dict):
        return _Ordered({k: _ordered(v) for k, v in tree.items()})
    return tree


def plain(tree):
    """Undo :func:`_ordered` (after the jitted function returned)."""
    if isinstance(tree, _Ordered):
        return {k: plain(v) for k, v in tree.items.items()}
    return tree


def initialise(program: InitProgram, node_arrays, params, pstate_values, initial_states):
    """``(all_states, all_params)``; pure: reads only the static ``program`` and its arguments."""
    compiled = program.structure.compiled
    indices = [index_array(inds) for inds in program.trainable_inds]
    data = [{"key": k, "val": val, "indices": inds}
            for k, (val, inds) in zip(program.pstate_keys, pstate_values, strict=True)]
    pstate = params_to_pstate(params, indices) + data
    check_param_state(compiled, pstate)
    all_params = all_parameters(compiled, node_arrays, pstate)
    if compiled.electrodes:
        all_params["extracellular"] = electrode_arrays(compiled, node_arrays)
    if initial_states is None:
        initial_states = _all_states(compiled, node_arrays, pstate, all_params)
    return initial_states, all_params


@functools.partial(jax.jit, static_argnames="program")
def init(node_arrays, params, pstate_values, initial_states, *, program):
    """``init_fn`` as one compiled program (op by op, a 13-node cell's initialisation took
    1.8 s against 0.09 s jitted); dicts keep ``initialise``'s key order (undo with
    :func:`plain`)."""
    states, all_params = initialise(program, node_arrays, params, pstate_values,
                                    initial_states)
    return _ordered(states), _ordered(all_params)


def device_arrays(compiled) -> dict:
    return {k: jnp.asarray(v) for k, v in compiled.node_arrays.items()}


def own_values(compiled) -> tuple[dict, dict]:
    """``(all_states, all_params)`` of the module's own values as built (no ``params`` or
    ``data_set`` overrides)."""
    program = InitProgram(structure_of(compiled), (), ())
    states, params = init(device_arrays(compiled), [], [], None, program=program)
    return plain(states), plain(params)
