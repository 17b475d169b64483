"""Bad arguments of the run entry points (``integrate``, ``init_fn``, ``step_fn``) are refused
before tracing with a ValueError/TypeError naming the argument, the value and what is
expected (issue 13, §1 and §3). Each case ran (or crashed) silently before the checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import simulator as jx
from simulator import PhysicalRangeWarning, run_checks
from simulator.channels import HH

DT = 0.025


def recorded_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(HH())
    cell.branch(0).loc(0.0).record(verbose=False)
    return cell


# ================================================================== memory guard
def test_huge_t_max_is_refused_before_tracing():
    """t_max=1e9 asked XLA for 320 GB and aborted the process (SIGABRT)."""
    with pytest.raises(ValueError, match=r"t_max=1000000000.0, delta_t=0.025") as err:
        jx.integrate(recorded_cell(), t_max=1e9)
    message = str(err.value)
    assert "1 recordings × 40000000001 steps" in message
    assert "bytes" in message and "SIMULATOR_MAX_RUN_BYTES" in message


def test_memory_limit_counts_recordings_and_inputs(monkeypatch):
    """The guard is a byte count: with a limit of 1e5 bytes, 401 steps of 2 recordings
    (2 × 2 × 401 × 4 or 8 bytes ≤ 13 kB) fit, 10,000 steps (≥ 160 kB) do not."""
    cell = recorded_cell()
    cell.branch(1).loc(0.0).record(verbose=False)
    monkeypatch.setenv(run_checks.MEMORY_ENV, "1e5")
    jx.integrate(cell, t_max=10.0)  # 401 steps: ~13 kB
    with pytest.raises(ValueError, match=r"2 recordings × 10001 steps"):
        jx.integrate(cell, t_max=10_000 * DT)
    stimulus = cell.branch(0).loc(0.0).data_stimulate(jnp.zeros(20_000))
    with pytest.raises(ValueError, match=r"2 recordings × 20001 steps × \d bytes, 1 input rows"):
        jx.integrate(cell, data_stimuli=stimulus)  # the inputs' length sets the steps


def test_memory_limit_override_must_be_a_number(monkeypatch):
    monkeypatch.setenv(run_checks.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match=r"SIMULATOR_MAX_RUN_BYTES must be a number.*'lots'"):
        jx.integrate(recorded_cell(), t_max=1.0)


def test_memory_limit_default_is_a_fraction_of_physical_memory(monkeypatch):
    monkeypatch.delenv(run_checks.MEMORY_ENV, raising=False)
    limit = run_checks.memory_limit()
    assert 0 < limit <= run_checks.MEMORY_FRACTION * run_checks._physical_memory()


# ================================================================== times
@pytest.mark.parametrize("t_max", [True, False, "10", 1j, b"1"])
def test_t_max_of_wrong_type(t_max):
    with pytest.raises(TypeError, match=rf"t_max must be .*got {t_max!r}"):
        jx.integrate(recorded_cell(), t_max=t_max)


@pytest.mark.parametrize("t_max", [np.nan, np.inf, -np.inf, -1.0, -DT])
def test_t_max_of_wrong_value(t_max):
    with pytest.raises(ValueError, match=rf"t_max must be a non-negative time in ms, got {t_max}"):
        jx.integrate(recorded_cell(), t_max=t_max)


def test_t_max_array_is_refused():
    with pytest.raises(ValueError, match=r"t_max must be .*scalar.*shape \(2,\)"):
        jx.integrate(recorded_cell(), t_max=np.array([1.0, 2.0]))


@pytest.mark.parametrize("delta_t", [0, 0.0, -DT, np.nan, np.inf])
def test_delta_t_of_wrong_value(delta_t):
    with pytest.raises(ValueError, match=rf"delta_t must be a positive time step in ms, got"
                                         rf" {delta_t}"):
        jx.integrate(recorded_cell(), t_max=1.0, delta_t=delta_t)


@pytest.mark.parametrize("delta_t", [True, "0.025", 0.025j])
def test_delta_t_of_wrong_type(delta_t):
    with pytest.raises(TypeError, match=r"delta_t must be a positive time step"):
        jx.integrate(recorded_cell(), t_max=1.0, delta_t=delta_t)


# ================================================================== checkpoint_lengths
@pytest.mark.parametrize("lengths", [5, 5.0, "5", [2.0, 20], [True, 41], []])
def test_checkpoint_lengths_of_wrong_type(lengths):
    with pytest.raises(TypeError, match=r"checkpoint_lengths must be a list of positive ints"):
        jx.integrate(recorded_cell(), t_max=1.0, checkpoint_lengths=lengths)


@pytest.mark.parametrize("lengths", [[2, 3], [0, 100], [-1, -100], [39]])
def test_checkpoint_lengths_with_a_wrong_product(lengths):
    # t_max=1.0 gives int(1.0 // 0.025 + 1) = 40 steps: [39] is one short.
    with pytest.raises(ValueError, match=r"product of at least the number of steps \(40\)"):
        jx.integrate(recorded_cell(), t_max=1.0, checkpoint_lengths=lengths)


def test_checkpoint_lengths_that_fit_still_run():
    cell = recorded_cell()
    plain = jx.integrate(cell, t_max=1.0)
    nested = jx.integrate(cell, t_max=1.0, checkpoint_lengths=[7, 6])
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(nested))


# ================================================================== inputs
def test_data_stimulate_nan_is_refused():
    """data_stimulate(nan) gave a NaN trace silently (stimulate refused NaN)."""
    cell = recorded_cell()
    with pytest.raises(ValueError, match=r"stimulus data: i got non-finite values"):
        cell.branch(0).loc(0.0).data_stimulate(jnp.full(40, jnp.nan))


@pytest.mark.parametrize("method", ["stimulate", "data_stimulate"])
@pytest.mark.parametrize("current", [np.ones(10) * 1j, np.ones(10, dtype=bool)])
def test_complex_or_bool_current_is_refused(method, current):
    cell = recorded_cell()
    with pytest.raises(TypeError, match=r"stimulus.*must be real numbers"):
        getattr(cell.branch(0).loc(0.0), method)(current)


def test_hand_made_data_stimuli_are_checked():
    cell = recorded_cell()
    inds = np.array([0])
    with pytest.raises(ValueError, match=r"data_stimuli: i got non-finite values"):
        jx.integrate(cell, data_stimuli=(["i"], [jnp.full((1, 41), jnp.inf)], [inds]))
    with pytest.raises(TypeError, match=r"the input 'i' must be real numbers.*complex"):
        jx.integrate(cell, data_stimuli=(["i"], [jnp.ones((1, 41)) * 1j], [inds]))
    with pytest.raises(TypeError, match=r"data_stimuli / data_clamps must be the"):
        jx.integrate(cell, data_stimuli=jnp.ones((1, 41)), t_max=1.0)


def test_clamp_of_a_gate_outside_its_range_warns():
    cell = recorded_cell()
    with pytest.warns(PhysicalRangeWarning, match=r"clamp of 'HH_m': HH_m should be a finite gate"):
        cell.branch(0).clamp("HH_m", np.full(41, 5.0), verbose=False)


# ================================================================== params / param_state
def test_params_nan_is_refused():
    """integrate(params=[{'HH_gNa': nan}]) gave a NaN trace silently."""
    cell = recorded_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    with pytest.raises(ValueError, match=r"params\[0\]: HH_gNa got non-finite values"):
        jx.integrate(cell, params=[{"HH_gNa": jnp.array([jnp.nan])}], t_max=1.0)


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("HH_gNa", -0.1, r"HH_gNa should be a finite conductance ≥ 0"),
        ("capacitance", 1e-30, r"capacitance should be a finite membrane capacitance ≥ 0.001"),
        ("HH_m", 5.0, r"HH_m should be a finite gate \(open fraction\) in \[0, 1\]"),
    ],
)
def test_params_outside_their_range_warn(key, value, match):
    """Finite out-of-range params run (as in jaxley) with a PhysicalRangeWarning."""
    cell = recorded_cell()
    cell.make_trainable(key, verbose=False)
    with pytest.warns(PhysicalRangeWarning, match=rf"params\[0\]: {match}"):
        jx.integrate(cell, params=[{key: jnp.array([value])}], t_max=1.0)


def test_params_with_singular_geometry_are_refused():
    """radius -1 through params gave v = -3e20 mV; it makes the cable equations singular."""
    cell = recorded_cell()
    cell.make_trainable("radius", verbose=False)
    with pytest.raises(ValueError, match=r"params\[0\]: radius must be > 0 to simulate"):
        jx.integrate(cell, params=[{"radius": jnp.array([-1.0])}], t_max=1.0)


def test_params_key_must_match_the_trainable():
    """A params key other than its make_trainable key was applied to the wrong parameter."""
    cell = recorded_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    cell.make_trainable("HH_gK", verbose=False)
    good = cell.get_parameters()
    with pytest.raises(ValueError, match=r"params\[0\] sets 'HH_gK' but trainable parameter 0"
                                         r" is 'HH_gNa'"):
        jx.integrate(cell, params=[{"HH_gK": jnp.array([0.5])}, good[1]], t_max=1.0)
    with pytest.raises(ValueError, match=r"params has 1 entries .* 2 trainable"):
        jx.integrate(cell, params=good[:1], t_max=1.0)
    with pytest.raises(ValueError, match=r"params\[1\] must be a one-key dict like \{'HH_gK'"):
        jx.integrate(cell, params=[good[0], {**good[1], **good[0]}], t_max=1.0)


def test_param_state_index_out_of_range_is_refused():
    """Index 999 was dropped by JAX's scatter without a word."""
    entry = {"key": "HH_gNa", "val": jnp.array([0.5]), "indices": jnp.array([[999]])}
    with pytest.raises(ValueError, match=r"param_state indices of 'HH_gNa' must lie in \[0, 7\)"
                                         r".*\[999\]"):
        jx.integrate(recorded_cell(), param_state=[entry], t_max=1.0)
    entry["indices"] = jnp.array([[0.5]])
    with pytest.raises(TypeError, match=r"param_state indices of 'HH_gNa' must be integers"):
        jx.integrate(recorded_cell(), param_state=[entry], t_max=1.0)


