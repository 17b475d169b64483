"""The synapse contract: how to write a synapse model.

A synapse couples a pre-synaptic compartment to a post-synaptic one. Subclasses define, in
``__init__`` after ``super().__init__(name)``:

* ``self.synapse_params``: ``{name: default}``; prefix names with ``f"{self.name}_"``
  (conductances µS, voltages mV, rates 1/ms);
* ``self.synapse_states``: ``{name: initial value}``, prefixed likewise;

and implement two pure ``jax.numpy`` functions (no Python branching on values), each called
once per synapse type with arrays over all synapses of that type:

* ``update_states(states, delta_t, pre_voltage, post_voltage, params) -> dict``: new state
  values after a step of ``delta_t`` ms, given the voltages (mV) at the start of the step;
* ``compute_current(states, pre_voltage, post_voltage, params) -> Array``: the current (nA)
  that flows out of the post-synaptic compartment (positive = outward, like a membrane
  current; an excitatory synapse gives a negative current at rest). It is evaluated at
  ``post_voltage`` and ``post_voltage + 1e-3`` to linearise it for the implicit solver,
  unless the same class also implements

* ``linear_current(states, pre_voltage, params) -> (slope, intercept)``: for a current
  linear in the post-synaptic voltage, ``compute_current = slope · post_voltage +
  intercept`` (µS, nA). The step then uses the exact slope, needs no post-synaptic voltage
  per synapse to sum the currents into their compartments, and skips the forward
  difference (1,000 HH cells with 100k ``IonotropicSynapse``: 19 % less time per step,
  docs/performance.md). Every built-in synapse implements it; a subclass that overrides
  ``compute_current`` alone is linearised by forward difference again
  (:func:`has_linear_current`). A model whose intercept is ``−slope · e`` for one of its
  parameters ``e`` (a reversal potential) names it in ``reversal_param`` (without the
  prefix; in the same class): where ``e`` is equal across the synapses of the type (a
  runtime check), the step sums the slopes alone and multiplies by ``e``, for types of
  at least :data:`simulator.membrane.MIN_SYNAPSES_FOR_SHARED_REVERSAL` synapses
  (:func:`simulator.synapse_sums.conductance_sums`; another 26 % off that network).

The current is recorded as ``i_<name>``; states and parameters are recordable, clampable and
trainable like those of channels.

Optional presynaptic factorisation (a large speed-up for networks with many synapses per
neuron). When the expensive part of the update (exponentials of the pre-synaptic voltage)
depends only on ``pre_voltage`` and a few parameters, a model may list those parameters in
``presynaptic_params`` and split its update into

* ``presynaptic_terms(pre_voltage, delta_t, params) -> dict``: arrays computed from
  ``pre_voltage`` and the ``presynaptic_params`` only, and
* ``advance(states, terms, delta_t, pre_voltage, post_voltage, params) -> dict``: the new
  states from those terms.

The step then evaluates ``presynaptic_terms`` once per pre-synaptic compartment instead of
once per synapse whenever those parameters are equal across all synapses of the type (a
runtime check; otherwise per synapse), with identical results either way.
"""

from __future__ import annotations

from simulator.linear_form import describes_current, owner


class Synapse:
    """Base class of synapse models (see the module docstring for the contract)."""

    synapse_params: dict[str, float]
    synapse_states: dict[str, float]
    #: Valid ranges of parameters and states, keyed by the name without the prefix: a
    #: :class:`~simulator.param_ranges.Range` or ``(low, high[, units])``. Undeclared keys
    #: follow :func:`simulator.param_ranges.inferred_range` (``g...`` ≥ 0, one-letter
    #: states in [0, 1], else finite).
    param_ranges: dict = {}
    #: Parameters read by ``presynaptic_terms`` (None: the model is not factorised).
    presynaptic_params: tuple[str, ...] | None = None
    #: Name (without the prefix) of the parameter ``e`` with ``intercept = −slope · e`` in
    #: :meth:`linear_current` (a reversal potential, mV), or None (see the module docstring).
    reversal_param: str | None = None
    #: Whether every method is elementwise over synapses and nodes (arrays may carry
    #: trailing batch axes), so vmapped simulations may run it node-major
    #: (:mod:`simulator.batch_last`, as :attr:`simulator.channels.Channel.elementwise`).
    #: Default ``False``; every built-in synapse sets ``True``.
    elementwise = False

    def __init__(self, name: str | None = None) -> None:
        self._name = type(self).__name__ if name is None else name
        if not isinstance(self._name, str) or not self._name.isidentifier():
            raise ValueError(f"synapse name must be an identifier, got {self._name!r}")

    @property
    def name(self) -> str:
        return self._name

    @property
    def current_name(self) -> str:
        return f"i_{self._name}"

    def change_name(self, new_name: str) -> Synapse:
        """Rename the synapse and the prefix of its parameters and states (chainable)."""
        old = f"{self._name}_"

        def rename(table: dict) -> dict:
            return {(f"{new_name}_{k[len(old):]}" if k.startswith(old) else k): v
                    for k, v in table.items()}

        self.synapse_params = rename(self.synapse_params)
        self.synapse_states = rename(self.synapse_states)
        self._name = new_name
        return self

    def _validate(self) -> None:
        for attr in ("synapse_params", "synapse_states"):
            table = getattr(self, attr, None)
            if not isinstance(table, dict) or not all(isinstance(k, str) for k in table):
                raise TypeError(f"{type(self).__name__}.{attr} must be a dict of name -> value")

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        if self.presynaptic_params is None:
            return {}
        terms = self.presynaptic_terms(pre_voltage, delta_t, params)
        return self.advance(states, terms, delta_t, pre_voltage, post_voltage, params)

    def presynaptic_terms(self, pre_voltage, delta_t, params):
        raise NotImplementedError(f"{type(self).__name__} lists presynaptic_params but does"
                                  " not implement presynaptic_terms")

    def advance(self, states, terms, delta_t, pre_voltage, post_voltage, params):
        raise NotImplementedError(f"{type(self).__name__} lists presynaptic_params but does"
                                  " not implement advance")

    def compute_current(self, states, pre_voltage, post_voltage, params):
        raise NotImplementedError(f"{type(self).__name__} must implement compute_current")

    def linear_current(self, states, pre_voltage, params):
        """``(slope, intercept)`` (µS, nA) of a current linear in the post-synaptic voltage
        (see the module docstring); optional."""
        raise NotImplementedError(f"{type(self).__name__} does not implement linear_current")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


def has_linear_current(synapse: Synapse) -> bool:
    """Whether ``synapse``'s :meth:`~Synapse.linear_current` describes its current: the class
    that defines ``compute_current`` (the nearest in its MRO) defines ``linear_current``
    too, so a subclass changing the current alone is never summed by its parent's form."""
    return describes_current(synapse, Synapse)


def reversal_of(synapse: Synapse) -> str | None:
    """The full name of ``synapse``'s :attr:`~Synapse.reversal_param` where it describes
    its linear current (declared by the class that defines the current), else None."""
    if not has_linear_current(synapse) or synapse.reversal_param is None:
        return None
    if owner(synapse, "reversal_param") is not owner(synapse, "compute_current"):
        return None
    return f"{synapse.name}_{synapse.reversal_param}"
