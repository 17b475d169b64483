"""Mechanism evaluation on node arrays: state updates and linearised currents.

Shared by the step function and by initialisation so that both see mechanisms identically.
Pumps (:class:`~simulator.pumps.Pump`) are evaluated alongside channels: their states are
advanced like channel states (after every channel), and their currents (−d[ion]/dt, mM/ms)
are linearised in the ion concentration (:func:`pump_currents`).

One convention for every linearisation (channels in v, pumps in [ion], synapses in the
post-synaptic v): :func:`forward_difference` returns the current ``I(x)``, its ``slope``
∂I/∂x and its ``offset`` ∂I/∂x · x − I, so that −I(x') ≈ −slope · x' + offset.
"""

from __future__ import annotations

import functools
import operator

import jax.numpy as jnp
import numpy as np
from jax import lax

from simulator import node_index as ix
from simulator.channels import channel as channel_contract
from simulator.materialise import materialised
from simulator.synapse_sums import DEFAULT_REDUCTION, conductance_sums, node_sums
from simulator.synapses.synapse import has_linear_current, reversal_of

#: Voltage offset (mV) of the forward difference that linearises channel and synapse
#: currents in the voltage (as NEURON).
DV = 1e-3
#: Concentration offset (mM) of the forward difference that linearises pump currents in
#: their ion's concentration.
DC = 1e-3


def forward_difference(f, x, dx):
    """Linearise ``f`` around ``x`` with a forward difference of ``dx`` (units of ``x``).

    Returns:
        ``(current, slope, offset)``: ``f(x)``, ``(f(x + dx) − f(x)) / ((x + dx) − x)`` and
        ``slope · x − f(x)``, each shaped as ``f(x)``.

    The quotient divides by the offset as the dtype represents it, ``(x + dx) − x``, not by
    ``dx``: in float32 ``v + 1e-3`` at −65 mV is off by up to half an ulp (3.8e-6 mV, 0.4 %
    of the offset), and dividing by the nominal offset put that error into every slope
    (0.21 mV float32-vs-float64 over a VoltageTarget episode; 0.016 mV with the represented
    offset; float64 changes by rounding only).
    """
    x_1 = x + dx
    f_0 = f(x)
    slope = (f(x_1) - f_0) / (x_1 - x)
    return f_0, slope, slope * x - f_0


#: Fewest synapses of a type for which the step sums ``ds · e`` as ``e · Σ ds`` when ``e``
#: is uniform (:func:`~simulator.synapse_sums.conductance_sums`): its runtime check and
#: branch cost more than the second sum saves on small networks (BasalGangliaDBS-v0,
#: ≤ 32 synapses per type: `env.step` 9.5–9.8 → 10.4–10.7 ms with it), and 100k synapses
#: save 26 % of the step.
MIN_SYNAPSES_FOR_SHARED_REVERSAL = 4096


#: Geometry parameters every channel receives besides its own parameters.
CHANNEL_GEOMETRY = ("radius", "length", "axial_resistivity", "capacitance")


def channel_params(channel, inds, params, pad: int = 0):
    """The channel's parameters plus geometry, gathered at its compartments ``inds`` (and
    ``pad`` copies of the last, :func:`simulator.node_index.take`)."""
    keys = (*channel.channel_params, *CHANNEL_GEOMETRY)
    return {k: ix.take(params[k], inds, pad) for k in keys}


def channel_states(channel, inds, states, pad: int = 0):
    """The channel's states at ``inds`` (lane-padded as :func:`channel_params`)."""
    return {k: ix.take(states[k], inds, pad) for k in channel.channel_states}


def lane_pad(mechanism, inds, like) -> int:
    """Lane padding (:func:`simulator.node_index.lane_padding`) for a mechanism on ``inds``
    and node arrays like ``like``: 0 for a mechanism that declares ``lane_padding = False``
    (its arithmetic mixes nodes), and 0 for node arrays with trailing batch axes (the
    batch, not the node axis, is then innermost: :mod:`simulator.batch_last`)."""
    if not getattr(mechanism, "lane_padding", True) or like.ndim > 1:
        return 0
    return ix.lane_padding(len(inds), like.dtype)


def update_channel_states(channels, current_names, states, params, v, delta_t):
    """Advance every channel's states with the start-of-step voltage ``v`` (insertion order).

    Later channels see earlier channels' new states; a channel may also return ``"v"``
    (non-capacitive models), which changes the voltage the currents are linearised at (but
    not the ``v`` passed to later channels). Each channel receives its own states plus every
    membrane current (values of the previous step). Pumps are passed here too, after the
    channels (the step calls it with ``channels + pumps``).
    """
    states = dict(states)
    for channel, inds in channels:
        n, pad = len(inds), lane_pad(channel, inds, v)
        own = channel_states(channel, inds, states, pad)
        own.update({name: ix.take(states[name], inds, pad) for name in current_names})
        new = channel.update_states(own, delta_t, ix.take(v, inds, pad),
                                     channel_params(channel, inds, params, pad))
        for key, value in new.items():
            states[key] = ix.put(states[key], inds, ix.unpad_lanes(value, n, pad))
    return states


