"""BasalGangliaDBS-v0: the per-period relay errors sum to the error index of the episode's
TC traces, DBS restores relay and removes the beta proxy, the vmapped env runs jitted."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuroenv.tasks.basal_ganglia_dbs import lfp_weights, make_env
from simulator.models.basal_ganglia import error_index


@pytest.fixture(scope="module")
def env():
    return make_env()


def _episode(env, action, n=60, key=0):
    p = env.default_params
    _, state = env.reset(jax.random.key(key), p)
    step = jax.jit(env.step_env)
    traces, rewards, powers = [], [], []
    for k in range(n):
        _, state, r, _, info = step(jax.random.key(k), state, jnp.array([action]), p)
        assert not bool(info["numerical_error"])
        traces.append(np.asarray(state.last_trace[:, :2]))
        rewards.append(float(r))
        powers.append(float(state.task["power"]))
    return state, np.concatenate(traces), np.asarray(rewards), np.asarray(powers)


@pytest.mark.parametrize("action", [-1.0, 0.0])  # no DBS, half amplitude (unipolar)
def test_period_errors_sum_to_the_error_index(env, action):
    state, tc, rewards, _ = _episode(env, action)
    dt, n = 0.01, 60  # 600 ms: 12 pulses, the last window closes at 575 ms
    v = np.concatenate([np.full((1, 2), -100.0), tc]).T  # sample 0 at t = 0 (below threshold)
    e = error_index(v, dt, np.arange(0.0, n * 10.0, 50.0), window=25.0)
    errors = e["misses"] + e["bad"] + e["spurious"]
    print("action", action, "errors", float(state.task["errors"]), e)
    # the same spikes, windows and rules: equal counts (float32 sum of small integers)
    assert float(state.task["errors"]) == errors
    penalty = 0.03 * (action + 1.0) / 2.0 * n  # charge_penalty × amplitude fraction
    np.testing.assert_allclose(-rewards.sum(), errors / 2 + penalty, rtol=1e-5)


def test_dbs_restores_relay_and_removes_beta(env):
    _, _, r0, p0 = _episode(env, -1.0, n=80)
    _, _, r1, p1 = _episode(env, 1.0, n=80)
    late = slice(30, None)  # after the initial transient (300 ms)
    errors_off = -r0[late].sum() * 2
    errors_on = -(r1[late].sum() + 0.03 * 50) * 2
    print("late errors off/on", errors_off, errors_on, "beta off/on", p0[late].mean(),
          p1[late].mean())
    # measured: 6 vs 0 errors over 500 ms (10 pulses × 2 TC cells; EI 0.3 vs 0); beta
    # power 1.8e-3 vs 1.9e-5 µV²
    assert errors_off >= 4 and errors_on <= 1
    assert p1[late].mean() < 0.2 * p0[late].mean()


def test_lfp_weights_point_source():
    w = lfp_weights(16)
    # 1 nA at 200 µm in 0.3 S/m: 1e-9 / (4π · 0.3 · 2e-4) V = 1.326 µV; the grid's corners
    # (150 µm off axis in x and y) are farther
    assert w.shape == (16,) and np.all(w <= 1.3263) and np.all(w > 0.8)
    np.testing.assert_allclose(lfp_weights(1), 1e-9 / (4 * np.pi * 0.3 * 2e-4) * 1e6)


def test_vmapped_jitted_batch(env):
    p = env.default_params
    keys = jax.random.split(jax.random.key(0), 4)

    @jax.jit
    def run(keys):
        _, state = jax.vmap(env.reset, (0, None))(keys, p)
        return jax.vmap(env.step_env, (0, 0, 0, None))(keys, state, jnp.ones((4, 1)), p)

    obs, _, reward, _, info = run(keys)
    assert obs.shape == (4, 1) and np.isfinite(np.asarray(reward)).all()
    assert not np.asarray(info["numerical_error"]).any()


@pytest.mark.parametrize("start_s", [0.0, 18.0])  # late in a long episode: the clock is exact
def test_relay_errors_at_window_boundaries_equal_error_index(start_s):
    from neuroenv.tasks.basal_ganglia_dbs import BasalGangliaDBS

    dt, substeps, n_periods = 0.01, 1000, 60
    task = BasalGangliaDBS(2, np.ones(1), dt)
    start = int(round(start_s * 1000 / dt))
    n = substeps * n_periods
    v = np.full((n + 1, 2), -70.0)  # sample 0 at the task's step `start`
    rng = np.random.default_rng(0)
    t_rel = [25.0, 50.0, 75.0, 100.0, 124.99, 175.0, 200.01, 300.0]  # on and near edges
    t_rel += list(rng.uniform(0.0, n * dt, 40))
    for cell, ts in enumerate((t_rel, t_rel[::2])):
        for t in ts:
            k = int(round(t / dt))
            v[k:k + 30, cell] = 20.0  # a crossing at sample k, 0.3 ms above threshold
    state = {**task.reset(None, task.default_params()),
             "step": jnp.asarray(start, jnp.int32)}
    step = jax.jit(lambda s, tr: task.step(s, tr, jnp.zeros(1), task.default_params(),
                                           10.0))
    for p in range(n_periods):
        trace = np.concatenate([v[1 + p * substeps:1 + (p + 1) * substeps],
                                np.zeros((substeps, 1))], axis=1)
        state, *_ = step(state, jnp.asarray(trace, jnp.float32))
    onsets = np.arange(0.0, n * dt, 50.0) - (start * dt) % 50.0
    e = error_index(v.T, dt, onsets[onsets >= 0], window=25.0)
    assert float(state["errors"]) == e["misses"] + e["bad"] + e["spurious"]


def test_bad_configuration_named():
    from neuroenv.tasks.basal_ganglia_dbs import BasalGangliaDBS

    for kwargs, match in (({"n_tc": 0}, "n_tc"), ({"weights": [[1.0]]}, "weights"),
                          ({"weights": [np.nan]}, "weights"), ({"delta_t": 0.0}, "delta_t"),
                          ({"delta_t": 0.03}, "delta_t")):
        args = {"n_tc": 2, "weights": [1.0], "delta_t": 0.01, **kwargs}
        with pytest.raises(ValueError, match=match):
            BasalGangliaDBS(**args)
    with pytest.raises(ValueError, match="substeps"):
        make_env(substeps=6000)  # 60 ms: two relay windows could close in one period
