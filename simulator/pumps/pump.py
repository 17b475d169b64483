"""Base class of ion pumps and other concentration mechanisms (jaxley-compatible contract).

A pump is a :class:`~simulator.channels.channel.Channel` that changes an *ion
concentration* (a state, e.g. ``"CaCon_i"`` in mM) instead of the membrane voltage:

* ``self.ion_name``: the state the pump acts on (e.g. ``"CaCon_i"``);
* ``compute_current(states, ion_concentration, params)``: returns ``-d[ion]/dt`` in mM/ms
  (efflux positive, like an outward membrane current). The simulator evaluates it at the
  concentration ``c`` and at ``c + 1e-3`` to linearise it in the concentration, exactly as
  membrane currents are linearised in the voltage; the linear and constant terms of every
  pump acting on one ion are summed (no factor 1000 and no division by the capacitance);
* ``update_states(states, dt, v, params)``: as for channels (``states`` holds the pump's
  own states plus every membrane current, with their values of the previous step).

The pump's current is also stored as a state under ``current_name`` (summed with channel
currents of the same name), but it never enters the voltage equation.

Ions acted on by pumps are advanced once per step, after the pumps' currents are computed:

* not diffused: per compartment by implicit Euler, ``c' = (c + dt·const) / (1 + dt·lin)``,
  whatever the voltage solver;
* diffused (``module.diffuse(ion)``): with the voltage solver's scheme on the ion's own
  axial conductances (see :func:`simulator.assemble.axial_conductances`).
"""

from __future__ import annotations

from simulator.channels.channel import Channel

__all__ = ["Pump"]


class Pump(Channel):
    """Ion pump / concentration mechanism.

    Attributes:
        ion_name: name of the concentration state the pump changes (e.g. ``"CaCon_i"``).
        channel_params, channel_states, current_name: as for :class:`Channel`.
    """

    def compute_current(self, states, ion_concentration, params):
        """Efflux of the ion, ``-d[ion]/dt`` (mM/ms).

        Must be pure ``jax.numpy``: it is evaluated at ``c`` and ``c + 1e-3`` to linearise
        it in the concentration.

        Args:
            states: the pump's own states (already updated this step), each of shape ``(n,)``.
            ion_concentration: the concentration of :attr:`ion_name` (mM), shape ``(n,)``.
            params: the pump's parameters plus ``radius``, ``length``, ``axial_resistivity``
                (and ``capacitance``), each of shape ``(n,)``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement compute_current().")

    def update_states(self, states, dt, v, params) -> dict:
        """Advance the pump's states (default: nothing to advance)."""
        return {}

    def _validate(self) -> None:
        super()._validate()
        ion = getattr(self, "ion_name", None)
        if not isinstance(ion, str) or not ion:
            raise TypeError(
                f"{type(self).__name__}: self.ion_name must be the name of the concentration"
                f" state the pump changes (e.g. 'CaCon_i'), got {ion!r}."
            )
        if ion == "v":
            raise ValueError(f"{type(self).__name__}: a pump cannot act on the voltage 'v'.")
