"""Flat dynamic-state helpers for step-by-step simulation (jaxley's
``jaxley.utils.dynamics.build_dynamic_state_utils``).

``init_fn``/``step_fn`` of :func:`simulator.integrate.build_init_and_step_fn` work on
``all_states``: every state as (n_nodes,) arrays with branch points (value -1) and NaN where a
channel is absent, plus observables (the membrane, pump and synapse currents). The true ODE
state is smaller. :func:`build_dynamic_state_utils` returns four functions that strip the
observables and padding (``remove_observables``), put them back (``add_observables``,
which recomputes the currents from the states) and convert the stripped dict to one flat
vector and back (``flatten``, ``unflatten``) — the form control, RL and filtering libraries
(e.g. dynamax) expect::

    init_fn, step_fn = build_init_and_step_fn(cell)
    remove_observables, add_observables, flatten, unflatten = build_dynamic_state_utils(cell)
    all_states, all_params = init_fn(params)
    x = flatten(remove_observables(all_states))                # (n_dynamic,)
    all_states = add_observables(unflatten(x), all_params, delta_t=0.025)

A current that a mechanism lists among its states (e.g. ``i_Ca`` read by a calcium pump) is
kept as a dynamic state, as in jaxley.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from simulator.initialise import own_values
from simulator.membrane import all_currents, synapse_currents

__all__ = ["build_dynamic_state_utils"]

#: Value of every membrane state at a branch point (as in ``init_fn``'s ``all_states``).
BRANCH_POINT_VALUE = -1.0


class _Layout:
    """Which entries of ``all_states`` are dynamic.

    Attributes:
        membrane: {state name: (k,) node indices where it is defined (compartments only)}.
        synapse: names of synapse states (kept whole, shape (n_synapses_of_type,)).
        n_nodes: nodes of the module (compartments and branch points).
        comp_nodes: (n_comps,) node indices of the compartments.
        branch_points: node indices of the branch points.
    """

    def __init__(self, compiled, reference: dict) -> None:
        self.n_nodes = int(compiled.numbering.n_nodes)
        self.comp_nodes = np.flatnonzero(np.asarray(compiled.is_comp))
        self.branch_points = np.flatnonzero(~np.asarray(compiled.is_comp))
        self.membrane = {}
        for name in compiled.state_names:
            values = np.asarray(reference[name])[self.comp_nodes]
            self.membrane[name] = self.comp_nodes[~np.isnan(values)]
        self.synapse = tuple(compiled.synapse_state_names)

    def strip(self, all_states: dict) -> dict:
        missing = [k for k in (*self.membrane, *self.synapse) if k not in all_states]
        if missing:
            raise ValueError(f"remove_observables: all_states lacks the states {missing}"
                             f" (expected init_fn's or step_fn's all_states)")
        out = {k: jnp.asarray(all_states[k])[inds] for k, inds in self.membrane.items()}
        out.update({k: all_states[k] for k in self.synapse})
        return out

    def pad(self, dynamic: dict) -> dict:
        missing = [k for k in (*self.membrane, *self.synapse) if k not in dynamic]
        if missing:
            raise ValueError(f"add_observables: the dynamic states lack {missing}")
        states = {}
        for name, inds in self.membrane.items():
            values = jnp.asarray(dynamic[name])
            full = jnp.full(self.n_nodes, jnp.nan, dtype=values.dtype)
            full = full.at[self.branch_points].set(BRANCH_POINT_VALUE)
            states[name] = full.at[inds].set(values)
        states.update({k: dynamic[k] for k in self.synapse})
        return states


def _module_compiled(module):
    base = getattr(module, "base", None)
    if base is None or not hasattr(base, "to_jax"):
        raise TypeError(f"build_dynamic_state_utils expects a Module (Compartment, Branch,"
                        f" Cell, Network) or a view of one, got {type(module).__name__}")
    base.to_jax()
    return base._compiled


def build_dynamic_state_utils(module):
    """``(remove_observables, add_observables, flatten, unflatten)`` of ``module``.

    The module is read now (its structure and which compartments carry each mechanism);
    rebuild after changing it. All four functions are pure and jit/grad/vmap-able.

    * ``remove_observables(all_states) -> dynamic_states``: drops currents, branch-point
      entries and NaN padding; membrane states become shape (k,) (the k compartments where
      the state exists), synapse states stay (n_synapses_of_type,).
    * ``add_observables(dynamic_states, all_params, delta_t) -> all_states``: the inverse:
      padding (NaN where absent, -1 at branch points) restored and every membrane, pump and
      synapse current recomputed at the given states and ``all_params`` (``init_fn``'s);
      ``delta_t`` (ms) is accepted for jaxley's signature (the currents do not depend on it).
    * ``flatten(dynamic_states) -> x``: one vector (n_dynamic,) (keys in sorted order).
    * ``unflatten(x) -> dynamic_states``: the inverse of ``flatten``.

    Args:
        module: a Module or a view (its whole module is used, as in
            ``build_init_and_step_fn``).
    """
    compiled = _module_compiled(module)
    reference, _ = own_values(compiled)
    layout = _Layout(compiled, reference)
    _, unflatten = ravel_pytree(layout.strip(reference))

    def remove_observables(all_states: dict) -> dict:
        return layout.strip(all_states)

    def add_observables(dynamic_states: dict, all_params: dict, delta_t=0.025) -> dict:
        states = layout.pad(dynamic_states)
        *_, currents = all_currents(compiled, states, all_params, states["v"])
        states.update(currents)
        states.update(synapse_currents(compiled.synapses, states, all_params, states["v"]))
        return states

    def flatten(dynamic_states: dict):
        return ravel_pytree(dynamic_states)[0]

    return remove_observables, add_observables, flatten, unflatten