def test_param_state_of_wrong_type():
    with pytest.raises(TypeError, match=r"param_state must be a list of data_set\(\) entries"):
        jx.integrate(recorded_cell(), param_state={"key": "radius"}, t_max=1.0)


# ================================================================== init_fn / step_fn
@pytest.fixture(scope="module")
def stepping():
    cell = recorded_cell()
    init_fn, step_fn = jx.build_init_and_step_fn(cell)
    states, params = init_fn([])
    return cell, init_fn, step_fn, states, params


@pytest.mark.parametrize("delta_t", [-1, 0.0, np.nan])
def test_init_fn_delta_t(stepping, delta_t):
    _, init_fn, *_ = stepping
    with pytest.raises(ValueError, match=rf"delta_t must be a positive time step in ms, got"
                                         rf" {delta_t}"):
        init_fn([], delta_t=delta_t)


@pytest.mark.parametrize("delta_t", [-0.025, 0, np.inf, np.float32(-0.025), jnp.array(-0.025)])
def test_step_fn_delta_t(stepping, delta_t):
    *_, step_fn, states, params = stepping
    with pytest.raises(ValueError, match=r"delta_t must be a positive time step in ms"):
        step_fn(states, params, {}, delta_t=delta_t)


def test_step_fn_delta_t_bool(stepping):
    *_, step_fn, states, params = stepping
    with pytest.raises(TypeError, match=r"delta_t must be a positive time step .*True"):
        step_fn(states, params, {}, delta_t=True)