def membrane_currents(channels, current_names, states, params, v):
    """Linearise every channel current around ``v``.

    Returns:
        slope: (n_nodes,) Σ ∂I/∂v (mA/cm²/mV): exact where the channel gives its linear
            form (:func:`~simulator.channels.channel.has_linear_current`), else from a
            forward difference of ``DV`` mV (:func:`forward_difference`).
        offset: (n_nodes,) Σ (∂I/∂v · v − I) (mA/cm²), so that −I(v') ≈ −slope·v' + offset.
        currents: current name -> (n_nodes,) summed current I(v) (mA/cm²), 0 where absent.
    """
    slope = jnp.zeros_like(v)
    offset = jnp.zeros_like(v)
    currents = {name: jnp.zeros_like(v) for name in current_names}
    for channel, inds in channels:
        n, pad = len(inds), lane_pad(channel, inds, v)
        own = channel_states(channel, inds, states, pad)
        p = channel_params(channel, inds, params, pad)
        v_c = ix.take(v, inds, pad)
        if channel_contract.has_linear_current(channel):  # exact: no forward difference
            ds, intercept = channel.linear_current(own, p)
            terms = (channel.compute_current(own, v_c, p),
                     jnp.broadcast_to(ds, v_c.shape), jnp.broadcast_to(-intercept, v_c.shape))
        else:
            terms = forward_difference(lambda x: channel.compute_current(own, x, p),  # noqa: B023
                                       v_c, DV)
        i_0, ds, off = (ix.unpad_lanes(a, n, pad) for a in terms)
        slope = ix.add(slope, inds, ds)
        offset = ix.add(offset, inds, off)
        name = channel.current_name
        currents[name] = ix.add(currents[name], inds, i_0)
    return slope, offset, currents


def pump_currents(pumps, ions, current_names, states, params):
    """Linearise every pump current in its ion's concentration.

    Each pump sees its own states and the concentration ``states[pump.ion_name]`` as they are
    after the state updates of this step (so ``i_Ca`` is still the previous step's current).

    Returns:
        slope: ion -> (n_nodes,) Σ ∂I/∂c (1/ms) over the pumps acting on that ion, from a
            forward difference of ``DC`` mM (:func:`forward_difference`).
        offset: ion -> (n_nodes,) Σ (∂I/∂c · c − I) (mM/ms), so that
            d[ion]/dt ≈ −slope·c + offset.
        currents: current name -> (n_nodes,) summed pump currents I(c) (mM/ms), 0 where absent.
    """
    if not pumps:
        return {}, {}, {}
    v = states["v"]
    slope = {ion: jnp.zeros_like(v) for ion in ions}
    offset = {ion: jnp.zeros_like(v) for ion in ions}
    currents = {name: jnp.zeros_like(v) for name in current_names}
    for pump, inds in pumps:
        n, pad = len(inds), lane_pad(pump, inds, v)
        own = channel_states(pump, inds, states, pad)
        p = channel_params(pump, inds, params, pad)
        c = ix.take(states[pump.ion_name], inds)
        i_0, dc, off = (ix.unpad_lanes(a, n, pad) for a in forward_difference(
            lambda x: pump.compute_current(own, x, p), ix.pad_lanes(c, pad), DC))  # noqa: B023
        ion = pump.ion_name
        slope[ion] = ix.add(slope[ion], inds, dc)
        offset[ion] = ix.add(offset[ion], inds, off)
        name = pump.current_name
        currents[name] = ix.add(currents[name], inds, jnp.broadcast_to(i_0, c.shape))
    return slope, offset, currents


def all_currents(compiled, states, params, v):
    """``(slope, offset, ion_slope, ion_offset, currents)`` at ``states``: the channels'
    linearisation in ``v`` (:func:`membrane_currents`), the pumps' in their ions
    (:func:`pump_currents`) and the summed currents of channels and pumps (current name ->
    (n_nodes,))."""
    slope, offset, currents = membrane_currents(compiled.channels, compiled.current_names,
                                                states, params, v)
    ion_slope, ion_offset, pumped = pump_currents(compiled.pumps, compiled.ions,
                                                  compiled.current_names, states, params)
    if compiled.pumps:
        currents = {name: currents[name] + pumped[name] for name in currents}
    return slope, offset, ion_slope, ion_offset, currents


#: nA / µm² -> µA/cm².
NA_PER_UM2_TO_UA_PER_CM2 = 1e5


