"""Electrodes: named contacts, each approximated by a weighted set of points.

An :class:`Electrode` holds, per contact, ``n_points`` points (µm) and their weights
(dimensionless, >= 0, summing to 1 per contact). A contact's current is split over its
points by the weights (each point is a point source carrying weight × current), and the
potential a contact records is the weighted mean of the potentials at its points. A point
contact has one point of weight 1. Contacts with fewer points than the electrode's
``n_points`` are padded with weight-0 copies of their first point.

Positions and weights are pytree leaves (``jax.vmap``/``jax.grad`` over positions work);
the names are static. Build electrodes with the constructors of
:mod:`simulator.extracellular.shapes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from simulator.extracellular.checks import finite_array, is_concrete, points_array

#: Tolerance on the per-contact sum of weights (must be 1).
WEIGHT_SUM_TOL = 1e-6


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False)
class Electrode:
    """Contacts as weighted point sets.

    Attributes:
        positions: (n_contacts, n_points, 3) µm.
        weights: (n_contacts, n_points), >= 0, each row summing to 1.
        names: one unique string per contact.
    """

    positions: jax.Array
    weights: jax.Array
    names: tuple[str, ...]

    def __init__(self, positions, weights=None, names=None):
        if is_concrete(positions, weights):
            positions, weights = _checked(positions, weights)
        positions = jnp.asarray(positions)
        if weights is None:
            n_c, n_p = positions.shape[:2]
            weights = jnp.full((n_c, n_p), 1.0 / n_p, dtype=positions.dtype)
        names = _checked_names(names, positions.shape[0])
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "weights", jnp.asarray(weights))
        object.__setattr__(self, "names", names)

    @property
    def n_contacts(self) -> int:
        return self.positions.shape[0]

    @property
    def n_points(self) -> int:
        return self.positions.shape[1]

    def index(self, name: str) -> int:
        """Index of the contact called ``name``; ValueError naming the known contacts."""
        if name not in self.names:
            raise ValueError(
                f"unknown contact {name!r}; this electrode has contacts {list(self.names)}"
            )
        return self.names.index(name)

    def select(self, names) -> Electrode:
        """The electrode made of the contacts ``names`` (a name or a list), in that order."""
        names = [names] if isinstance(names, str) else list(names)
        idx = np.array([self.index(n) for n in names], dtype=np.int64)
        return _unchecked(self.positions[idx], self.weights[idx], tuple(names))

    def moved(self, shift) -> Electrode:
        """The electrode translated by ``shift`` (3,) µm (jit/grad-safe)."""
        return _unchecked(self.positions + jnp.asarray(shift), self.weights, self.names)

    def tree_flatten(self):
        return (self.positions, self.weights), self.names

    @classmethod
    def tree_unflatten(cls, names, children):
        return _unchecked(children[0], children[1], names)


def combine(*electrodes: Electrode) -> Electrode:
    """One electrode with the contacts of all ``electrodes`` (names must stay unique)."""
    n_p = max(e.n_points for e in electrodes)
    positions = [_pad(e.positions, n_p, edge=True) for e in electrodes]
    weights = [_pad(e.weights, n_p, edge=False) for e in electrodes]
    names = tuple(n for e in electrodes for n in e.names)
    return Electrode(jnp.concatenate(positions), jnp.concatenate(weights), names)


def _pad(arr, n_p: int, edge: bool):
    """Pad axis 1 to ``n_p`` entries: copies of the first point, or zero weights."""
    missing = n_p - arr.shape[1]
    if missing == 0:
        return arr
    if edge:
        return jnp.concatenate([arr, jnp.repeat(arr[:, :1], missing, axis=1)], axis=1)
    return jnp.concatenate([arr, jnp.zeros((arr.shape[0], missing), arr.dtype)], axis=1)


def _unchecked(positions, weights, names) -> Electrode:
    obj = object.__new__(Electrode)
    object.__setattr__(obj, "positions", positions)
    object.__setattr__(obj, "weights", weights)
    object.__setattr__(obj, "names", names)
    return obj


def _checked(positions, weights):
    pos = points_array("electrode positions", positions)
    if pos.ndim != 3 or pos.shape[0] < 1 or pos.shape[1] < 1:
        raise ValueError(
            "electrode positions must have shape (n_contacts, n_points, 3) µm with"
            f" n_contacts, n_points >= 1; got shape {pos.shape}"
        )
    if weights is None:
        return pos, None
    w = finite_array("electrode weights", weights, "an (n_contacts, n_points) array", "1")
    if w.shape != pos.shape[:2]:
        raise ValueError(
            f"electrode weights must have shape {pos.shape[:2]} (n_contacts, n_points);"
            f" got shape {w.shape}"
        )
    sums = w.sum(axis=1)
    if np.any(w < 0) or np.any(np.abs(sums - 1.0) > WEIGHT_SUM_TOL):
        raise ValueError(
            f"electrode weights must be >= 0 and sum to 1 per contact; got sums {sums.tolist()}"
        )
    return pos, w


def _checked_names(names, n_contacts: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"c{i}" for i in range(n_contacts))
    names = (names,) if isinstance(names, str) else tuple(names)
    if len(names) != n_contacts or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"names must be {n_contacts} strings, one per contact; got {list(names)!r}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"contact names must be unique; got {list(names)!r}")
    return names
