"""Differentiable control: gradient descent through the neuron on VoltageTarget-v0.

The functional env is differentiable end to end — the simulator's solver steps, the DHS tree
solver of the cable equation (``custom_linear_solve``), the task's reward — so the gradient
of an episode's return with respect to every injected current and every policy weight is one
``jax.grad`` of a ``lax.scan`` of ``env.step_env`` (backpropagation through time over
``n_periods`` control periods × 40 solver steps). This example uses that gradient twice:

(a) **open-loop stimulus**: one current per control period, ``I_t = 0.5 nA · tanh(u_t)``,
    for a fixed target (−60 mV), optimised from zero current by Adam on a batch of episodes
    (each with its own initial-voltage jitter);
(b) **feedback policy**: ``a = tanh(θ · [(target − v)/10 mV, (target + 60 mV)/10 mV, 1])``
    (three weights), trained on batches of targets drawn (stratified) from the task's range
    [−70, −50] mV, and evaluated on held-out seeds.

It compares them with doing nothing and with PPO (rejax, through
:class:`neuroenv.adapters.GymnaxLegacy`, at most 150k env steps), on the same episodes: a
table of env steps (for the gradient methods, every simulated period of every training
rollout; each also costs one backward pass), wall time, return (mean ± std over the held-out
episodes) and mean |v − target|, and saves ``differentiable_control.png`` (matplotlib).

What the gradient cannot see. The Hodgkin–Huxley cell cannot be held above about −58 mV
(it spikes), and a spike makes the gradient of the return large and uninformative: it is the
derivative of the spike's timing, not of whether the spike happens. Clipping the gradient's
global norm and Adam keep the steps bounded, and the open-loop problem (target −60 mV)
converges (|v − target| 5.0 → 0.4 mV). The feedback policy, though, climbs towards larger
gains and offsets until episodes with targets above about −61 mV begin with a spike — a
cliff invisible to the pathwise gradient — and stops there (θ ≈ [1.0, 0.6, 0.33]): on the
held-out random targets it reaches 5.7 mV against 6.7 mV at zero current, while a grid
search over the same three weights finds 3.8 mV (θ = [1.0, 0.4, 0.1]).

Memory. Full backpropagation through 100 periods × 40 solver steps for 8 episodes needs
about 100 MB of XLA temporaries (0.12 MB per episode-period; the cell has 12
compartments), so neither ``jax.checkpoint`` nor truncated segments are needed here.

Needs ``optax`` (and ``rejax`` for the PPO row; ``matplotlib`` for the plot).

Run: ``python examples/differentiable_control.py`` (a few minutes on two CPU cores; PPO's
compilation is most of it), ``--quick`` for a smoke run without PPO, ``--no-ppo``,
``--ppo-steps N``, ``--out PATH``, ``--no-plot``.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import neuroenv

TARGET = -60.0  # mV: the fixed target of the open-loop problem
FULL = dict(n_periods=100, batch=8, open_loop_iters=60, policy_iters=60, n_eval=16,
            ppo_steps=36 * 64 * 64)
QUICK = dict(n_periods=40, batch=4, open_loop_iters=15, policy_iters=15, n_eval=8,
             ppo_steps=0)
OPEN_LOOP_LR, POLICY_LR = 0.02, 0.1  # Adam step sizes (cosine-decayed to 0)
CLIP_NORM = 1.0  # global-norm clip of every gradient
N_FEATURES = 3


def features(obs: jax.Array) -> jax.Array:
    """(3,) policy inputs from a physical-units observation [v (mV), target (mV), error
    integral (mV·ms)]: the error (target − v) / 10 mV, the target's offset
    (target + 60 mV) / 10 mV, and a bias 1."""
    v, target = obs[0], obs[1]
    return jnp.stack([(target - v) / 10.0, (target + 60.0) / 10.0, jnp.ones_like(v)])


def zero_controller(n_periods: int) -> dict:
    """Zero current: ``u`` (n_periods,) open-loop drive and ``theta`` (3,) feedback weights,
    both zero. Every controller here is ``a_t = tanh(u_t + θ · features(obs_t))``."""
    return {"u": jnp.zeros((n_periods,), jnp.float32),
            "theta": jnp.zeros((N_FEATURES,), jnp.float32)}


def with_target(params, target):
    """``params`` whose task draws exactly ``target`` (mV) at every reset."""
    target = jnp.asarray(target, params.task["target_low"].dtype)
    return params.replace(task={**params.task, "target_low": target, "target_high": target})


class Problem:
    """VoltageTarget-v0 episodes of ``n_periods`` control periods, in batches of ``batch``,
    with one compiled function for their returns and the gradient of the mean return.

    Build it inside ``jax.enable_x64(True)`` for a float64 simulation.

    Attributes:
        env, params: the functional env and its default ``EnvParams``.
        compile_s: seconds spent compiling :meth:`value_and_grad`.
    """

    def __init__(self, n_periods: int, batch: int) -> None:
        if not (isinstance(n_periods, int) and n_periods > 0):
            raise ValueError(f"n_periods must be a positive int, got {n_periods!r}")
        if not (isinstance(batch, int) and batch > 0):
            raise ValueError(f"batch must be a positive int, got {batch!r}")
        self.n_periods, self.batch = n_periods, batch
        self.env, self.params = neuroenv.make("VoltageTarget-v0", obs_units="physical",
                                              max_steps_in_episode=n_periods)
        start = time.perf_counter()
        keys, targets = self.fixed_batch(jax.random.key(0), TARGET)
        grad_fn = jax.value_and_grad(self._loss, has_aux=True)
        self._value_and_grad = jax.jit(grad_fn).lower(
            zero_controller(n_periods), keys, targets).compile()
        self.compile_s = time.perf_counter() - start

    def episode(self, ctrl: dict, key: jax.Array, target: jax.Array):
        """One episode of ``n_periods`` periods with the task's target set to ``target`` (mV).

        Returns:
            ``(return, (mean |v − target| (mV), v (n_periods · substeps,) soma voltage (mV),
            current (n_periods,) injected current (nA)))``. The episode starts from
            ``env.reset_env(split(key)[0], ...)``: with the target that reset draws (see
            :meth:`task_targets`) it is the env's own episode of that key.
        """
        env = self.env
        params = with_target(self.params, target)
        k_reset, k_steps = jax.random.split(key)
        obs, state = env.reset_env(k_reset, params)

        def period(carry, xs):
            obs, state = carry
            k, u = xs
            action = jnp.tanh(u + ctrl["theta"] @ features(obs))[None]
            obs, state, reward, _, _ = env.step_env(k, state, action, params)
            v = state.last_trace[:, 0]
            return (obs, state), (reward, jnp.mean(jnp.abs(v - target)), v,
                                  state.last_current[0])

        xs = (jax.random.split(k_steps, self.n_periods), ctrl["u"])
        _, (rewards, errors, v, current) = jax.lax.scan(period, (obs, state), xs)
        return jnp.sum(rewards), (jnp.mean(errors), v.reshape(-1), current)

    def _loss(self, ctrl, keys, targets):
        returns, aux = jax.vmap(self.episode, in_axes=(None, 0, 0))(ctrl, keys, targets)
        return -jnp.mean(returns), (returns, *aux)

    def value_and_grad(self, ctrl: dict, keys: jax.Array, targets: jax.Array):
        """Loss (−mean return), per-episode results, and the loss's gradient.

        Args:
            ctrl: controller (see :func:`zero_controller`).
            keys: (batch,) episode keys; targets: (batch,) float32 targets (mV).

        Returns:
            ``((loss, (returns, errors, v, current)), grads)`` with ``returns``, ``errors``
            (mV) of shape (batch,), ``v`` (batch, n_periods · substeps) (mV), ``current``
            (batch, n_periods) (nA) and ``grads`` shaped like ``ctrl``.
        """
        return self._value_and_grad(ctrl, keys, targets)

    def fixed_batch(self, key: jax.Array, target: float, n: int | None = None):
        """``n`` (default ``batch``) episode keys, all with target ``target`` (mV)."""
        n = self.batch if n is None else n
        return jax.random.split(key, n), jnp.full((n,), target, jnp.float32)

    def stratified_batch(self, key: jax.Array):
        """``batch`` keys and targets, one drawn uniformly in each of ``batch`` equal bins of
        the task's target range (the task's distribution, with less variance)."""
        k_keys, k_targets = jax.random.split(key)
        low = float(self.params.task["target_low"])
        high = float(self.params.task["target_high"])
        u = (jnp.arange(self.batch) + jax.random.uniform(k_targets, (self.batch,))) / self.batch
        return jax.random.split(k_keys, self.batch), (low + (high - low) * u).astype(jnp.float32)

    def task_targets(self, keys: jax.Array) -> jax.Array:
        """(n,) targets (mV) that ``env.reset`` draws for the episodes of ``keys``."""
        def draw(key):
            return self.env.reset_env(jax.random.split(key)[0], self.params)[1].task["target"]

        return jax.vmap(draw)(keys).astype(jnp.float32)

    def evaluate(self, ctrl: dict, keys: jax.Array, targets: jax.Array) -> dict:
        """Run ``ctrl`` on every episode (in chunks of ``batch``; no training).

        Returns:
            dict of NumPy arrays: ``returns``, ``errors`` (mV) (n,), ``v`` (n, T) (mV),
            ``current`` (n, n_periods) (nA).
        """
        n = keys.shape[0]
        fill = np.arange(n + (-n % self.batch)) % n  # repeat episodes to whole chunks
        keys, targets = keys[fill], targets[fill]
        parts = []
        for i in range(0, len(fill), self.batch):
            (_, aux), _ = self.value_and_grad(ctrl, keys[i:i + self.batch],
                                              targets[i:i + self.batch])
            parts.append(aux)
        out = [np.concatenate([np.asarray(p[j]) for p in parts])[:n] for j in range(4)]
        return dict(zip(("returns", "errors", "v", "current"), out, strict=True))


def optimise(problem: Problem, part: str, batches, iters: int, lr: float,
             ctrl: dict | None = None, log=print):
    """Adam (after a global-norm clip) on the ``part`` (``"u"`` or ``"theta"``) of a
    controller, by the gradient of the mean return over the batches ``batches(i)`` gives.

    Returns:
        ``(ctrl, history)``: the controller after ``iters`` steps and, per step, the training
        batch's mean return and mean |v − target| (mV) before the step ((iters, 2) array).
    """
    ctrl = dict(zero_controller(problem.n_periods) if ctrl is None else ctrl)
    opt = optax.chain(optax.clip_by_global_norm(CLIP_NORM),
                      optax.adam(optax.cosine_decay_schedule(lr, iters), b2=0.99))
    opt_state = opt.init(ctrl[part])
    history = []
    for i in range(iters):
        (_, (returns, errors, _, _)), grads = problem.value_and_grad(ctrl, *batches(i))
        updates, opt_state = opt.update(grads[part], opt_state, ctrl[part])
        ctrl[part] = optax.apply_updates(ctrl[part], updates)
        history.append((float(jnp.mean(returns)), float(jnp.mean(errors))))
        if log is not None and (i % 10 == 0 or i == iters - 1):
            log(f"  {part} step {i:3d}: batch return {history[-1][0]:8.2f},"
                f" |v - target| {history[-1][1]:5.2f} mV")
    return ctrl, np.asarray(history)


def train_ppo(problem: Problem, total_steps: int, seed: int = 0):
    """PPO (rejax 0.1.3 through ``GymnaxLegacy``, :func:`neuroenv.ppo.train` with its
    ``CONFIG``) on the same env.

    Returns:
        ``(act, train_s, steps)``: ``act(obs) -> (1,)`` the deterministic (mean) action in
        [−1, 1], training seconds (including compilation), env steps taken.
    """
    from neuroenv import ppo

    policy, info = ppo.train(problem.env, problem.params, total_steps, seed, progress=False)
    return (lambda obs: policy(obs, None)), info["wall_s"], info["env_steps"]


def evaluate_policy(problem: Problem, act, keys: jax.Array, targets: jax.Array) -> dict:
    """Returns and mean |v − target| (mV) of an arbitrary ``act(obs) -> (1,)`` policy on the
    episodes of ``keys``/``targets`` (the same episodes as :meth:`Problem.evaluate`)."""
    env, params = problem.env, problem.params

    def episode(key, target):
        p = with_target(params, target)
        k_reset, k_steps = jax.random.split(key)
        obs, state = env.reset_env(k_reset, p)

        def period(carry, k):
            obs, state = carry
            obs, state, reward, _, _ = env.step_env(k, state, act(obs), p)
            v = state.last_trace[:, 0]
            return (obs, state), (reward, jnp.mean(jnp.abs(v - target)), v)

        _, (rewards, errors, v) = jax.lax.scan(period, (obs, state),
                                               jax.random.split(k_steps, problem.n_periods))
        return jnp.sum(rewards), jnp.mean(errors), v.reshape(-1)

    returns, errors, v = jax.jit(jax.vmap(episode))(keys, targets)
    return {"returns": np.asarray(returns), "errors": np.asarray(errors), "v": np.asarray(v)}


def _timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds it took)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def _add_ppo(problem: Problem, ppo_steps: int, eval_keys, evaluations, cost: dict, log):
    """Train PPO for ``ppo_steps`` env steps (none when 0) and add its row: for each
    ``(results, targets)`` of ``evaluations``, ``results["PPO (rejax)"]`` is its
    :func:`evaluate_policy` on the held-out episodes; ``cost["PPO (rejax)"]`` its (env
    steps, training s)."""
    if ppo_steps <= 0:
        log("PPO skipped (ppo_steps=0)")
        return
    log(f"PPO (rejax) for {ppo_steps} env steps: compiling and training")
    act, ppo_train_s, steps = train_ppo(problem, ppo_steps)
    log(f"  trained in {ppo_train_s:.1f} s (including compilation)")
    for results, targets in evaluations:
        results["PPO (rejax)"] = evaluate_policy(problem, act, eval_keys, targets)
    cost["PPO (rejax)"] = (steps, ppo_train_s)


def _table(fixed: dict, random: dict, cost: dict, caption: str, log) -> list[tuple]:
    """Print (under ``caption``) and return the table's rows (set, method, env steps, wall s,
    mean return, std, mean |v − target| in mV) of the evaluations ``fixed`` and ``random``
    (method -> ``evaluate`` dict); ``cost``: method -> (env steps, wall s)."""
    rows = []
    for name, results in (("target -60 mV", fixed), ("random targets", random)):
        for method, res in results.items():
            steps, wall = cost[method]
            rows.append((name, method, steps, wall, float(res["returns"].mean()),
                         float(res["returns"].std()), float(res["errors"].mean())))
    log("")
    log(caption)
    log(f"{'episodes':15s} {'method':27s} {'env steps':>9s} {'wall s':>7s}"
        f" {'return (mean ± std)':>21s} {'|v-target| mV':>13s}")
    for name, method, steps, wall, mean, std, err in rows:
        log(f"{name:15s} {method:27s} {steps:9d} {wall:7.1f} {mean:10.2f} ± {std:8.2f}"
            f" {err:13.2f}")
    return rows


def run(n_periods: int = FULL["n_periods"], batch: int = FULL["batch"],
        open_loop_iters: int = FULL["open_loop_iters"],
        policy_iters: int = FULL["policy_iters"], n_eval: int = FULL["n_eval"],
        ppo_steps: int = FULL["ppo_steps"], out: str | None = "differentiable_control.png",
        problem: Problem | None = None, log=print) -> dict:
    """Train both gradient controllers (and PPO when ``ppo_steps`` > 0), evaluate them on
    ``n_eval`` held-out episodes, print the table and save the figure to ``out``.

    ``problem`` (optional) reuses a compiled :class:`Problem` (then ``n_periods`` and
    ``batch`` are its own).

    Returns:
        dict with ``problem``; ``open_loop`` and ``policy`` (trained controllers);
        ``history_open_loop``/``history_policy`` ((iters, 2): batch return, error (mV));
        ``fixed`` and ``random`` (method name -> ``evaluate`` dict, episodes with target
        −60 mV and with the task's random targets); ``rows`` (the table's rows: set, method,
        env steps, wall s, mean return, std, mean error) and ``compile_s``.
    """
    if problem is None:
        log(f"compiling the return and its gradient ({batch} episodes of {n_periods} periods)")
        problem = Problem(n_periods, batch)
        log(f"  compiled in {problem.compile_s:.1f} s")
    n_periods, batch = problem.n_periods, problem.batch
    eval_keys = jax.random.split(jax.random.key(10_000), n_eval)  # held out: not in training
    fixed_targets = jnp.full((n_eval,), TARGET, jnp.float32)
    random_targets = problem.task_targets(eval_keys)
    steps_per_iter = batch * n_periods
    log(f"(a) open-loop stimulus for target {TARGET:.0f} mV: {open_loop_iters} Adam steps")
    (open_loop, hist_open), open_loop_s = _timed(
        optimise, problem, "u", lambda i: problem.fixed_batch(jax.random.key(i + 1), TARGET),
        open_loop_iters, OPEN_LOOP_LR, log=log)
    log(f"(b) feedback policy on random targets: {policy_iters} Adam steps")
    (policy, hist_policy), policy_s = _timed(
        optimise, problem, "theta",
        lambda i: problem.stratified_batch(jax.random.key(100_000 + i)), policy_iters,
        POLICY_LR, log=log)
    log(f"  policy weights θ = {np.round(np.asarray(policy['theta']), 3).tolist()}")

    zero = zero_controller(n_periods)
    fixed = {"zero current": problem.evaluate(zero, eval_keys, fixed_targets),
             "open-loop stimulus (grad)": problem.evaluate(open_loop, eval_keys, fixed_targets),
             "feedback policy (grad)": problem.evaluate(policy, eval_keys, fixed_targets)}
    random = {"zero current": problem.evaluate(zero, eval_keys, random_targets),
              "feedback policy (grad)": problem.evaluate(policy, eval_keys, random_targets)}
    cost = {"zero current": (0, 0.0),
            "open-loop stimulus (grad)": (open_loop_iters * steps_per_iter, open_loop_s),
            "feedback policy (grad)": (policy_iters * steps_per_iter, policy_s)}
    compile_s = {"gradient": problem.compile_s}
    _add_ppo(problem, ppo_steps, eval_keys, ((fixed, fixed_targets), (random, random_targets)),
             cost, log)
    rows = _table(fixed, random, cost, f"{n_eval} held-out episodes of {n_periods} ms each"
                  " (wall time: training, without compilation)", log)
    log("compilation: " + ", ".join(f"{k} {v:.1f} s" for k, v in compile_s.items()))
    results = dict(problem=problem, open_loop=open_loop, policy=policy,
                   history_open_loop=hist_open, history_policy=hist_policy, fixed=fixed,
                   random=random, rows=rows, compile_s=compile_s, figure=None)
    if out is not None:
        results["figure"] = plot(results, random_targets, out, log)
    return results


def plot(results: dict, random_targets, out: str, log=print) -> str | None:
    """Save the figure: (a) open-loop voltage and stimulus, (b) feedback policy on held-out
    targets, (c) training curves. Returns the path, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no figure (pip install matplotlib)")
        return None
    problem = results["problem"]
    dt = problem.env.delta_t
    fixed, random = results["fixed"], results["random"]
    t = np.arange(fixed["zero current"]["v"].shape[1]) * dt
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    ax = axes[0, 0]
    for method, res in fixed.items():
        ax.plot(t, res["v"][0], lw=1, label=method)
    ax.axhline(TARGET, ls="--", color="k", lw=0.8)
    ax.set(xlabel="time (ms)", ylabel="soma voltage (mV)",
           title=f"(a) target {TARGET:.0f} mV, one held-out episode")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    period = np.arange(problem.n_periods) * dt * problem.env.substeps
    ax.step(period, fixed["open-loop stimulus (grad)"]["current"][0], where="post")
    ax.set(xlabel="time (ms)", ylabel="current (nA)", title="(a) optimised open-loop stimulus")
    ax = axes[1, 0]
    targets = np.asarray(random_targets)
    for i in np.argsort(targets)[:: max(1, len(targets) // 4)][:4]:
        (line,) = ax.plot(t, random["feedback policy (grad)"]["v"][i], lw=1)
        ax.axhline(targets[i], ls="--", color=line.get_color(), lw=0.8)
    ax.set(xlabel="time (ms)", ylabel="soma voltage (mV)",
           title="(b) feedback policy, held-out targets (dashed)")
    ax = axes[1, 1]
    ax.plot(results["history_open_loop"][:, 1], label="(a) open-loop, target -60 mV")
    ax.plot(results["history_policy"][:, 1], label="(b) policy, random targets")
    ax.set(xlabel="Adam step", ylabel="batch mean |v - target| (mV)", title="training")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    log(f"saved {out}")
    return out


def main(argv=None) -> dict:
    """Command line: see the module docstring. Returns :func:`run`'s results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run, no PPO")
    ap.add_argument("--no-ppo", action="store_true", help="skip the PPO comparison")
    ap.add_argument("--ppo-steps", type=int, default=None, help="PPO env steps (<= 150k)")
    ap.add_argument("--out", default="differentiable_control.png", help="figure path")
    ap.add_argument("--no-plot", action="store_true", help="do not write the figure")
    args = ap.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.ppo_steps is not None:
        settings["ppo_steps"] = args.ppo_steps
    if args.no_ppo:
        settings["ppo_steps"] = 0
    return run(**settings, out=None if args.no_plot else args.out)


if __name__ == "__main__":
    main()
