"""DendriteControl-v0: shipped morphology, site geometry, reward terms, controllers, vmap.

The slow tests (``-m slow``) compute the baselines of the task card: zero current, the best
constant current on a grid over two sites, and the nearest-site P controller, over 5 seeds.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.tasks import dendrite_control as dc
from simulator.morphology import path_distance

N_REC = 5


@pytest.fixture(scope="module")
def cell_views():
    return dc.ca1_cell()


@pytest.fixture(scope="module")
def env_params():
    return neuroenv.make("DendriteControl-v0")


def make_rollout(env, params, n_steps: int):
    """Jitted, vmapped episodes of ``n_steps`` under ``const + p_controller(...)``.

    Returns a function of (keys (B,), const (B, 4), gain, feedforward, soma_gain (B,)) that
    gives (B, n_steps) rewards, (B, n_steps, substeps, N_REC) traces, (B, n_steps)
    terminations and (B,) final task states (``step_env``: no auto-reset, so the final task
    state holds the episode's spike count).
    """

    def episode(key, const, gain, feedforward, soma_gain):
        k_reset, k_steps = jax.random.split(key)
        obs, state = env.reset_env(k_reset, params)

        def body(carry, k):
            obs, state = carry
            action = const + dc.p_controller(obs, gain, feedforward, soma_gain, env.window)
            obs, state, reward, terminated, _ = env.step_env(k, state, action, params)
            return (obs, state), (reward, state.last_trace, terminated)

        (_, state), (rewards, traces, done) = jax.lax.scan(
            body, (obs, state), jax.random.split(k_steps, n_steps))
        return rewards, traces, done, state.task

    return jax.jit(jax.vmap(episode))


def run_controllers(rollout, controllers, keys):
    """Stack (const, gain, feedforward, soma_gain) per controller over ``keys`` and run."""
    n = len(keys)
    const = np.concatenate([np.tile(np.asarray(c[0], np.float32), (n, 1)) for c in controllers])
    scalars = [np.repeat(np.asarray([c[i] for c in controllers], np.float32), n)
               for i in (1, 2, 3)]
    all_keys = jnp.concatenate([keys] * len(controllers))
    return rollout(all_keys, jnp.asarray(const), *map(jnp.asarray, scalars))


# ---------------------------------------------------------------------------- geometry
def test_morphology_ships_inside_the_package():
    with dc.morphology_path() as path:
        path = Path(path)
        assert path.is_file()
        assert path.parent == Path(neuroenv.__file__).resolve().parent / "data"
        header = path.read_text().splitlines()[:20]
    assert any("CA1" in line for line in header)


def test_sites_are_distinct_compartments_at_the_claimed_path_distances(cell_views):
    cell, sites, target = cell_views
    nodes = cell.nodes
    assert len(nodes) == 156
    site_nodes = [int(s._node_inds[0]) for s in sites]
    target_node = int(target._node_inds[0])
    assert all(len(s._node_inds) == 1 for s in (*sites, target))
    assert len({*site_nodes, target_node}) == len(sites) + 1
    assert [int(nodes.loc[i, "global_branch_index"]) for i in site_nodes] == [
        b for _, b in dc.SITES]

    soma = sites[0]
    distances = [float(path_distance(soma, s)[0]) for s in sites]
    np.testing.assert_allclose(distances, dc.SITE_DISTANCES_UM, atol=0.1)
    to_target = [float(path_distance(s, target)[0]) for s in sites]
    assert int(np.argmin(to_target)) == dc.NEAREST_SITE
    d_target = float(path_distance(soma, target)[0])
    assert d_target == pytest.approx(dc.TARGET_DISTANCE_UM, abs=0.1)
    # the target is the most distal compartment of the cell, on the apical side
    assert d_target == pytest.approx(path_distance(soma, cell).max())
    assert bool(nodes.loc[target_node, "apical"])
    # site groups: soma, two apical, one basal; HH only in the soma, dendrites passive
    assert bool(nodes.loc[site_nodes[0], "soma"])
    assert nodes.loc[site_nodes[1:3], "apical"].all() and bool(nodes.loc[site_nodes[3], "basal"])
    np.testing.assert_array_equal(nodes["HH"].to_numpy(bool), nodes["soma"].to_numpy(bool))
    np.testing.assert_array_equal(nodes["Leak"].to_numpy(bool), ~nodes["soma"].to_numpy(bool))
    # recordings: target, soma, then the dendritic sites
    assert cell.recordings["rec_index"].tolist() == [target_node, *site_nodes]


def test_ncomp_is_validated():
    with pytest.raises(ValueError, match="ncomp"):
        dc.ca1_cell(0)


# ---------------------------------------------------------------------------- task terms
def test_reward_terms_and_spike_count():
    task = dc.DendriteControl()
    params = {k: jnp.float32(v) for k, v in task.default_params().items()}
    state = task.reset(jax.random.key(0), params)
    assert params["target_low"] <= state["target"] <= params["target_high"]
    assert state["target"].dtype == jnp.float32 and state["spikes"].dtype == jnp.int32
    state = {**state, "target": jnp.float32(-50.0)}
    trace = np.full((40, N_REC), -65.0, np.float32)
    zero = jnp.zeros(4, jnp.float32)

    def reward(trace, current=zero, state=state):
        new, r, term = task.step(state, jnp.asarray(trace), current, params, 1.0)
        assert r.dtype == jnp.float32 and not bool(term)
        return new, float(r)

    on_target = trace.copy()
    on_target[:, 0] = -50.0
    assert reward(on_target)[1] == pytest.approx(0.0, abs=1e-6)
    assert reward(trace)[1] == pytest.approx(-1.5)                   # 15 mV off target
    soma_up = on_target.copy()
    soma_up[:, 1] = -55.0
    assert reward(soma_up)[1] == pytest.approx(-0.5)                 # 0.5 × 10 mV / 10 mV
    assert reward(on_target, jnp.asarray([0.2, 0, -0.1, 0.0]))[1] == pytest.approx(-0.003)
    spike = on_target.copy()
    spike[10:12, 1] = 20.0                                           # one somatic spike
    new, r = reward(spike)
    # 85 mV off rest for 2 of 40 samples, capped at error_cap = 20 mV
    assert int(new["spikes"]) == 1 and r == pytest.approx(-1.0 - 0.5 * 2 * 20.0 / 40 / 10)
    assert float(new["err_int"]) == pytest.approx(0.0, abs=1e-6)  # the target is met
    # a spike already above threshold at the period's start is not counted again
    spike[:12, 1] = 20.0
    new, _ = reward(spike, state={**state, "v_soma_last": jnp.float32(10.0)})
    assert int(new["spikes"]) == 0 and float(new["v_soma_last"]) == -65.0


def test_render_info_draws_the_target_and_marks_somatic_spikes():
    task = dc.DendriteControl()
    traces = np.full((100, N_REC), -65.0)
    traces[:, 0] = np.linspace(-65.0, -50.0, 100)
    traces[30:33, 1] = 10.0
    info = task.render_info(traces, {"target": np.float32(-52.0)}, task.default_params())
    np.testing.assert_array_equal(info["trace"], traces[:, 0])
    assert info["target"] == pytest.approx(-52.0)
    assert list(info["markers"]) == [30]
    frame = neuroenv.render.render_trace(**info)
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8


# ---------------------------------------------------------------------------- dynamics
def test_p_controller_beats_zero_and_soma_drive_spikes(env_params):
    """Vmapped, scanned rollouts: the nearest-site P controller brings
    the distal target to its target with at most an onset spike at the soma; zero current
    leaves it at rest; driving it through the soma fires the soma and barely moves it."""
    env, params = env_params
    assert env.n_sites == 4 and env.n_rec == N_REC
    n_steps = 80
    rollout = make_rollout(env, params, n_steps)
    keys = jax.random.split(jax.random.key(1), 2)
    controllers = [(np.zeros(4), 0.0, 0.0, 0.0),        # zero current
                   (np.zeros(4), 0.2, 0.02, 0.0),       # P at the nearest site
                   (np.array([1.0, 0, 0, 0]), 0.0, 0.0, 0.0)]  # 0.5 nA at the soma
    rewards, traces, done, task = run_controllers(rollout, controllers, keys)
    rewards, traces = np.asarray(rewards), np.asarray(traces)
    assert rewards.dtype == np.float32 and np.all(np.isfinite(rewards))
    assert not np.any(np.asarray(done))
    returns = rewards.sum(axis=1).reshape(3, 2)
    target = np.asarray(task["target"]).reshape(3, 2)
    late = traces[:, n_steps // 2:].reshape(3, 2, -1, N_REC)    # second half of the episode
    error = np.abs(late[..., 0] - target[..., None]).mean(axis=-1)
    spikes = np.asarray(task["spikes"]).reshape(3, 2)

    zero, p, soma = 0, 1, 2
    assert np.all(error[zero] > 4.0)                            # target ≥ 5 mV above rest
    assert np.all(np.abs(late[zero, ..., 1] + 65.0) < 0.5)      # soma at rest
    assert np.all(error[p] < 1.0)
    assert np.all(spikes[p] <= 1)        # at most one onset spike from its first, clipped kick
    assert np.all(returns[p] > returns[zero] + 0.4 * n_steps)
    assert np.all(spikes[soma] >= 3)                            # the soma fires repeatedly
    assert np.all(error[soma] > error[p] + 2.0)
    assert np.all(returns[soma] < returns[p])


# ---------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_vmap_1024_step(env_params):
    env, params = env_params
    keys = jax.random.split(jax.random.key(0), 1024)
    obs, state = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    actions = jax.random.uniform(jax.random.key(1), (1024, 4), jnp.float32, -1.0, 1.0)
    obs, state, reward, terminated, truncated, _ = jax.jit(
        jax.vmap(env.step, in_axes=(0, 0, 0, None)))(keys, state, actions, params)
    assert obs.shape == (1024, 5 * env.window + 2) and obs.dtype == jnp.float32
    assert reward.shape == (1024,) and reward.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(reward))) and not bool(jnp.any(terminated))


@pytest.mark.slow
def test_baselines(env_params):
    """Zero < best constant (grid over soma × mid-trunk current) < nearest-site P control,
    each over 5 seeds × 32 episodes of 200 periods; prints the task card's numbers."""
    env, params = env_params
    n_steps = int(params.max_steps_in_episode)
    rollout = make_rollout(env, params, n_steps)

    grid = [(np.array([a0, 0.0, a2, 0.0]), 0.0, 0.0, 0.0)
            for a0 in np.linspace(-0.5, 0.5, 11) for a2 in np.linspace(0.0, 0.5, 11)]
    rewards = run_controllers(rollout, grid, jax.random.split(jax.random.key(100), 8))[0]
    grid_returns = np.asarray(rewards).sum(axis=1).reshape(len(grid), -1).mean(axis=1)
    best = grid[int(np.argmax(grid_returns))]

    controllers = {"zero": (np.zeros(4), 0.0, 0.0, 0.0), "best constant": best,
                   "P (nearest site)": (np.zeros(4), 0.2, 0.02, 0.0),
                   "P + soma loop": (np.zeros(4), 0.2, 0.02, 0.1)}
    seeds = 5
    keys = jnp.concatenate([jax.random.split(jax.random.key(s), 32) for s in range(seeds)])
    rewards, _, _, task = run_controllers(rollout, list(controllers.values()), keys)
    returns = np.asarray(rewards).sum(axis=1).reshape(len(controllers), seeds, 32)
    spikes = np.asarray(task["spikes"]).reshape(len(controllers), seeds, 32)
    means = {}
    for (name, c), r, s in zip(controllers.items(), returns, spikes, strict=True):
        per_seed = r.mean(axis=1)
        means[name] = per_seed.mean()
        print(f"{name:18s} {per_seed.mean():8.2f} ± {per_seed.std():5.2f} (over seeds; "
              f"episode std {r.std():5.2f}; spikes/episode {s.mean():.2f}) {c[0]}")
    assert means["zero"] < means["best constant"] < means["P (nearest site)"]