def synapse_currents(synapses, states, params, v):
    """Current (nA) of every synapse at the given states, as ``{"i_<name>": (n_type,)}``."""
    out = {}
    for synapse, pre, post in synapses:
        own = {k: states[k] for k in synapse.synapse_states}
        p = {k: params[k] for k in synapse.synapse_params}
        out[synapse.current_name] = synapse.compute_current(own, v[pre], v[post], p)
    return out


def _update_synapses(synapse, own, delta_t, v, pre, v_pre, v_post, params):
    """``synapse.update_states`` for all synapses of one type, evaluating the presynaptic
    terms once per pre-synaptic node where the model allows it (see
    :mod:`simulator.synapses.synapse`). ``v_pre`` is ``v[pre]``."""
    names = synapse.presynaptic_params
    nodes, inverse = np.unique(pre, return_inverse=True)
    # Not factorised, no synapses, or too little sharing of pre-synaptic nodes to pay.
    if names is None or len(pre) == 0 or 2 * len(nodes) > len(pre):
        return synapse.update_states(own, delta_t, v_pre, v_post, params)
    shared = {k: params[k] for k in names}

    def per_node(_):
        terms = synapse.presynaptic_terms(v[nodes], delta_t, {k: a[0] for k, a in shared.items()})
        # Materialised once per node: otherwise XLA fuses the terms into the gather below
        # and evaluates them once per synapse (see simulator.materialise).
        keys = list(terms)
        shape = (len(nodes), *v.shape[1:])
        stacked = jnp.stack([jnp.broadcast_to(terms[k], shape) for k in keys], axis=1)
        stacked = materialised(stacked)[inverse]
        return {k: stacked[:, i] for i, k in enumerate(keys)}

    def per_synapse(_):
        return synapse.presynaptic_terms(v_pre, delta_t, shared)

    uniform = jnp.stack([jnp.all(a == a[0]) for a in shared.values()]).all()
    terms = lax.cond(uniform, per_node, per_synapse, None)
    return synapse.advance(own, terms, delta_t, v_pre, v_post, params)


def advance_synapses(synapses, states, params, v, delta_t):
    """Advance every synapse type's states with the start-of-step voltages ``v`` (n_nodes,);
    returns the new states (other entries as given)."""
    states = dict(states)
    for synapse, pre, post in synapses:
        p = {k: params[k] for k in synapse.synapse_params}
        own = {k: states[k] for k in synapse.synapse_states}
        states.update(_update_synapses(synapse, own, delta_t, v, pre, v[pre], v[post], p))
    return states


def linearise_synapses(synapses, states, params, v, reduction: str = DEFAULT_REDUCTION):
    """Linearise every synapse current around its post-synaptic voltage ``v[post]``: by its
    ``linear_current`` where the model has one (exact; :mod:`simulator.synapses.synapse`),
    else by forward difference.

    The per-synapse terms are summed per post-synaptic node (one
    :func:`~simulator.synapse_sums.node_sums` of every type's synapses, ``reduction`` as
    there) and then converted with the node's area.

    Returns:
        ``(slope, offset, currents)``: per-node ``slope`` (µA/cm²/mV) and ``offset``
        (µA/cm²) in the convention of :func:`membrane_currents`, already converted with the
        post-synaptic compartment's area, and ``{"i_<name>": (n_synapses_of_type,)}`` (nA).
    """
    terms, posts, currents, sums = [], [], {}, []
    for synapse, pre, post in synapses:
        p = {k: params[k] for k in synapse.synapse_params}
        own = {k: states[k] for k in synapse.synapse_states}
        v_pre, v_post = v[pre], v[post]
        if has_linear_current(synapse):  # slope and offset without v_post
            ds, intercept = synapse.linear_current(own, v_pre, p)
            i_0 = ds * v_post + intercept  # the recorded current only
            ds, off = jnp.broadcast_to(ds, i_0.shape), jnp.broadcast_to(-intercept, i_0.shape)
        else:
            i_0, ds, off = forward_difference(
                lambda x: synapse.compute_current(own, v_pre, x, p), v_post, DV)  # noqa: B023
        currents[synapse.current_name] = i_0
        reversal = reversal_of(synapse)
        if reversal is not None and len(post) >= MIN_SYNAPSES_FOR_SHARED_REVERSAL:
            sums.append(conductance_sums(ds, p[reversal], post, v.shape[0], reduction))
            continue
        terms.append(jnp.stack([ds, off], axis=1))
        posts.append(post)
    if terms:
        if len(terms) == 1:
            terms, posts = terms[0], posts[0]
        else:
            terms, posts = jnp.concatenate(terms), np.concatenate(posts)
        both = node_sums(terms, posts, v.shape[0], reduction)
        sums.append((both[:, 0], both[:, 1]))
    slope = functools.reduce(operator.add, [pair[0] for pair in sums])
    offset = functools.reduce(operator.add, [pair[1] for pair in sums])
    scale = NA_PER_UM2_TO_UA_PER_CM2 / params["area"]
    return slope * scale, offset * scale, currents
