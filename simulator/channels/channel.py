"""Base class for membrane channels (jaxley-compatible contract).

Writing a channel
-----------------
Subclass :class:`Channel`, call ``super().__init__(name)`` and then define

* ``self.channel_params``: ``dict[str, float]`` of default parameters, e.g.
  ``{f"{self.name}_gNa": 0.12, "eNa": 50.0}``. Conductances are in S/cm², potentials in mV.
  Keys prefixed with ``f"{name}_"`` belong to this channel; keys without the prefix (``eK``,
  ``vt``, ...) are *shared* with every other channel that uses the same key.
* ``self.channel_states``: ``dict[str, float]`` of default states (gates are dimensionless),
  same prefix convention. Use ``{}`` for stateless channels.
* ``self.current_name``: name of the membrane current, e.g. ``"i_HH"``.

or, instead of ``__init__``, the class attributes ``own_params``/``own_states`` (keys
without the prefix), ``shared_params`` and ``current_template`` (``"{name}"`` stands for
the channel name), from which :class:`Channel` builds the three.

Optionally declare valid ranges in the class attribute ``param_ranges``:
``{"gKA": (0.0, None, "S/cm²"), "a": GATE, ...}`` keyed by the name without the
prefix (or the full name of a shared key), values :class:`~simulator.param_ranges.Range`
or ``(low, high[, units])`` (None: unbounded). Undeclared keys follow the naming
convention of :func:`simulator.param_ranges.inferred_range` (``g...`` conductances
≥ 0, ``tau...`` > 0, one-letter states gates in [0, 1], else finite). Every entry
point (``set``, ``data_set``, ``integrate``'s params, ...) enforces them.

and implement :meth:`update_states`, :meth:`compute_current` and optionally
:meth:`init_state` and :meth:`linear_current`. Inside the methods, build keys from the
*current* name (``self.name``), so that :meth:`change_name` keeps working.

A current that is linear in ``v`` (``g(states, params) · (v − E)``, gates computed by
``update_states``, nothing instantaneous in ``v``) may also give its exact form,
``linear_current(states, params) -> (slope, intercept)`` (S/cm², mA/cm²) with
``compute_current(states, v, params) == slope · v + intercept``: the step then uses the
exact slope instead of a forward difference, whose float32 rounding is ~0.6 % of the
conductance (docs/numerics.md). The form counts only in the class
that defines the current (:func:`has_linear_current`). Every built-in channel linear in
``v`` implements it.

Currents must be in mA/cm², outward positive. Channels written for jaxley that set
``self.current_is_in_mA_per_cm2 = True`` before calling ``super().__init__`` work unchanged.

Arrays passed to the methods have shape ``(n,)``: one entry per compartment that has this
channel. All methods must be pure ``jax.numpy`` (they are traced, vectorised and
differentiated).
"""

from numbers import Real

from simulator.linear_form import describes_current

__all__ = ["Channel", "has_linear_current"]


