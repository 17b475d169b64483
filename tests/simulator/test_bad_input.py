"""Bad input is refused early, with a ValueError (TypeError for a wrong type) whose message
names the offending value and what was expected."""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator import PhysicalRangeWarning
from simulator.channels import HH
from simulator.inputs import InputTruncatedWarning

DT = 0.025


def y_cell(ncomp=2):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp), [-1, 0, 0])
    cell.insert(HH())
    return cell


def recorded_cell():
    cell = y_cell()
    cell.branch(0).loc(0.0).record(verbose=False)
    return cell


# ================================================================== construction
@pytest.mark.parametrize("ncomp", [0, -1, -3, 2.0, 1.5, "2", True])
def test_bad_ncomp(ncomp):
    with pytest.raises(ValueError, match=re.escape(f"got {ncomp!r}")) as err:
        jx.Branch(jx.Compartment(), ncomp)
    assert "positive int" in str(err.value)


def test_ncomp_disagrees_with_list():
    with pytest.raises(ValueError, match="ncomp=3 but 2 compartments"):
        jx.Branch([jx.Compartment(), jx.Compartment()], ncomp=3)
    with pytest.raises(ValueError, match="empty list"):
        jx.Branch([])


@pytest.mark.parametrize(
    "parents, match",
    [
        ([0, 0, 0], r"parents\[0\] must be -1.*got 0"),
        ([1, -1], r"parents\[0\] must be -1.*got 1"),
        ([-1, 1], r"parents\[1\] = 1"),  # its own index
        ([-1, 0, 3], r"parents\[2\] = 3"),  # a later branch
        ([-1, 0, 2, 1], r"parents\[2\] = 2"),
        ([-1, -1], r"parents\[1\] = -1"),  # two roots
        ([-1, -2], r"parents\[1\] = -2"),
        ([-1, 0.0], r"\[-1, 0.0\]"),
        ([], r"\[\]"),
        ([[-1, 0]], r"\[\[-1, 0\]\]"),
        ("-1", "'-1'"),
    ],
)
def test_parents_not_a_tree(parents, match):
    with pytest.raises(ValueError, match=match) as err:
        jx.Cell(jx.Branch(), parents)
    assert "parent" in str(err.value)


def test_parents_length_differs_from_branch_list():
    branches = [jx.Branch(), jx.Branch(), jx.Branch()]
    with pytest.raises(ValueError, match="parents has 2 entries but 3 branches"):
        jx.Cell(branches, [-1, 0])
    with pytest.raises(ValueError, match="parents has 4 entries but 3 branches"):
        jx.Cell(branches, [-1, 0, 0, 1])
    with pytest.raises(ValueError, match="parents is required for a cell of 3 branches"):
        jx.Cell(branches)


def test_xyzr_length_differs_from_branches():
    with pytest.raises(ValueError, match=r"one array per branch \(2\), got 1"):
        jx.Cell(jx.Branch(), [-1, 0], xyzr=[np.zeros((2, 4))])


# ================================================================== set / data_set
def test_set_unknown_key():
    cell = y_cell()
    with pytest.raises(ValueError, match="unknown parameter or state 'HH_gna'"):
        cell.set("HH_gna", 0.1)
    with pytest.raises(ValueError, match="'HH'"):
        cell.set("HH", 1.0)  # the channel's bool column is not a parameter
    with pytest.raises(ValueError, match="'global_comp_index'"):
        cell.set("global_comp_index", 1)


def test_set_parameter_absent_from_selection():
    cell = jx.Cell(jx.Branch(), [-1, 0])
    cell.branch(1).insert(HH())
    with pytest.raises(ValueError, match="'HH_gNa' is not defined"):
        cell.branch(0).set("HH_gNa", 0.2)


