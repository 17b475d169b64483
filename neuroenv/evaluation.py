"""Evaluate a policy on a functional env: whole episodes under ``jit``/``vmap``/``scan``.

::

    env, params = neuroenv.make("VoltageTarget-v0")
    result = neuroenv.evaluation.evaluate(env, params, policy, jax.random.key(0), 64)
    result.returns.mean(), result.returns.std()

A policy is a function ``policy(obs, key) -> action`` of one observation (float32
(obs_dim,)) and a JAX key, returning the (n_sites,) action in [−1, 1]; :func:`constant`
makes the open-loop ones. Episodes run for ``params.max_steps_in_episode`` control periods
without auto-reset; rewards after a termination (a task's terminal event or a numerical
blow-up) are not counted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.episode import Episodes, episode
from neuroenv.params_validation import check_key, check_params
from neuroenv.sharding import sharded_evaluate
from neuroenv.validation import check_policy, positive_int, show
from neuroenv.weak_static import WeakStatic, join_policy, split_policy
from simulator.sharding import sharded_vmap

__all__ = ["ConstantPolicy", "Episodes", "constant", "episode", "evaluate", "evaluate_family"]


@jax.tree_util.register_pytree_node_class
class ConstantPolicy:
    """The open-loop policy that always returns ``action`` ((n_sites,) float32 in [−1, 1]).

    A pytree (the action is its leaf): evaluating another constant of the same shape reuses
    the compiled program (:mod:`neuroenv.weak_static`).
    """

    def __init__(self, action) -> None:
        self.action = action

    def __call__(self, obs, key):
        return self.action

    def tree_flatten(self):
        return (self.action,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


def constant(action) -> ConstantPolicy:
    """The open-loop policy that always returns ``action`` ((n_sites,) in [−1, 1])."""
    return ConstantPolicy(jnp.asarray(action, jnp.float32))


def _n_steps(params, n_steps) -> int:
    """``n_steps`` (default ``params.max_steps_in_episode``) as a positive int."""
    if n_steps is None:
        return positive_int("params.max_steps_in_episode", int(params.max_steps_in_episode))
    return positive_int("n_steps", n_steps, int | np.integer)


def evaluate(env, params, policy, key, n_episodes: int, keep_traces: bool = False,
             n_steps: int | None = None, mesh=None) -> Episodes:
    """``n_episodes`` episodes of ``policy``, vmapped and jitted (see :class:`Episodes`).

    The program is compiled once per env structure, policy and episode length: a later call
    with the same ``policy`` object (or another array pytree policy of the same structure,
    e.g. :func:`constant`) reuses it.

    Args:
        env, params: a functional env and its params (shared by all episodes).
        policy: ``policy(obs, key) -> action``.
        key: JAX key; episode i uses ``jax.random.split(key, n_episodes)[i]``.
        n_episodes: number of episodes.
        keep_traces: also return every period's recorded trace and task state.
        n_steps: control periods per episode (default ``params.max_steps_in_episode``).
        mesh: a ``jax.sharding.Mesh`` (``simulator.sharding.batch_mesh()``) to split the
            episodes over its devices (:func:`neuroenv.sharding.sharded_evaluate`); default
            one device.
    """
    check_policy("policy", policy)
    check_params(env, params)
    check_key(key)
    n_episodes = positive_int("n_episodes", n_episodes)
    n_steps = _n_steps(params, n_steps)
    keys = jax.random.split(key, n_episodes)
    if mesh is not None:
        return sharded_evaluate(env, params, policy, keys, n_steps, keep_traces=keep_traces,
                                mesh=mesh)
    static, leaves = split_policy(policy)
    return _episodes(env._handle(), static, n_steps, bool(keep_traces), leaves, keys, params)


def _episodes_program(env_handle, policy_static, n_steps, keep_traces, policy_leaves, keys, params):
    """:func:`evaluate`'s program, compiled once per env structure, policy (identity, or
    tree structure for an array pytree), episode length and ``keep_traces``."""
    env, policy = env_handle.env(), join_policy(policy_static, policy_leaves)
    return jax.vmap(lambda k: episode(env, params, policy, k, n_steps, keep_traces))(keys)


def evaluate_family(env, params, make_policy, thetas, keys, n_steps: int | None = None,
                    mesh=None) -> jax.Array:
    """Returns of a family of policies in one compiled call (no recompiling per member;
    later calls with the same env structure, ``make_policy`` object and episode length reuse
    the program, with any ``thetas`` and ``keys`` of the same shapes).

    Args:
        env, params: a functional env and its params.
        make_policy: ``make_policy(theta) -> policy``, traceable in ``theta`` (gains,
            constant actions, a network's weights, ...).
        thetas: pytree whose leaves have a leading axis G (one member per row).
        keys: (n,) episode keys shared by every member, or (G, n) keys per member.
        n_steps: control periods per episode (default ``params.max_steps_in_episode``).
        mesh: a ``jax.sharding.Mesh`` to split the G members over its devices; default one
            device.

    Returns:
        (G, n) episode returns.
    """
    check_policy("make_policy", make_policy)
    check_params(env, params)
    n_steps = _n_steps(params, n_steps)
    leaves = jax.tree.leaves(thetas)
    if not leaves or any(np.ndim(leaf) == 0 for leaf in leaves):
        raise ValueError("thetas must be a pytree of arrays with a leading axis (one member "
                         f"per row), got {show(thetas)}")
    n_members = leaves[0].shape[0]
    if keys is None or not hasattr(keys, "ndim") or keys.ndim not in (1, 2):
        raise ValueError(f"keys must be (n,) or (G, n) JAX keys, got {show(keys)}")
    if keys.ndim == 1:
        keys = jnp.broadcast_to(keys, (n_members, *keys.shape))

    if mesh is not None:
        return sharded_vmap(_member(env, make_policy, n_steps, params), mesh)(thetas, keys)
    return _family(env._handle(), WeakStatic(make_policy), n_steps, thetas, keys, params)


def _member(env, make_policy, n_steps, params):
    """``(theta, member_keys) -> (n,)`` returns of ``make_policy(theta)`` on ``member_keys``
    (one member of the family; vmapped or sharded over members)."""

    def returns(theta, member_keys):
        policy = make_policy(theta)
        return jax.vmap(lambda k: episode(env, params, policy, k, n_steps, False).returns
                        )(member_keys)

    return returns


def _family_program(env_handle, make_policy_static, n_steps, thetas, keys, params):
    """:func:`evaluate_family`'s program, compiled once per env structure, policy factory
    (identity) and episode length: an evolution strategy's generations share it."""
    env, make_policy = env_handle.env(), join_policy(make_policy_static, None)
    return jax.vmap(_member(env, make_policy, n_steps, params))(thetas, keys)


_episodes = jax.jit(_episodes_program, static_argnums=(0, 1, 2, 3))
_family = jax.jit(_family_program, static_argnums=(0, 1, 2))
