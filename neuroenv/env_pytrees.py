"""The pytrees of :class:`~neuroenv.neuron_env.NeuronEnv`: ``EnvParams`` (every number of
the environment; vmap over it to randomise domains) and ``EnvState``."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


@chex.dataclass(frozen=True)
class EnvParams:
    """Every number of the environment (a pytree; vmap over it to randomise domains).

    Attributes:
        sim: the simulator's primary parameters: name -> (n_nodes,) array (``radius`` µm,
            ``length`` µm, ``axial_resistivity`` Ω·cm, ``capacitance`` µF/cm², channel
            parameters; synapse parameters (n_synapses_of_type,)). The derived ones (area,
            volume, resistive loads, axial conductances) are not stored: every step derives
            them from these (``NeuronEnv.derived_sim_params``), so replacing, vmapping,
            randomising or drifting e.g. ``radius`` changes the cell's dynamics consistently.
        task: task parameters (dict of float32 scalars).
        action_scale: nA injected per unit action.
        obs_noise_std: standard deviation of additive measurement noise (obs units, mV).
        init_v_jitter: standard deviation of the initial voltage around rest (mV).
        max_steps_in_episode: episode length in control periods (int32).
        param_spread: std of the per-episode log-scale of the randomised conductances.
        param_drift: std of their log-scale's Brownian drift per √ms.
    """

    sim: dict
    task: dict
    action_scale: jax.Array
    obs_noise_std: jax.Array
    init_v_jitter: jax.Array
    max_steps_in_episode: jax.Array
    param_spread: jax.Array
    param_drift: jax.Array


def cap_episode_steps(params, max_episode_steps: int | None):
    """``params`` with ``max_steps_in_episode`` lowered to at most ``max_episode_steps``
    (gymnasium's ``TimeLimit``, done on the device); ``params`` itself for ``None``."""
    if max_episode_steps is None:
        return params
    return params.replace(max_steps_in_episode=jnp.minimum(
        params.max_steps_in_episode, jnp.int32(max_episode_steps)))


@chex.dataclass(frozen=True)
class EnvState:
    """Simulator states, time (control periods, int32), task state and observation window.

    Attributes:
        history: (window, n_rec) recorded values at the end of the last periods.
        last_trace: (substeps, n_rec) recorded values during the last period.
        last_current: (n_sites,) amplitude of the last action (nA).
        param_log_scale: (n_randomized,) log-scale of each randomised conductance.
    """

    sim: dict
    time: jax.Array
    task: dict
    history: jax.Array
    last_trace: jax.Array
    last_current: jax.Array
    param_log_scale: jax.Array