@pytest.mark.parametrize("key", ["radius", "length", "axial_resistivity", "capacitance"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_set_non_positive_geometry(key, value):
    """jaxley accepts set('radius', 0) (a run then gives NaN): set warns, integrate refuses
    before tracing, naming the compartments (was: set raised, issue 17)."""
    cell = recorded_cell()
    with pytest.warns(PhysicalRangeWarning, match=rf"{key} should be a finite .*; got {value}"):
        cell.branch(1).comp(1).set(key, value)
    assert cell.nodes.loc[3, key] == value
    with pytest.raises(ValueError, match=rf"integrate: compartments \(global_comp_index\):"
                       rf" {key} must be > 0 to simulate .* 1 entries: 3 \({value:g}\)"):
        jx.integrate(cell, t_max=0.1)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_set_non_finite(value):
    cell = y_cell()
    with pytest.raises(ValueError, match=rf"non-finite values {value!r}"):
        cell.set("radius", value)
    with pytest.raises(ValueError, match="non-finite"):
        cell.branch(1).set("HH_gNa", np.array([0.1, value]))
    assert cell.nodes["radius"].tolist() == [1.0] * 6


def test_set_non_positive_radius_in_array():
    cell = y_cell()
    with pytest.warns(PhysicalRangeWarning, match=r"radius should be .*got array\(\[ 1., -2.\]\)"):
        cell.branch(1).set("radius", np.array([1.0, -2.0]))


@pytest.mark.parametrize("value", [np.ones(3), np.ones(7), np.ones((6, 1)), np.ones((2, 3))])
def test_set_wrong_shape(value):
    with pytest.raises(ValueError, match=re.escape(f"got shape {value.shape}")) as err:
        y_cell().set("radius", value)
    assert "6 values" in str(err.value)


def test_data_set_unknown_key():
    with pytest.raises(ValueError, match="unknown parameter or state 'HH_gna'"):
        y_cell().data_set("HH_gna", 0.1, None)
    with pytest.raises(ValueError, match="'x'"):
        y_cell().data_set("x", 0.1, None)  # plotting only, not a simulation parameter


@pytest.mark.parametrize("value", [jnp.ones(3), jnp.ones(7), jnp.ones((6, 1))])
def test_data_set_wrong_shape(value):
    with pytest.raises(ValueError, match=re.escape(f"got shape {value.shape}")) as err:
        y_cell().data_set("HH_gNa", value, None)
    assert "shape (6,)" in str(err.value)


def test_make_trainable_unknown_key():
    with pytest.raises(ValueError, match="'HH_gna'"):
        y_cell().make_trainable("HH_gna", verbose=False)


# ================================================================== views
@pytest.mark.parametrize("x", [1.5, -0.1, np.nan, [0.5, 2.0], np.inf])
def test_loc_out_of_range(x):
    with pytest.raises(ValueError, match=re.escape(f"got {x!r}")) as err:
        y_cell().branch(0).loc(x)
    assert "[0, 1]" in str(err.value)


def test_index_out_of_range_names_the_index():
    cell = y_cell()
    with pytest.raises(IndexError, match=r"branch index 5 out of range: expected -3 <= index < 3"):
        cell.branch(5)
    with pytest.raises(IndexError, match="compartment index 2"):
        cell.branch(0).comp(2)


# ================================================================== record / stimulate / clamp
def test_record_unknown_state():
    with pytest.raises(ValueError, match="cannot record 'w'") as err:
        y_cell().record("w", verbose=False)
    assert "'HH_m'" in str(err.value)  # lists the valid names


@pytest.mark.parametrize(
    "current, shape",
    [
        (np.ones((3, 10)), (3, 10)),
        (np.ones((1, 10)), (1, 10)),
        (np.ones((2, 2, 10)), (2, 2, 10)),
        (np.float64(1.0), ()),
    ],
)
def test_stimulate_wrong_shape(current, shape):
    cell = y_cell()
    with pytest.raises(ValueError, match=re.escape(f"got shape {shape}")) as err:
        cell.branch(1).stimulate(current, verbose=False)
    assert "(T,) or (2, T)" in str(err.value)
    assert "i" not in cell.externals


def test_stimulate_bad_values():
    cell = y_cell()
    with pytest.raises(ValueError, match="non-finite"):
        cell.stimulate(np.array([0.0, np.nan]), verbose=False)
    with pytest.raises(ValueError, match=r"no time samples \(shape \(6, 0\)\)"):
        cell.stimulate(np.zeros(0), verbose=False)


def test_stimuli_of_different_lengths():
    cell = y_cell()
    cell.branch(0).stimulate(np.zeros(10), verbose=False)
    with pytest.raises(ValueError, match="new 'i' input has 7 time samples.*have 10"):
        cell.branch(1).stimulate(np.zeros(7), verbose=False)
    assert cell.externals["i"].shape == (2, 10)


def test_data_stimulate_wrong_shape():
    with pytest.raises(ValueError, match=re.escape("got shape (3, 4)")):
        y_cell().branch(1).data_stimulate(jnp.ones((3, 4)))


def test_bad_clamps():
    cell = jx.Cell(jx.Branch(), [-1, 0])
    cell.branch(1).insert(HH())
    with pytest.raises(ValueError, match="'i' is reserved"):
        cell.clamp("i", np.zeros(3), verbose=False)
    with pytest.raises(ValueError, match="cannot clamp 'HH_q'"):
        cell.clamp("HH_q", np.zeros(3), verbose=False)
    with pytest.raises(ValueError, match="'HH_m' to clamp"):
        cell.branch(0).clamp("HH_m", np.zeros(3), verbose=False)
    with pytest.raises(ValueError, match="'HH_m' to clamp"):
        cell.branch(0).data_clamp("HH_m", jnp.zeros(3))
    with pytest.raises(ValueError, match=re.escape("got shape (2, 3)")):
        cell.branch(1).clamp("v", np.zeros((2, 3)), verbose=False)
    assert cell.externals == {}


# ================================================================== step_current
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(delta_t=-0.025), "delta_t must be a positive .*got -0.025"),
        (dict(delta_t=0.0), "delta_t must be a positive .*got 0.0"),
        (dict(delta_t=np.nan), "delta_t must be a positive .*got nan"),
        (dict(t_max=-5.0), "t_max must be a finite, non-negative .*got -5.0"),
        (dict(t_max=np.inf), "t_max must be a finite, non-negative .*got inf"),
        (dict(i_delay=-1.0), "i_delay must be a finite, non-negative .*got -1.0"),
        (dict(i_dur=-1.0), "i_dur must be a finite, non-negative .*got -1.0"),
        (dict(i_amp=jnp.ones(2)), r"i_amp must be a scalar.*\(2,\)"),
    ],
)
def test_step_current_bad_timing(kwargs, match):
    args = dict(i_delay=1.0, i_dur=1.0, i_amp=0.1, delta_t=DT, t_max=5.0) | kwargs
    with pytest.raises(ValueError, match=match):
        jx.step_current(**args)


