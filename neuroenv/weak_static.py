"""Static arguments of ``jax.jit`` that hold a user's object weakly, by identity.

:func:`neuroenv.evaluation.evaluate` and :func:`~neuroenv.evaluation.evaluate_family` are
module-level jitted functions whose static arguments are the env (its content handle,
:meth:`neuroenv.core.Environment._handle`) and the user's policy or policy factory. A second
call with the same objects reuses the compiled program (an evolution strategy calls
``evaluate_family`` once per generation: before, every call traced and compiled the whole
rollout again, 2 s each for VoltageTarget-v0 on 2 cores). JAX's cache keeps its static
arguments alive, so the policy enters it through :class:`WeakStatic`: a weak reference
compared by identity (a dead one equals nothing, so an id reused by a new function never
finds an old program) and by the content of what it captured (closure cells, a method's
object: :func:`captured`); dropping the policy frees it.

A policy that is a pytree of arrays (e.g. :func:`neuroenv.evaluation.constant`, or a
registered dataclass holding network weights) is passed as data instead
(:func:`split_policy`): new weights of the same structure reuse the program.
"""

from __future__ import annotations

import types
import weakref

import jax
import numpy as np

from simulator.static_key import content_key, static_key


def captured(obj):
    """A content key of what a callable reads besides its arguments: a function's code,
    closure cells, defaults and attributes (:func:`simulator.static_key.content_key`), a
    bound method's object, a callable object's attributes. A policy is traced once per
    object *and* these contents, so a closure whose captured variable was rebound (new
    network weights) or an agent whose attributes changed is traced again rather than run
    with stale values. Module-level globals a function reads are not part of it (as under
    ``jax.jit``)."""
    if isinstance(obj, types.MethodType):
        return static_key(obj.__self__)
    return content_key(obj)


class WeakStatic:
    """A hashable, weakly held handle of ``obj`` that compares by identity and by the
    content of what it captured (:func:`captured`, taken when the handle is made).

    Bound methods are held through :class:`weakref.WeakMethod` (a bound method object is
    created anew at every attribute access; two are equal when they bind the same function
    to the same object). Objects that take no weak reference are held strongly.
    """

    __slots__ = ("_captured", "_hash", "_ref", "_strong")

    def __init__(self, obj) -> None:
        self._strong = None
        self._captured = captured(obj)
        if isinstance(obj, types.MethodType):
            self._ref = weakref.WeakMethod(obj)
            self._hash = hash((id(obj.__self__), id(obj.__func__), self._captured))
            return
        try:
            self._ref = weakref.ref(obj)
        except TypeError:  # e.g. a builtin without weak references: kept alive
            self._strong = obj
            self._ref = lambda: self._strong
        self._hash = hash((id(obj), self._captured))

    def get(self):
        """The object, or ``None`` once it was garbage collected."""
        return self._ref()

    def __eq__(self, other) -> bool:
        if not isinstance(other, WeakStatic):
            return False
        mine, theirs = self.get(), other.get()
        if mine is None or self._captured != other._captured:
            return False
        return mine is theirs or (isinstance(mine, types.MethodType) and mine == theirs)

    def __hash__(self) -> int:
        return self._hash


def _is_array(leaf) -> bool:
    return isinstance(leaf, jax.Array | np.ndarray | np.generic)


def split_policy(policy):
    """``(static, leaves)``: a pytree policy whose leaves are all arrays as its tree
    structure (static) and leaves (traced data); any other policy as a :class:`WeakStatic`
    and ``None``."""
    leaves, treedef = jax.tree.flatten(policy)
    if leaves and all(_is_array(leaf) for leaf in leaves):
        return treedef, leaves
    return WeakStatic(policy), None


def join_policy(static, leaves):
    """The policy that :func:`split_policy` split (inside the traced function)."""
    if leaves is None:
        policy = static.get()
        if policy is None:  # cannot happen: a trace starts from a call holding the policy
            raise RuntimeError("the policy of this jitted call was garbage collected")
        return policy
    return jax.tree.unflatten(static, leaves)
