"""Every registered task runs 1,024-way vmapped (reset, steps with auto-reset) and stays finite."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuroenv
from neuroenv.registry import BASE_TASKS

N = 1024


#: Tasks whose 1,024-env rollout is the longest on 2 CPU cores (BasalGangliaDBS-v0: 50 cells ×
#: 1,000 solver steps per period, measured 80 s; BetaSuppression-v0: 12 cells of 15
#: compartments with electrodes, 16 s): marked slow. Both run vmapped and jitted in the
#: default run with small batches (tests/neuroenv/tasks/test_basal_ganglia_dbs.py,
#: tests/neuroenv/test_electrode_env.py).
SLOW = {"BasalGangliaDBS-v0", "BetaSuppression-v0"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(BASE_TASKS)])
def test_vmapped_1024(name):
    env, params = neuroenv.make(name, max_steps_in_episode=3)
    keys = jax.random.split(jax.random.key(0), N)
    n_act = env.action_space().shape[0]

    @jax.jit
    def rollout(keys):
        obs, state = jax.vmap(env.reset, (0, None))(keys, params)

        def body(carry, k):
            obs, state = carry
            ks = jax.random.split(k, N)
            actions = jax.vmap(lambda kk: jax.random.uniform(kk, (n_act,), minval=-1,
                                                             maxval=1))(ks)
            obs, state, reward, term, trunc, info = jax.vmap(env.step, (0, 0, 0, None))(
                ks, state, actions, params)
            return (obs, state), (obs, reward, term, trunc)

        _, out = jax.lax.scan(body, (obs, state), jax.random.split(keys[0], 4))
        return obs, state, out

    obs0, state0, (obs, reward, term, trunc) = rollout(keys)
    assert obs0.shape == (N, *env.observation_space().shape)
    assert obs.shape == (4, N, *env.observation_space().shape)
    assert np.isfinite(np.asarray(obs)).all() and np.isfinite(np.asarray(reward)).all()
    # every episode of 3 periods has ended by the third step: truncated there, or terminated
    # by the task before (EnergyEfficientSpike-v0 ends at the first spike)
    term, trunc = np.asarray(term), np.asarray(trunc)
    assert (trunc[2] | term[:3].any(axis=0)).all()
    assert not (term & trunc).any()
    space = env.observation_space()
    assert np.all((np.asarray(obs) >= space.low) & (np.asarray(obs) <= space.high))
    # episodes differ (keys reach the initial state); a task whose device senses only a
    # filtered signal (band power, a cold sensor) observes 0 at reset, so its initial
    # membrane state is checked instead
    first = obs0[:, 0] if float(jnp.std(obs0[:, 0])) > 0 else state0.sim["v"][:, 0]
    assert float(jnp.std(first)) > 0, name