def test_step_fn_external_index_out_of_range(stepping):
    """External index 999 was dropped by JAX's scatter without a word."""
    *_, step_fn, states, params = stepping
    with pytest.raises(ValueError, match=r"external_inds\['i'\] must lie in \[0, 7\).*\[999\]"):
        step_fn(states, params, {"i": jnp.ones(1)}, {"i": np.array([999])})
    with pytest.raises(ValueError, match=r"external_inds\['i'\] must lie .*\[-1\]"):
        step_fn(states, params, {"i": jnp.ones(1)}, {"i": np.array([-1])})


def test_step_fn_mismatched_externals(stepping):
    """A shape TypeError from inside the step before."""
    *_, step_fn, states, params = stepping
    with pytest.raises(ValueError, match=r"externals\['i'\] must have shape \(1,\).*got shape"
                                         r" \(3,\)"):
        step_fn(states, params, {"i": jnp.ones(3)}, {"i": np.array([0])})
    with pytest.raises(ValueError, match=r"externals\['i'\] has no external_inds\['i'\]"):
        step_fn(states, params, {"i": jnp.ones(1)}, {"v": np.array([0])})
    with pytest.raises(ValueError, match=r"externals\['x'\]: unknown input"):
        step_fn(states, params, {"x": jnp.ones(1)}, {"x": np.array([0])})
    with pytest.raises(TypeError, match=r"externals\['i'\] must be real numbers"):
        step_fn(states, params, {"i": jnp.ones(1) * 1j}, {"i": np.array([0])})
    with pytest.raises(ValueError, match=r"externals\['i'\]: i got non-finite values"):
        step_fn(states, params, {"i": np.array([np.nan])}, {"i": np.array([0])})