class Channel:
    """Membrane channel: parameters, states, state update and current.

    Attributes:
        channel_params: default parameters, ``dict[str, float]`` (set by subclasses).
        channel_states: default states, ``dict[str, float]`` (set by subclasses).
        current_name: name of the membrane current (set by subclasses).
        current_is_in_mA_per_cm2: must be ``True``; kept for jaxley compatibility.
        lane_padding: whether the step may evaluate the channel on its nodes plus copies
            of the last one, dropping the copies' results (default ``True``; it makes
            batched float64 runs of 9–15 nodes 2.5x faster,
            :mod:`simulator.node_index`). Every built-in channel works node by node; set
            it to ``False`` for a channel whose arithmetic mixes its nodes (a sum or mean
            over them), which the copies would change.
        elementwise: whether every method is elementwise over nodes (each node's result
            depends only on that node's entries, and arrays of shape ``(n, ...)`` with
            trailing batch axes work as ``(n,)`` does); then vmapped simulations run the
            channel node-major, 1.1–3x faster (:mod:`simulator.batch_last`). Default
            ``False`` (the safe choice for a channel of yours); every built-in channel
            sets ``True``.
    """

    current_is_in_mA_per_cm2 = True
    lane_padding = True
    elementwise = False
    #: Valid ranges of parameters and states (see the module docstring); default: none
    #: declared, the naming convention applies.
    param_ranges: dict = {}
    #: Declarative defaults (see the module docstring); used when current_template is set.
    own_params: dict = {}
    shared_params: dict = {}
    own_states: dict = {}
    current_template: str | None = None

    def __init__(self, name: str | None = None):
        """Args:
        name: channel name, the prefix of its own parameter and state keys.
            Defaults to the class name.
        """
        self._check_current_unit()
        self._name = name if name else type(self).__name__
        if self.current_template is not None:
            p = self._name
            own = {f"{p}_{k}": val for k, val in self.own_params.items()}
            self.channel_params = {**own, **self.shared_params}
            self.channel_states = {f"{p}_{k}": val for k, val in self.own_states.items()}
            self.current_name = self.current_template.format(name=p)

    @property
    def name(self) -> str:
        """The channel name (prefix of its own parameter and state keys)."""
        return self._name

    def change_name(self, new_name: str) -> "Channel":
        """Rename the channel and, in ``channel_params``/``channel_states``, the keys with
        its prefix ``f"{old_name}_"`` (shared keys stay); returns ``self``."""
        old_prefix = f"{self._name}_"
        new_prefix = f"{new_name}_"

        def rename(d):
            return {
                (new_prefix + k[len(old_prefix) :] if k.startswith(old_prefix) else k): v
                for k, v in d.items()
            }

        for attr in ("channel_params", "channel_states"):
            if isinstance(getattr(self, attr, None), dict):
                setattr(self, attr, rename(getattr(self, attr)))
        self._name = new_name
        return self

    def update_states(self, states, dt, v, params) -> dict:
        """Advance the channel states by one time step.

        Args:
            states: this channel's states (plus the membrane currents, keyed by
                their current names), each an array of shape ``(n,)``.
            dt: time step (ms).
            v: membrane voltage at the start of the step (mV), shape ``(n,)``.
            params: this channel's parameters plus ``radius`` (um), ``length`` (um),
                ``axial_resistivity`` (ohm cm) and ``capacitance`` (uF/cm²), each of shape
                ``(n,)``.

        Returns:
            Dict with the new values of (some of) this channel's states, each of shape
            ``(n,)``. May contain ``"v"`` for non-capacitive models.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update_states().")

    def compute_current(self, states, v, params):
        """Membrane current of this channel.

        Must be pure ``jax.numpy``: the simulator evaluates it at ``v`` and ``v + 1e-3`` to
        linearise it in ``v`` (unless :meth:`linear_current` describes it).

        Args:
            states: states as in :meth:`update_states` (already updated).
            v: membrane voltage (mV), shape ``(n,)``.
            params: parameters as in :meth:`update_states`.

        Returns:
            Current density in mA/cm², outward positive, shape ``(n,)``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement compute_current().")

    def linear_current(self, states, params):
        """Exact linear form of a current linear in ``v``; optional (module docstring).

        Args:
            states, params: as in :meth:`compute_current`.

        Returns:
            ``(slope, intercept)``: ∂I/∂v (S/cm² = mA/cm²/mV) and the current at 0 mV
            (mA/cm²), each broadcastable to the shape of the states, such that
            ``compute_current(states, v, params) == slope * v + intercept``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement linear_current().")

    def init_state(self, states, v, params, delta_t) -> dict:
        """Steady-state values of the states at voltage ``v``.

        Args:
            states: current states as in :meth:`update_states`.
            v: membrane voltage (mV), shape ``(n,)``.
            params: parameters as in :meth:`update_states`.
            delta_t: time step (ms).

        Returns:
            Dict of state name -> array of shape ``(n,)``; the default implementation
            returns ``{}`` (states are left as they are).
        """
        return {}

    def _check_current_unit(self) -> None:
        if not getattr(self, "current_is_in_mA_per_cm2", True):
            raise ValueError(
                f"{type(self).__name__}: channel currents must be in mA/cm² "
                "(current_is_in_mA_per_cm2 must be True)."
            )

    def _validate(self) -> None:
        """Check the subclass contract (module docstring) when the channel is inserted:
        TypeError/ValueError naming the attribute."""
        cls = type(self).__name__
        self._check_current_unit()
        if not isinstance(getattr(self, "_name", None), str) or not self._name:
            raise ValueError(f"{cls}: the channel name must be a non-empty string.")
        for attr in ("channel_params", "channel_states"):
            d = getattr(self, attr, None)
            if d is None:
                raise TypeError(f"{cls}: missing self.{attr} (a dict[str, float]).")
            if not isinstance(d, dict):
                raise TypeError(f"{cls}: self.{attr} must be a dict, got {type(d).__name__}.")
            for k, val in d.items():
                if not isinstance(k, str) or not k:
                    raise TypeError(f"{cls}: self.{attr} keys must be non-empty str, got {k!r}.")
                if isinstance(val, bool) or not _is_float_like(val):
                    raise TypeError(
                        f"{cls}: self.{attr}[{k!r}] must be a float, got {type(val).__name__}."
                    )
        current_name = getattr(self, "current_name", None)
        if current_name is None:
            raise TypeError(f"{cls}: missing self.current_name (a str such as 'i_{self._name}').")
        if not isinstance(current_name, str) or not current_name:
            raise TypeError(
                f"{cls}: self.current_name must be a non-empty str, not {current_name!r}."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


def _is_float_like(val) -> bool:
    """True for Python/numpy real scalars and 0-d real arrays."""
    dtype = getattr(val, "dtype", None)
    return isinstance(val, Real) or (getattr(val, "shape", None) == () and dtype is not None
                                     and dtype.kind in "fiu")


def has_linear_current(channel: Channel) -> bool:
    """Whether ``channel``'s :meth:`~Channel.linear_current` describes its current: the
    class that defines ``compute_current`` (nearest in the MRO) defines ``linear_current``
    too (:mod:`simulator.linear_form`)."""
    return describes_current(channel, Channel)
