"""``python -m neuroenv.demo`` (the README's main command), on a tiny budget."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rejax")


def test_demo_runs_and_saves_plot(tmp_path, capsys):
    from neuroenv import demo

    out = tmp_path / "demo.png"
    demo.main(["--timesteps", "4096", "--episodes", "4", "--out", str(out)])
    text = capsys.readouterr().out
    for line in ("zero current", "agent before training", "PPO (4k steps)", "saved"):
        assert line in text
    assert out.stat().st_size > 10_000


def test_mean_abs_error_matches_traces():
    import jax

    import neuroenv
    from neuroenv.demo import mean_abs_error
    from neuroenv.evaluation import constant, evaluate

    env, params = neuroenv.make("VoltageTarget-v0", max_steps_in_episode=5)
    result = evaluate(env, params, constant(np.zeros(1)), jax.random.key(0), 3,
                      keep_traces=True)
    v = np.asarray(result.traces)[..., 0]
    target = np.asarray(result.task_states["target"])[:, :1, None]
    assert mean_abs_error(result) == pytest.approx(float(np.abs(v - target).mean()), rel=1e-6)
    # zero current from rest: the error is the target's distance from rest, about
    assert 0.5 < mean_abs_error(result) < 12.0
    assert np.asarray(result.returns).shape == (3,)
    np.testing.assert_allclose(np.asarray(result.returns),
                               np.asarray(result.rewards).sum(axis=1), rtol=1e-6)