def test_datapoint_to_step_currents_bad_input():
    with pytest.raises(ValueError, match="delta_t must be a positive .*got -0.1"):
        jx.datapoint_to_step_currents(1.0, 1.0, jnp.ones(3), -0.1, 5.0)
    with pytest.raises(ValueError, match=re.escape("got shape (2, 2)")):
        jx.datapoint_to_step_currents(1.0, 1.0, jnp.ones((2, 2)), DT, 5.0)


# ================================================================== integrate
@pytest.mark.parametrize("solver", ["rk4", "implicit", "bwd-euler"])
def test_integrate_unknown_solver(solver):
    with pytest.raises(ValueError, match=f"unknown solver '{solver}'") as err:
        jx.integrate(recorded_cell(), t_max=1.0, solver=solver)
    for valid in ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler"):
        assert valid in str(err.value)


@pytest.mark.parametrize("voltage_solver", ["jaxley.stones", "thomas", "jaxley.dhs.tpu"])
def test_integrate_unknown_voltage_solver(voltage_solver):
    with pytest.raises(ValueError, match=f"unknown voltage_solver '{voltage_solver}'") as err:
        jx.integrate(recorded_cell(), t_max=1.0, voltage_solver=voltage_solver)
    for valid in ("jaxley.dhs", "dhs", "dense"):
        assert f"'{valid}'" in str(err.value)


def test_build_init_and_step_fn_unknown_solvers():
    with pytest.raises(ValueError, match="unknown solver 'rk4'") as err:
        jx.build_init_and_step_fn(recorded_cell(), solver="rk4")
    assert "bwd_euler" in str(err.value)
    with pytest.raises(ValueError, match="unknown voltage_solver 'stone'") as err:
        jx.build_init_and_step_fn(recorded_cell(), voltage_solver="stone")
    assert "jaxley.dhs" in str(err.value)


def test_integrate_without_recordings():
    cell = y_cell()
    with pytest.raises(ValueError, match="no recordings"):
        jx.integrate(cell, t_max=1.0)
    cell.record(verbose=False)
    cell.delete_recordings()
    with pytest.raises(ValueError, match="no recordings"):
        jx.integrate(cell, t_max=1.0)


def test_integrate_without_duration():
    with pytest.raises(ValueError, match="give t_max"):
        jx.integrate(recorded_cell())


@pytest.mark.parametrize("delta_t", [-0.025, 0.0, np.nan])
def test_integrate_bad_delta_t(delta_t):
    with pytest.raises(ValueError, match=f"delta_t must be a positive .*got {delta_t}"):
        jx.integrate(recorded_cell(), t_max=1.0, delta_t=delta_t)


@pytest.mark.parametrize("t_max", [-1.0, -0.025, np.inf, np.nan])
def test_integrate_bad_t_max(t_max):
    with pytest.raises(ValueError, match=f"t_max must be a non-negative .*got {t_max}"):
        jx.integrate(recorded_cell(), t_max=t_max)


