"""``NeuronEnv``: any simulator module as a functional RL environment.

An action in [−1, 1]ⁿ (one entry per stimulation site) is scaled by
``params.action_scale`` to nA and injected at the sites for one control period of
``substeps`` solver steps of ``delta_t`` ms, run as one ``lax.scan`` of the simulator's
single step function inside the jitted env step. The pulse shape within the period is a
constant current or a charge-balanced biphasic pulse (``pulse="biphasic"``: +I for the first
half, −I for the second). A task may inject its own currents (noisy synaptic drive) at
``drive_sites``. The observation is the module's recorded states at the end of the period
(optionally a history window of them, optionally averaged over recordings — the mean field —
plus measurement noise), followed by the task's entries, as float32.

Observation units (``obs_units``, static): ``"scaled"`` (default) observes a recorded voltage
v (mV, clipped to ``V_BOUNDS``) as ``(v − V_OFFSET) / V_SCALE = (v + 65 mV) / 20 mV`` and
each task entry as ``(x − offset) / scale`` (the task's ``extra_obs_scaling``), so entries
are of order 1; ``"physical"`` leaves them in mV, Hz, ms, ... (:meth:`NeuronEnv.obs_affine`,
:meth:`NeuronEnv.to_physical`). Measurement noise (``obs_noise_std``) is in mV in both modes.
The ``EnvParams`` fields ``obs_noise_std``, ``param_spread`` (domain randomisation) and
``param_drift`` (parameter drift) make variants without recompiling. Every value handed to
the agent is finite (:mod:`neuroenv.numerical_guard`, applied in ``step_env``). In full:
``docs/envs.md``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neuroenv.core import Environment
from neuroenv.electrodes import resolve_actuators
from neuroenv.env_config import (  # noqa: F401  (the mode tuples: part of this module's API)
    OBS_UNITS,
    OBSERVE_MODES,
    PULSES,
    check_config,
    randomized_names,
    site_nodes,
)
from neuroenv.env_pytrees import EnvParams, EnvState
from neuroenv.extracellular_obs import n_recorded_contacts
from neuroenv.numerical_guard import (  # noqa: F401  (constants and checks: also API here)
    NUMERICAL_ERROR_REWARD,
    V_LIMIT,
    guarded_outputs,
    plausible_period,
    plausible_states,
    state_masks,
)
from neuroenv.obs_units import V_BOUNDS, V_OFFSET, V_SCALE, obs_unit_map  # noqa: F401
from neuroenv.params_validation import check_key, check_params, check_state
from neuroenv.period_inputs import period_inputs, site_waveform
from neuroenv.period_steps import PeriodSteps, recorded, run_period
from neuroenv.spaces import Box
from neuroenv.stability_cache import check_or_defer
from simulator.assemble import all_states, derive, split_all_params
from simulator.batch_last import supports_batch_last
from simulator.integrate import build_init_and_step_fn
from simulator.solvers.registry import make_solver
from simulator.step import make_step_fn, with_electrodes


class NeuronEnv(Environment):
    """A simulator module with stimulation sites and a task, as a functional env.

    Args:
        module: a Compartment, Branch, Cell or Network with ``record()``ed states (the
            observation); it must carry no stimuli or clamps of its own.
        stim_sites: views of the module, one compartment each (``cell.branch(0).loc(0.5)``).
        task: a :class:`~neuroenv.tasks.base.Task`.
        delta_t: solver time step (ms).
        substeps: solver steps per control period (static).
        action_scale: nA per unit action (default 0.1 nA).
        window: number of past control periods in the observation (static).
        obs_noise_std: measurement noise (mV).
        init_v_jitter: spread of initial voltages (mV).
        max_steps_in_episode: control periods per episode.
        solver, voltage_solver: as in ``simulator.integrate``; ``fwd_euler`` with
            ``delta_t`` past its stability bound warns
            (:class:`simulator.NumericalStabilityWarning`, see
            :mod:`simulator.solvers.stability`).
        pulse: ``"constant"`` (the current is held for the period) or ``"biphasic"``
            (charge-balanced: +I for the first half of the substeps, −I for the second;
            ``substeps`` must then be even).
        drive_sites: views (one compartment each) where the task's ``drive`` currents are
            injected (e.g. noisy synaptic input); empty by default.
        observe: ``"all"`` (every recording), ``"mean"`` (their mean: the mean field) or
            ``"none"`` (only the task's entries).
        randomize: names of ``params.sim`` entries scaled by domain randomisation and drift
            (default: every channel conductance, names ``<Channel>_g...``, when
            ``param_spread`` or ``param_drift`` is nonzero, else none: params with a nonzero
            spread or drift are then refused); any primary parameter, e.g. ``("radius",
            "axial_resistivity")`` (derived values such as ``area`` follow; naming one is a
            ValueError).
        param_spread, param_drift: defaults of the ``EnvParams`` fields (0: off).
        obs_units: ``"scaled"`` (default: O(1) entries, voltages as (v + 65 mV) / 20 mV,
            task entries by the task's ``extra_obs_scaling``) or ``"physical"`` (mV and the
            task's units); static. See ``docs/envs.md``.
        electrodes: actuators, one action entry each after the stimulation sites':
            :class:`~neuroenv.electrodes.ElectrodeActuator` (µA pulse trains at contacts of
            the module's electrodes) or :class:`~neuroenv.electrodes.CurrentActuator` (nA
            pulse trains into compartments, e.g. every cell of a nucleus). Recorded
            electrodes' potentials (µV) follow the recorded states in ``task.step``'s trace
            (:mod:`neuroenv.extracellular_obs`).
    """

    #: The builder module is mutable and never read by traced code (which reads the
    #: snapshots ``_compiled``, ``_step``, ``_states0``, ``_sim_params0``): it stays out of
    #: the content key that equal envs share compilations by (``Environment.__eq__``). The
    #: solver object and the period's step built on it compare by identity but are fixed by
    #: the solver names and the compiled module, which ``_step`` already keys; a pending
    #: time-step check (:meth:`check_time_step`) is a function of keyed values.
    _unkeyed_attributes = ("module", "_solver", "_period_step", "_pending_check")

    def __init__(self, module, stim_sites, task, delta_t: float = 0.025, substeps: int = 40,
                 action_scale: float = 0.1, window: int = 1, obs_noise_std: float = 0.0,
                 init_v_jitter: float = 0.0, max_steps_in_episode: int = 200,
                 solver: str = "bwd_euler", voltage_solver: str = "jaxley.dhs",
                 pulse: str = "constant", drive_sites=(), observe: str = "all",
                 randomize=None, param_spread: float = 0.0, param_drift: float = 0.0,
                 obs_units: str = "scaled", electrodes=()) -> None:
        base = module.base
        # The EnvParams scalars of default_params, checked with the other arguments.
        self._defaults = dict(action_scale=action_scale, obs_noise_std=obs_noise_std,
                              init_v_jitter=init_v_jitter,
                              max_steps_in_episode=max_steps_in_episode,
                              param_spread=param_spread, param_drift=param_drift)
        check_config(base, obs_units=obs_units, substeps=substeps, window=window,
                     delta_t=delta_t, pulse=pulse, observe=observe, scalars=self._defaults)
        sites = site_nodes(base, stim_sites, "stimulation")
        self._contacts = resolve_actuators(base, electrodes, delta_t, bool(sites))
        drive = site_nodes(base, drive_sites, "drive")
        self.module = module
        self.task = task
        self.delta_t = float(delta_t)
        self.substeps = substeps
        self.window = window
        self.pulse = pulse
        self.observe_mode = observe
        self.site_nodes = np.asarray(sites, dtype=np.int64)
        self.n_cell_sites = len(sites)
        self.n_sites = len(sites) + (self._contacts.n_actuators if self._contacts else 0)
        self.drive_nodes = np.asarray(drive, dtype=np.int64)
        self.n_drive = len(drive)
        init_fn, step_fn = build_init_and_step_fn(module, voltage_solver, solver)
        self._step = step_fn
        self._compiled = base._compiled
        self.n_lfp = n_recorded_contacts(base._compiled)
        states0, all_params0 = init_fn(base.get_parameters())
        # NumericalStabilityWarning past fwd_euler's bound at states0 (or check_time_step's)
        self._pending_check = check_or_defer(base._compiled, solver, self.delta_t, states0,
                                             all_params0)
        self._states0 = states0
        # Entries that hold a state (placeholders of compartments without the mechanism are
        # NaN): the numerical guard checks these for finiteness.
        self._state_masks = state_masks(states0)
        # Primary parameters (EnvParams.sim) and the built geometry they are derived against.
        params0, self._geometry_reference = split_all_params(all_params0)
        # Electrode geometry (segments, positions, σ: nested arrays) stays out of params.sim.
        self._extracellular = params0.pop("extracellular", None)
        rec = base.recordings
        self.rec_states, self.rec_inds = tuple(rec["state"].tolist()), rec["rec_index"].to_numpy()
        self.n_rec = len(rec)
        self.n_obs_rec = {"mean": 1, "none": 0}.get(observe, self.n_rec)
        self._build_period(solver, voltage_solver)
        self.randomized = randomized_names(randomize, params0, bool(param_spread or param_drift))
        self._sim_params0 = params0
        self.obs_units = obs_units
        self._obs_offset, self._obs_scale = obs_unit_map(task, window * self.n_obs_rec, obs_units)
        # multiplied, not divided: jitted and eager observations are then bitwise equal
        # (XLA rewrites a division by a constant into a multiplication under jit)
        self._obs_inv_scale = (1.0 / self._obs_scale.astype(np.float64)).astype(np.float32)
        check_params(self, self.default_params, "the default params")
        task.check_env(self)

    def check_time_step(self, stacklevel: int = 2) -> None:
        """The time-step stability check that building in
        :func:`neuroenv.stability_cache.deferred` left pending (once; else nothing)."""
        pending, self._pending_check = self._pending_check, None
        if pending is not None:
            pending(stacklevel + 1)

    def _build_period(self, solver: str, voltage_solver: str) -> None:
        """The solver (its ``prepare``: exp_euler's transition matrices, per parameters),
        ``_step``'s step without step_fn's argument checks (same module and solver, which
        ``_step`` keys) and what a period's steps need besides (:mod:`neuroenv.period_steps`:
        node-major under ``vmap`` where the module allows)."""
        compiled = self._compiled
        self._solver = make_solver(solver, compiled, voltage_solver)
        self._period_step = make_step_fn(compiled, self._solver)
        self._period_steps = PeriodSteps(self.delta_t, self.rec_states, self.rec_inds,
                                         self.n_lfp, self._state_masks,
                                         supports_batch_last(compiled, self._solver))

    # ------------------------------------------------------------------ input validation
    def check_reset(self, key, params) -> None:
        """The key and (if given) params of ``reset`` (:mod:`neuroenv.params_validation`)."""
        check_key(key)
        if params is not None:
            check_params(self, params)

    def check_step(self, key, state, action, params) -> None:
        """The key, state, action and params of ``step`` (:mod:`neuroenv.params_validation`;
        the action's shape and dtype are checked in ``step_env``)."""
        check_key(key)
        check_state(state, EnvState)
        if params is not None:
            check_params(self, params)

    # ------------------------------------------------------------------ params and spaces
    @property
    def default_params(self) -> EnvParams:
        # Cast in NumPy, then transferred: a jnp cast would compile a program per dtype.
        task = {k: jnp.asarray(np.asarray(v, np.float32))
                for k, v in self.task.default_params().items()}
        scalars = {k: jnp.asarray(np.asarray(v, np.int32 if k == "max_steps_in_episode"
                                             else np.float32))
                   for k, v in self._defaults.items()}
        return EnvParams(sim=self._sim_params0, task=task, **scalars)

    def action_space(self, params=None) -> Box:
        return Box.make(-1.0, 1.0, (self.n_sites,))

    def observation_space(self, params=None) -> Box:
        """Bounds of the observation, in the env's ``obs_units``."""
        low_extra, high_extra = self.task.extra_obs_bounds()
        n = self.window * self.n_obs_rec
        low = np.concatenate([np.full(n, V_BOUNDS[0]), np.asarray(low_extra, float)])
        high = np.concatenate([np.full(n, V_BOUNDS[1]), np.asarray(high_extra, float)])
        if self.obs_units == "physical":
            return Box.make(low, high)
        # the observation's own float32 operations, so that a clipped entry is in the Box
        inv = self._obs_inv_scale
        return Box.make((low.astype(np.float32) - self._obs_offset) * inv,
                        (high.astype(np.float32) - self._obs_offset) * inv)

    def obs_affine(self) -> tuple[np.ndarray, np.ndarray]:
        """``(offset, scale)``, each (n_obs,) float32: an observation entry is
        ``(x − offset) / scale`` of the physical value x (offset 0 and scale 1 everywhere
        with ``obs_units="physical"``)."""
        return self._obs_offset.copy(), self._obs_scale.copy()

    def to_physical(self, obs):
        """Observations (..., n_obs) in the env's units -> physical units (mV, Hz, ms, ...)."""
        return obs * self._obs_scale + self._obs_offset

    def task_obs(self, task_state, params) -> jax.Array:
        """The task's entries of the observation, (n_extra_obs,) float32 in the env's units."""
        extra = self.task.extra_obs(task_state, params.task).astype(jnp.float32)
        return self._in_obs_units(extra, slice(self.window * self.n_obs_rec, None))

    def _in_obs_units(self, values, entries: slice) -> jax.Array:
        """float32 ``values`` (physical units) of the observation ``entries``, in the env's
        units."""
        if self.obs_units == "physical":
            return values
        return (values - self._obs_offset[entries]) * self._obs_inv_scale[entries]

    @property
    def period_ms(self) -> float:
        return self.delta_t * self.substeps

    # ------------------------------------------------------------------ dynamics
    def _record(self, states) -> jax.Array:
        return recorded(states, self.rec_states, self.rec_inds)

    def _observe(self, key, history, task_state, params) -> jax.Array:
        if self.observe_mode != "all":
            history = jnp.mean(history, axis=1, keepdims=True)[:, :self.n_obs_rec]
        noise = params.obs_noise_std * jax.random.normal(key, history.shape, jnp.float32)
        measured = jnp.clip(history + noise, V_BOUNDS[0], V_BOUNDS[1]).reshape(-1)
        measured = self._in_obs_units(measured.astype(jnp.float32), slice(0, measured.shape[0]))
        return jnp.concatenate([measured, self.task_obs(task_state, params)])

    def observe(self, key, state, action, params) -> jax.Array:
        """The observation of ``state`` (gymnax 1.0's hook; ``action`` is unused), with
        measurement noise drawn from ``key``."""
        return self._observe(key, state.history, state.task, params)

    def derived_sim_params(self, sim) -> dict:
        """The step function's ``all_params`` from primary parameters ``sim`` (as
        ``params.sim``): plus area, volume, resistive loads and axial conductances derived
        from them (:func:`simulator.assemble.derive`)."""
        if self._extracellular is not None:
            sim = {**sim, "extracellular": self._extracellular}
        return derive(self._compiled, sim, self._geometry_reference)

    def prepared_solver_data(self, sim_params) -> dict:
        """The solver's precomputation for ``sim_params`` (``derived_sim_params``) and
        ``delta_t``: exp_euler's transition matrices, ``{}`` for the other solvers, and
        the electrodes' matrices (computed once per period, not in every solver step)."""
        return with_electrodes(self._compiled, self._solver.prepare(
            sim_params["axial_conductances"], self.delta_t), sim_params)

    def initial_sim_states(self, key, params, sim_params=None) -> dict:
        """Simulator states at rest (module's initial values), voltage jittered per compartment
        (standard normal draws in float32 in every simulation dtype, times ``init_v_jitter``).

        ``sim_params``: primary parameters (default ``params.sim``)."""
        states = dict(self._states0)
        v = states["v"]
        # Drawn in float32 whatever the simulation dtype (then cast): a seed gives the same
        # episode with and without x64, up to float rounding.
        normal = jax.random.normal(key, v.shape, jnp.float32).astype(v.dtype)
        jitter = params.init_v_jitter.astype(v.dtype) * normal
        states["v"] = v + jitter
        compiled = self._compiled
        arrays = {k: states[k] for k in (*compiled.state_names, *compiled.synapse_state_names)}
        sim = params.sim if sim_params is None else sim_params
        return all_states(compiled, arrays, [], self.derived_sim_params(sim))

    def episode_sim_params(self, log_scale, params) -> dict:
        """``params.sim`` with the randomised conductances scaled by exp(``log_scale``)
        ((n_randomized,), an episode's ``EnvState.param_log_scale``)."""
        if not self.randomized:
            return params.sim
        sim = dict(params.sim)
        for j, name in enumerate(self.randomized):
            sim[name] = sim[name] * jnp.exp(log_scale[j]).astype(sim[name].dtype)
        return sim

    def reset_env(self, key, params):
        k_sim, k_task, k_obs, k_scale = jax.random.split(key, 4)
        log_scale = params.param_spread * jax.random.normal(
            k_scale, (len(self.randomized),), jnp.float32)
        scaled = self.episode_sim_params(log_scale, params)
        sim = self.initial_sim_states(k_sim, params, scaled)
        task_state = self.task.reset(k_task, params.task)
        now = self._record(sim)
        history = jnp.broadcast_to(now, (self.window, self.n_rec))
        state = EnvState(
            sim=sim, time=jnp.zeros((), jnp.int32), task=task_state, history=history,
            last_trace=jnp.broadcast_to(now, (self.substeps, self.n_rec)),
            last_current=jnp.zeros((self.n_sites,), jnp.float32), param_log_scale=log_scale,
        )
        return self._observe(k_obs, history, task_state, params), state

    def waveform(self, current) -> jax.Array:
        """(substeps, n_cell_sites) injected current (nA) over a period for amplitudes
        ``current`` at the stimulation sites."""
        return site_waveform(current, self.substeps, self.pulse)

    def step_env(self, key, state, action, params):
        """One control period (no auto-reset): ``(obs, state, reward, terminated, info)``.

        The numerical guard (see :data:`V_LIMIT` and :data:`NUMERICAL_ERROR_REWARD`) makes
        every value handed out finite: a period in which any compartment's |v| exceeds
        ``V_LIMIT`` or any other simulated state is non-finite at its start or end, or a
        recorded voltage exceeds ``V_LIMIT`` at any solver step, or whose reward or
        observation is not finite, or whose injected current is not finite (a NaN action
        or ``action_scale``), is a numerical error.
        """
        k_obs, k_drive, k_drift = jax.random.split(key, 3)
        task_state, current, current_ok, xs, inds = period_inputs(self, k_drive, state, action,
                                                                 params)
        # Derived once per period (outside the scan) from the episode's primary parameters.
        sim_params = self.derived_sim_params(
            self.episode_sim_params(state.param_log_scale, params))
        prepared = self.prepared_solver_data(sim_params)
        # `plausible`: states at the start and end of the period, recorded voltages at
        # every solver step.
        sim, trace, lfp_trace, plausible = run_period(self._period_step, self._period_steps,
                                                      state.sim, sim_params, prepared, xs, inds)
        ok = current_ok & plausible
        ok = ok & jnp.all(jnp.isfinite(lfp_trace))
        trace = jnp.where(ok, trace, state.history[-1])
        lfp_trace = jnp.where(ok, lfp_trace, 0.0)
        new_task, reward, terminated = self.task.step(
            task_state, jnp.concatenate([trace, lfp_trace], axis=1), current, params.task,
            self.period_ms)
        reward = jnp.asarray(reward, jnp.float32)
        history = jnp.concatenate([state.history[1:], trace[-1:]], axis=0)
        obs = self._observe(k_obs, history, new_task, params)
        # After the task: a reward or task entry can overflow from finite voltages.
        ok = ok & jnp.isfinite(reward) & jnp.all(jnp.isfinite(obs))
        # On an error: the previous task state, the last finite voltages repeated, and the
        # penalty; any entry still non-finite (e.g. from non-finite params) becomes 0.
        new_task = jax.tree_util.tree_map(lambda new, old: jnp.where(ok, new, old), new_task,
                                          task_state)
        fallback = self._observe(k_obs, history, new_task, params)
        obs, reward = guarded_outputs(ok, obs, fallback, reward)
        drift = params.param_drift * np.float32(np.sqrt(self.period_ms))
        log_scale = state.param_log_scale + drift * jax.random.normal(
            k_drift, state.param_log_scale.shape, jnp.float32)
        next_state = EnvState(sim=sim, time=state.time + 1, task=new_task, history=history,
                              last_trace=trace, last_current=current,
                              param_log_scale=log_scale)
        info = {"numerical_error": jnp.logical_not(ok), "current_nA": current}
        return obs, next_state, reward, jnp.logical_or(terminated, ~ok), info
