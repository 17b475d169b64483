"""Frozen, hashable descriptions of the simulator's jitted programs.

``integrate``, ``init_fn`` and ``step_fn`` each call one module-level ``jax.jit``-ed function
(:mod:`simulator.integrate`). What that function computes is fixed by a *program* defined here
and passed as a static argument; every value (node arrays, trainable parameters, ``data_set``
values, inputs, initial states, time step) is a traced argument. A program never refers to the
mutable module, so a jitted function cannot read the module while tracing: two calls give
different programs exactly when they need different compiled code, and equal programs (two
identically built modules, or one module whose values changed) share one compilation.

:class:`Structure` is the static part of a compiled module. It owns a private deep copy of the
mechanism objects (channels, pumps, synapses), so a later change of the user's objects can
neither leak into a program traced later nor be hidden by an equal key.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from simulator.compile import CompiledModule

__all__ = ["InitProgram", "RunProgram", "StepProgram", "Structure", "check_dhs_width",
           "freeze_indices", "index_array", "structure_of"]


class _NoNodeArrays(dict):
    """The node arrays of a :class:`Structure`: none; values are traced arguments."""

    def __missing__(self, key):
        raise RuntimeError(
            f"node array {key!r} read from a program's structure: node values are traced"
            " arguments of the jitted program, never read from the compiled module"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Structure:
    """Static structure of a compiled module, compared by content.

    Attributes:
        compiled: a :class:`~simulator.compile.CompiledModule` with private copies of the
            mechanisms and without node arrays (reading one raises).
        key: ``compiled.signature`` (:func:`~simulator.compile.structure_key`).
    """

    compiled: CompiledModule
    key: tuple

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, Structure) and self.key == other.key)

    def __hash__(self) -> int:
        return self._hash

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self.key))


def structure_of(compiled: CompiledModule) -> Structure:
    """The :class:`Structure` of ``compiled`` (copies its static fields; no node arrays)."""
    static = {f.name: getattr(compiled, f.name) for f in dataclasses.fields(compiled)
              if f.name != "node_arrays"}
    try:
        static = copy.deepcopy(static)
    except Exception:  # an uncopyable mechanism: keep the user's objects
        static = dict(static)
    snapshot = CompiledModule(**static, node_arrays=_NoNodeArrays())
    return Structure(snapshot, snapshot.signature)


def freeze_indices(indices) -> tuple:
    """``(shape, flat values)`` of an integer index array, hashable."""
    array = np.asarray(indices)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {array.dtype}")
    return tuple(int(n) for n in array.shape), tuple(int(i) for i in array.reshape(-1))


def index_array(frozen: tuple) -> np.ndarray:
    """The int64 array of :func:`freeze_indices`' output."""
    shape, values = frozen
    return np.asarray(values, dtype=np.int64).reshape(shape)


def check_dhs_width(width) -> int:
    """``dhs_width`` as a positive int, or a ValueError naming it."""
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
        raise ValueError(f"dhs_width must be a positive int (DHS level width), got {width!r}")
    return int(width)


@dataclasses.dataclass(frozen=True)
class InitProgram:
    """What ``init_fn`` computes: initial states and all parameters.

    Attributes:
        structure: the module's :class:`Structure`.
        trainable_inds: per trainable parameter, its ``(g, k)`` node indices (padded with -1)
            as :func:`freeze_indices` output.
        pstate_keys: the keys of the ``param_state`` (``data_set``) entries, in order; their
            values and indices are traced.
    """

    structure: Structure
    trainable_inds: tuple
    pstate_keys: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class StepProgram:
    """What one step computes.

    Attributes:
        structure: the module's :class:`Structure`.
        solver, voltage_solver: solver names (see :func:`simulator.step.make_step_fn`).
        width: DHS level width (None for the dense solver, which has none).
        external_inds: ``((key, frozen node indices), ...)`` sorted by key, or None when the
            indices are a traced argument.
        delta_t: the time step (ms) as a constant, or None when it is a traced argument.
    """

    structure: Structure
    solver: str
    voltage_solver: str
    width: int | None
    external_inds: tuple | None = None
    delta_t: float | None = None


@dataclasses.dataclass(frozen=True)
class RunProgram:
    """What ``integrate`` computes: initialisation, ``n_steps`` steps and the recordings.

    Attributes:
        init: the :class:`InitProgram`.
        step: the :class:`StepProgram` (with the inputs' ``external_inds``, traced
            ``delta_t``).
        n_steps: number of steps.
        checkpoint_lengths: nested-scan lengths, or None for one scan.
        return_states: also return the final states.
        recordings: ``((state name, node index), ...)``, one per output row.
        checks: add ``checkify`` checks of the traced values (``integrate(checks=True)``).
    """

    init: InitProgram
    step: StepProgram
    n_steps: int
    checkpoint_lengths: tuple[int, ...] | None
    return_states: bool
    recordings: tuple[tuple[str, int], ...]
    checks: bool = False
