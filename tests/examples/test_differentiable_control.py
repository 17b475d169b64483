"""Runs ``examples/differentiable_control.py`` with tiny settings and checks its gradient.

One float64 problem (12 control periods, batches of 2 episodes) serves every test, so the
return and its gradient compile once: a tiny run of the example (open-loop stimulus and
feedback policy, no PPO), the gradient against central finite differences, and the
subgradient that JAX takes of the charge term |I| at zero current.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import runpy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "differentiable_control.py"
N_PERIODS, BATCH = 12, 2


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(EXAMPLE), run_name="differentiable_control_example")


@pytest.fixture(scope="module")
def problem(example):
    """The compiled float64 problem (the simulator in float64; the env's observations and
    rewards stay float32)."""
    with jax.enable_x64(True):
        return example["Problem"](N_PERIODS, BATCH)


@pytest.fixture(scope="module")
def tiny_run(example, problem, tmp_path_factory):
    figure = tmp_path_factory.mktemp("differentiable_control") / "dc.png"
    buf = io.StringIO()
    with jax.enable_x64(True), contextlib.redirect_stdout(buf):
        results = example["run"](open_loop_iters=10, policy_iters=3, n_eval=2, ppo_steps=0,
                                 out=str(figure), problem=problem)
    return results, buf.getvalue(), figure


def smooth_controller():
    """A gentle controller (0.03 to 0.06 nA) at which the return is smooth: the current is
    nonzero in every period (|I| has no kink), the soma stays below −62 mV (no spike, and
    |v − target| has no kink for a −60 mV target)."""
    return {"u": jnp.linspace(0.02, 0.08, N_PERIODS, dtype=jnp.float32),
            "theta": jnp.asarray([0.05, 0.05, 0.02], jnp.float32)}


def loss_at(problem, ctrl, part, index, delta, keys, targets):
    """Loss (−mean return) with ``ctrl[part][index]`` moved by ``delta``, and the move made
    (the parameters are float32)."""
    moved = dict(ctrl)
    moved[part] = ctrl[part].at[index].add(delta)
    step = float(moved[part][index]) - float(ctrl[part][index])
    return float(problem.value_and_grad(moved, keys, targets)[0][0]), step


def central_difference(problem, ctrl, part, index, h, keys, targets):
    up, step_up = loss_at(problem, ctrl, part, index, h, keys, targets)
    down, step_down = loss_at(problem, ctrl, part, index, -h, keys, targets)
    return (up - down) / (step_up - step_down)


def test_main_guard_present():
    assert 'if __name__ == "__main__":\n    main()' in EXAMPLE.read_text()


def test_gradient_is_finite_and_nonzero(example, problem):
    keys, targets = problem.fixed_batch(jax.random.key(5), -60.0)
    grads = {}
    with jax.enable_x64(True):
        for name, ctrl in (("zero", example["zero_controller"](N_PERIODS)),
                           ("smooth", smooth_controller())):
            (loss, (returns, errors, v, current)), grads[name] = problem.value_and_grad(
                ctrl, keys, targets)
            assert np.isfinite(float(loss)) and np.all(np.isfinite(np.asarray(v)))
            for part in ("u", "theta"):
                g = np.asarray(grads[name][part])
                assert g.shape == ctrl[part].shape and np.all(np.isfinite(g)), part
                # theta[1] multiplies (target + 60 mV) / 10 mV, which is 0 here.
                assert np.count_nonzero(g) >= g.size - (part == "theta"), part
    # From zero current, more current in any period moves the soma from rest (−65 mV)
    # towards the target (−60 mV): the loss falls.
    assert np.all(np.asarray(grads["zero"]["u"]) < 0)


def test_gradient_matches_central_difference(problem):
    keys, targets = problem.fixed_batch(jax.random.key(3), -60.0)
    ctrl = smooth_controller()
    with jax.enable_x64(True):
        (_, (_, _, v, current)), grads = problem.value_and_grad(ctrl, keys, targets)
        assert np.max(np.asarray(v)) < -61.0 and np.min(np.asarray(current)) > 0.0
        for part, index in (("u", 3), ("u", 9), ("theta", 0), ("theta", 2)):
            fd = central_difference(problem, ctrl, part, index, 1e-3, keys, targets)
            # Measured relative differences 2e-6 to 1.7e-4 at h = 1e-3 (up to 1e-3 at
            # h = 1e-2, the O(h²) error; the simulator is float64, the rewards float32).
            np.testing.assert_allclose(float(grads[part][index]), fd, rtol=2e-3,
                                       err_msg=f"{part}[{index}]")


def test_charge_subgradient_at_zero_current(example, problem):
    # At I = 0 the charge term |I| has a kink: JAX differentiates |x| at 0 as +1 (a
    # subgradient), a central difference sees the symmetric 0. The two differ by exactly
    # the charge weight × action scale × period for one period's drive u_t.
    keys, targets = problem.fixed_batch(jax.random.key(3), -60.0)
    ctrl = example["zero_controller"](N_PERIODS)
    params = problem.params
    weight = (float(params.task["charge_penalty"]) * float(params.action_scale)
              * problem.env.period_ms)
    with jax.enable_x64(True):
        _, grads = problem.value_and_grad(ctrl, keys, targets)
        fd = central_difference(problem, ctrl, "u", 3, 1e-2, keys, targets)
    # Measured: 0.0051 for weight 0.005.
    assert float(grads["u"][3]) - fd == pytest.approx(weight, abs=1e-3)


def test_open_loop_optimisation_beats_zero_current(tiny_run):
    results, _, _ = tiny_run
    zero = results["fixed"]["zero current"]
    open_loop = results["fixed"]["open-loop stimulus (grad)"]
    assert np.all(np.isfinite(open_loop["returns"]))
    # Zero current leaves the soma ~5 mV below the target; ten Adam steps close much of it.
    assert open_loop["returns"].mean() > zero["returns"].mean() + 0.2 * abs(
        zero["returns"].mean())
    assert open_loop["errors"].mean() < 0.8 * zero["errors"].mean()
    history = results["history_open_loop"]
    assert history.shape == (10, 2) and history[-1, 0] > history[0, 0]
    # Currents stay within the action bound (0.5 nA) and the stimulus is positive.
    current = open_loop["current"]
    assert np.all(np.abs(current) <= 0.5) and current.mean() > 0


def test_table_and_figure(tiny_run):
    results, stdout, figure = tiny_run
    methods = {(row[0], row[1]) for row in results["rows"]}
    assert ("target -60 mV", "open-loop stimulus (grad)") in methods
    assert ("random targets", "feedback policy (grad)") in methods
    for row in results["rows"]:
        assert np.isfinite(row[4]) and np.isfinite(row[6]) and row[6] >= 0
    assert "PPO skipped" in stdout and "open-loop stimulus (grad)" in stdout
    if results["figure"] is not None:  # matplotlib installed
        assert figure.exists() and figure.stat().st_size > 10_000


@pytest.mark.slow
def test_float32_run_with_ppo(example):
    # The example's default precision, and the PPO path (rejax) with a smoke budget.
    pytest.importorskip("rejax")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        results = example["run"](n_periods=12, batch=2, open_loop_iters=10, policy_iters=2,
                                 n_eval=2, ppo_steps=4096, out=None)
    problem = results["problem"]
    keys, targets = problem.fixed_batch(jax.random.key(5), -60.0)
    _, grads = problem.value_and_grad(example["zero_controller"](12), keys, targets)
    assert np.all(np.isfinite(np.asarray(grads["u"]))) and np.all(np.asarray(grads["u"]) < 0)
    fixed = results["fixed"]
    assert (fixed["open-loop stimulus (grad)"]["returns"].mean()
            > fixed["zero current"]["returns"].mean())
    for res in (fixed["PPO (rejax)"], results["random"]["PPO (rejax)"]):
        assert np.all(np.isfinite(res["returns"])) and res["returns"].shape == (2,)
    assert any(row[1] == "PPO (rejax)" and row[2] >= 4096 for row in results["rows"])