@pytest.mark.parametrize("bad", [{}, {"v": jnp.zeros(7)}])
def test_all_states_missing_keys(stepping, bad):
    """A KeyError 'v' from inside the step before."""
    _, init_fn, step_fn, _, params = stepping
    with pytest.raises(ValueError, match=r"all_states lacks the states \[.*'HH_m'"):
        step_fn(bad, params, {})
    with pytest.raises(ValueError, match=r"all_states lacks the states"):
        init_fn([], all_states=bad)


def test_all_states_of_wrong_type(stepping):
    *_, step_fn, _, params = stepping
    with pytest.raises(TypeError, match=r"all_states must be a dict"):
        step_fn([1.0], params, {})


def test_init_fn_params_are_checked():
    cell = recorded_cell()
    cell.make_trainable("HH_gNa", verbose=False)
    init_fn, _ = jx.build_init_and_step_fn(cell)
    with pytest.raises(ValueError, match=r"params\[0\]: HH_gNa got non-finite values"):
        init_fn([{"HH_gNa": jnp.array([jnp.nan])}])
    with pytest.raises(ValueError, match=r"params\[0\] sets 'HH_gK'"):
        init_fn([{"HH_gK": jnp.array([0.1])}])


def test_step_fn_still_runs_under_jit_and_vmap(stepping):
    """Checks read only static facts of traced values: jit and vmap keep working."""
    *_, step_fn, states, params = stepping
    currents = jnp.array([[0.0], [0.1]])

    def one(current):
        return step_fn(states, params, {"i": current}, {"i": np.array([1])})["v"]

    out = jax.jit(jax.vmap(one))(currents)
    assert out.shape == (2, 7) and bool(jnp.all(jnp.isfinite(out)))


# ================================================================== checked mode
def test_checked_mode_catches_traced_values():
    """Traced values cannot be checked before tracing: integrate(checks=True) checks them in
    the compiled program (checkify)."""
    cell = recorded_cell()
    cell.make_trainable("HH_gNa", verbose=False)

    def run(g):
        return jx.integrate(cell, params=[{"HH_gNa": g}], t_max=1.0, checks=True)

    checked = checkify.checkify(jax.jit(run))
    error, _ = checked(jnp.array([-0.1]))
    assert "params[0] ('HH_gNa') is outside its valid range" in error.get()
    error, out = checked(jnp.array([0.12]))
    assert error.get() is None and bool(jnp.all(jnp.isfinite(out)))

    def run_state(gk):
        return jx.integrate(cell, param_state=cell.data_set("HH_gK", gk, None), t_max=1.0,
                            checks=True)

    error, _ = checkify.checkify(jax.jit(jax.vmap(run_state)))(jnp.array([0.036, jnp.nan]))
    assert "param_state value of 'HH_gK'" in error.get()


def test_checked_mode_concrete_call_matches_unchecked():
    cell = recorded_cell()
    plain = jx.integrate(cell, t_max=1.0)
    checked = jx.integrate(cell, t_max=1.0, checks=True)
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(checked))


def test_checked_mode_reports_non_finite_recordings():
    """Values in range can still blow up (fwd_euler past its stability bound: capacitance
    1e-3 µF/cm² at dt 0.025 ms overflows to inf within 5 ms): checks=True reports it."""
    cell = recorded_cell()
    cell.set("capacitance", 1e-3)
    with pytest.warns(jx.NumericalStabilityWarning, match="past its stability bound"):
        v = jx.integrate(cell, t_max=5.0, solver="fwd_euler")
    assert not np.isfinite(np.asarray(v)).all()
    with (pytest.warns(jx.NumericalStabilityWarning),
          pytest.raises(checkify.JaxRuntimeError, match=r"recordings are not finite")):
        jx.integrate(cell, t_max=5.0, solver="fwd_euler", checks=True)