def test_integrate_stimulus_longer_than_simulation():
    # Cut to the simulation with a warning, as jaxley cuts it (it raised before).
    cell = recorded_cell()
    # 201 samples, non-zero on [2, 3) ms; the simulation stops after 1 ms (40 steps)
    cell.branch(1).loc(0.0).stimulate(jx.step_current(2.0, 1.0, 0.1, DT, 5.0), verbose=False)
    with pytest.warns(InputTruncatedWarning, match=r"non-zero current.*after the simulation's"
                      r" 40 steps") as record:
        v = jx.integrate(cell, t_max=1.0)
    assert record[0].filename == __file__  # attributed to the caller of integrate
    unstimulated = recorded_cell()
    np.testing.assert_array_equal(v, jx.integrate(unstimulated, t_max=1.0))


def test_integrate_traced_clamp_longer_than_simulation_is_cut():
    cell = recorded_cell()
    clamps = cell.branch(1).data_clamp("v", jnp.full(60, -60.0))
    with pytest.warns(InputTruncatedWarning, match="'v' has 19 samples after"):
        v = jx.integrate(cell, t_max=1.0, data_clamps=clamps)
    assert v.shape == (1, 41)


def test_integrate_clamp_shorter_than_simulation():
    cell = recorded_cell()
    cell.branch(1).clamp("v", np.full(10, -60.0), verbose=False)
    with pytest.raises(ValueError, match="clamp of 'v' has 10 samples.*runs 40 steps"):
        jx.integrate(cell, t_max=1.0)


def test_integrate_data_clamp_shorter_than_simulation():
    cell = recorded_cell()
    clamps = cell.branch(1).data_clamp("v", jnp.full(10, -60.0))
    with pytest.raises(ValueError, match="clamp of 'v' has 10 samples.*runs 40 steps"):
        jx.integrate(cell, t_max=1.0, data_clamps=clamps)


@pytest.mark.parametrize("lengths", [[2, 3], [5, 5, 1], [39]])
def test_integrate_checkpoint_lengths_too_small(lengths):
    with pytest.raises(ValueError, match=re.escape(f"checkpoint_lengths {tuple(lengths)}")) as err:
        jx.integrate(recorded_cell(), t_max=1.0, checkpoint_lengths=lengths)
    assert "(40)" in str(err.value)


def test_integrate_checkpoint_lengths_not_positive():
    with pytest.raises(ValueError, match=re.escape("checkpoint_lengths (0, 100)")):
        jx.integrate(recorded_cell(), t_max=1.0, checkpoint_lengths=[0, 100])


def test_integrate_params_of_wrong_length():
    cell = recorded_cell()
    with pytest.raises(ValueError, match="params has 1 entries but the module has 0"):
        jx.integrate(cell, params=[{"radius": jnp.ones(1)}], t_max=0.1)
    cell.make_trainable("radius", verbose=False)
    cell.make_trainable("length", verbose=False)
    with pytest.raises(ValueError, match="params has 1 entries but the module has 2"):
        jx.integrate(cell, params=cell.get_parameters()[:1], t_max=0.1)
    with pytest.raises(ValueError, match="params has 3 entries"):
        jx.integrate(cell, params=[*cell.get_parameters(), {"v": jnp.ones(1)}], t_max=0.1)


def test_integrate_params_of_wrong_shape():
    cell = recorded_cell()
    cell.branch("all").make_trainable("radius", verbose=False)
    with pytest.raises(ValueError, match=re.escape("'radius' must have shape (3,), got (2,)")):
        jx.integrate(cell, params=[{"radius": jnp.ones(2)}], t_max=0.1)
    with pytest.raises(ValueError, match="must be a list of dicts"):
        jx.integrate(cell, params={"radius": jnp.ones(3)}, t_max=0.1)


def test_integrate_param_state_unknown_key():
    entry = {"key": "HH_gna", "val": jnp.ones(1), "indices": np.zeros((1, 1), dtype=np.int32)}
    with pytest.raises(ValueError, match="unknown key 'HH_gna'"):
        jx.integrate(recorded_cell(), param_state=[entry], t_max=0.1)


def test_integrate_accepts_zero_tail_of_long_stimulus(x64):
    # The counterpart of the refusal above: samples after t_max that are all zero are fine.
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(0.0, 0.05, 0.1, DT, 1.0), verbose=False)  # 42 samples
    assert jx.integrate(comp, t_max=0.1).shape == (1, 6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(t_max=np.float32(0.1)),
        dict(t_max=0.1, delta_t=np.float32(DT)),
        dict(t_max=jnp.asarray(0.1), delta_t=jnp.asarray(DT)),
    ],
)
def test_integrate_accepts_numpy_and_jax_scalars(kwargs, x64):
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    assert jx.integrate(comp, **kwargs).shape == (1, 6)  # reference: (1, 6)
