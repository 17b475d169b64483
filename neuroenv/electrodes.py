"""Pulse-train actuators: an action entry -> currents at every solver step.

An :class:`ElectrodeActuator` names an electrode registered on the env's module
(``module.add_electrode(electrode, name=...)``, :mod:`simulator.modules.electrodes`) and the
contacts it drives (extracellular, µA). A :class:`CurrentActuator` injects current into
compartments (intracellular, nA: a pipette, or the idealised DBS of point-neuron models
that inject the stimulus into every cell of a nucleus). Each actuator is one action entry
a in [−1, 1]: the amplitude ``a × max_current`` (``unipolar=True``: ``(a + 1)/2 ×
max_current``, from 0 at a = −1 to ``max_current``, for devices whose pulses have one
polarity), applied to all of its contacts or compartments with the pulse ``shape``:

- ``"constant"``: the amplitude held for the whole control period;
- ``"monophasic"``: pulses of ``pulse_width`` ms at ``rate`` Hz;
- ``"biphasic"``: charge-balanced pulses, +I for ``pulse_width`` ms then −I for
  ``pulse_width`` ms, at ``rate`` Hz (zero net charge per pulse).

Pulse timing is on the global solver-step grid (step k of the episode is
``time × substeps + k``): a pulse starts at every multiple of ``round(1000 / (rate ×
delta_t))`` steps, so a pulse train runs on across control periods whatever their length
(the rate used is ``1000 / (period_steps × delta_t)`` Hz, e.g. 129.87 Hz for 130 Hz at
0.025 ms). ``pulse_width`` must be a whole number of solver steps.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from neuroenv.validation import Range, check_range, real_number

#: Pulse shapes of an electrode actuator.
SHAPES = ("constant", "monophasic", "biphasic")


@dataclasses.dataclass(frozen=True)
class _PulseTrain:
    """Pulse parameters of an actuator: ``shape`` (one of :data:`SHAPES`), ``max_current``
    (> 0, the amplitude at a = 1), ``pulse_width`` (ms per phase, whole solver steps), ``rate``
    (Hz), ``unipolar`` (the action a in [−1, 1] sets the amplitude (a + 1)/2 × max_current
    in [0, max_current]: a device whose pulses have one polarity, off at a = −1; default
    False: a × max_current)."""

    shape: str = "biphasic"
    max_current: float = 100.0
    pulse_width: float = 0.1
    rate: float = 130.0
    unipolar: bool = False
    units = "µA"

    def pulse_steps(self, delta_t: float) -> tuple[int, int]:
        """``(width, period)`` of the pulse train in solver steps of ``delta_t`` ms;
        ``ValueError`` naming the value unless valid."""
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {self.shape!r}")
        if not isinstance(self.unipolar, (bool, np.bool_)):
            raise TypeError(f"unipolar must be True or False, got {self.unipolar!r}")
        values = {}
        for name, units in (("max_current", self.units), ("pulse_width", "ms"),
                            ("rate", "Hz")):
            values[name] = real_number(name, getattr(self, name))
            check_range(Range(0.0, low_open=True, units=units), name, values[name])
        width_ms, rate = values["pulse_width"], values["rate"]
        width = int(round(width_ms / delta_t))
        if width < 1 or abs(width * delta_t - width_ms) > 1e-9 * max(1.0, width_ms):
            raise ValueError(f"pulse_width must be a whole number (>= 1) of solver steps of"
                             f" {delta_t} ms, got {self.pulse_width!r} ms")
        period = int(round(1000.0 / (rate * delta_t)))
        phases = 2 if self.shape == "biphasic" else 1
        if self.shape != "constant" and period < phases * width:
            raise ValueError(f"rate {self.rate!r} Hz leaves {period} steps per pulse, fewer"
                             f" than the pulse's {phases} × {width} steps (pulse_width"
                             f" {self.pulse_width!r} ms)")
        return width, period


@dataclasses.dataclass(frozen=True)
class ElectrodeActuator(_PulseTrain):
    """One action entry driving contacts of a registered electrode (µA).

    Attributes:
        electrode: the electrode's name on the module.
        contacts: contact names (``None``: every contact of the electrode).
        shape, max_current (µA at a = 1), pulse_width (ms), rate (Hz), unipolar: the
            pulses (:class:`_PulseTrain`).
    """

    electrode: str = ""
    contacts: tuple[str, ...] | None = None

    def __init__(self, electrode: str, contacts=None, shape: str = "biphasic",
                 max_current: float = 100.0, pulse_width: float = 0.1, rate: float = 130.0,
                 unipolar: bool = False):
        super().__init__(shape, max_current, pulse_width, rate, unipolar)
        object.__setattr__(self, "electrode", electrode)
        object.__setattr__(self, "contacts", contacts)


@dataclasses.dataclass(frozen=True)
class CurrentActuator(_PulseTrain):
    """One action entry injecting the same current (nA) into every compartment of ``sites``.

    Attributes:
        sites: views of the env's module (each one or more compartments, e.g. ``net.cell(i)
            .branch(0).comp(0)`` or a whole nucleus); every compartment gets the current.
        shape, max_current (nA at a = 1), pulse_width (ms), rate (Hz), unipolar: the
            pulses (:class:`_PulseTrain`).
    """

    sites: tuple = ()
    units = "nA"

    def __init__(self, sites, shape: str = "monophasic", max_current: float = 1.0,
                 pulse_width: float = 0.3, rate: float = 130.0, unipolar: bool = False):
        super().__init__(shape, max_current, pulse_width, rate, unipolar)
        object.__setattr__(self, "sites", tuple(sites))


@dataclasses.dataclass(frozen=True)
class ContactDrive:
    """The resolved actuators of an env, each one action entry: the global contact indices
    (``inds``, (n_contacts,)) and compartments (``nodes``, (n_nodes,)) they drive, the
    actuator of each contact and compartment (``owner``, ``node_owner``) and each actuator's
    pulse parameters (``scales``: µA or nA per unit action)."""

    inds: np.ndarray
    owner: np.ndarray
    nodes: np.ndarray
    node_owner: np.ndarray
    shapes: tuple[str, ...]
    units: tuple[str, ...]
    unipolar: np.ndarray
    widths: np.ndarray
    periods: np.ndarray
    scales: np.ndarray

    @property
    def n_actuators(self) -> int:
        return len(self.shapes)

    def amplitudes(self, action) -> jnp.ndarray:
        """(n_actuators,) µA or nA of the actuators' action entries (in [−1, 1]): a × scale,
        or (a + 1)/2 × scale for unipolar actuators."""
        unit = jnp.where(jnp.asarray(self.unipolar), (action + 1.0) * 0.5, action)
        return unit * jnp.asarray(self.scales, action.dtype)

    def waveform(self, amplitude, first_step, substeps: int) -> jnp.ndarray:
        """(substeps, n_actuators) currents (µA or nA) of a control period starting at
        global solver step ``first_step`` (int32) for actuator ``amplitude``; columns
        ``[:, owner]`` are the contacts', ``[:, node_owner]`` the compartments'."""
        k = first_step + jnp.arange(substeps, dtype=jnp.int32)
        columns = []
        for shape, width, period in zip(self.shapes, self.widths, self.periods, strict=True):
            phase = k % int(period)
            if shape == "constant":
                unit = jnp.ones(substeps)
            elif shape == "monophasic":
                unit = (phase < width).astype(jnp.float32)
            else:
                unit = jnp.where(phase < width, 1.0, jnp.where(phase < 2 * width, -1.0, 0.0))
            columns.append(unit)
        return jnp.stack(columns, axis=1).astype(amplitude.dtype) * amplitude


def resolve_actuators(base, actuators, delta_t: float,
                      has_sites: bool = True) -> ContactDrive | None:
    """The :class:`ContactDrive` of ``actuators`` (a sequence of
    :class:`ElectrodeActuator` and :class:`CurrentActuator`) on the module ``base``; ``None``
    if there are none. ``ValueError``/``TypeError`` naming the value for an unknown
    electrode, contact or site, a repeated contact or invalid pulse parameters, or with
    neither actuators nor stimulation sites (``has_sites``)."""

    actuators = tuple(actuators)
    if not actuators and not has_sites:
        raise ValueError("give at least one stimulation site or electrode actuator")
    if not actuators:
        return None
    driven = {ElectrodeActuator: ([], []), CurrentActuator: ([], [])}
    widths, periods = [], []
    for j, act in enumerate(actuators):
        if type(act) not in driven:
            raise TypeError(f"electrodes must be ElectrodeActuator or CurrentActuator"
                            f" objects, got {act!r}")
        width, period = act.pulse_steps(delta_t)
        rows, owner = driven[type(act)]
        targets = _targets(base, act)
        rows.extend(targets)
        owner.extend([j] * len(targets))
        widths.append(width)
        periods.append(period)
    (inds, owner), (nodes, node_owner) = driven.values()
    if len(set(inds)) != len(inds):
        raise ValueError(f"electrode actuators drive a contact twice (global contacts {inds})")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"current actuators drive a compartment twice (compartments {nodes})")
    inds, owner, nodes, node_owner = (np.asarray(x, np.int64)
                                      for x in (inds, owner, nodes, node_owner))
    return ContactDrive(inds, owner, nodes, node_owner,
                        tuple(a.shape for a in actuators), tuple(a.units for a in actuators),
                        np.asarray([bool(a.unipolar) for a in actuators]),
                        np.asarray(widths),
                        np.asarray(periods), np.asarray([a.max_current for a in actuators],
                                                        np.float32))


def _targets(base, actuator) -> list[int]:
    """The global contact rows (electrode actuator) or compartments (current actuator)."""
    if isinstance(actuator, ElectrodeActuator):
        from simulator.modules.electrodes import contact_indices

        return contact_indices(base, actuator.electrode, actuator.contacts).tolist()
    nodes = []
    for site in actuator.sites:
        inds = site._node_inds if getattr(site, "base", None) is base else None
        if inds is None or len(inds) == 0:
            raise ValueError(f"each CurrentActuator site must be a view of the env's module"
                             f" with at least one compartment; got {site!r}")
        nodes.extend(int(i) for i in inds)
    if not nodes or len(set(nodes)) != len(nodes):
        raise ValueError(f"a CurrentActuator needs sites of distinct compartments, got"
                         f" compartments {nodes}")
    return nodes


def charge_per_pulse_nC(amplitude, pulse_width_ms):
    """Charge (nC = µA·ms) of one phase of a pulse: |amplitude| (µA) × ``pulse_width_ms``."""
    return jnp.abs(amplitude) * pulse_width_ms
