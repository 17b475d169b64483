"""Physically out-of-range values (issue 17): ``set`` accepts finite values outside a
parameter's range with a :class:`PhysicalRangeWarning` (jaxley accepts them: its graph
tutorial sets negative ``HH_gNa``, its test_groups a zero radius); values that make the
cable equations singular are refused where a run starts (``integrate``, env construction),
before tracing, naming the compartments."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from neuroenv import NeuronEnv
from neuroenv.tasks.voltage_target import VoltageTarget
from simulator.physical_range import check_nonsingular_values


def hh_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    cell.insert(jx.channels.HH())
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def test_exported():
    assert "PhysicalRangeWarning" in jx.__all__
    assert issubclass(jx.PhysicalRangeWarning, UserWarning)


def test_negative_conductance_warns_names_parameter_value_and_range_and_runs():
    """jaxley 0.14's 13_graph_backend tutorial: branch.set("HH_gNa", 0.5 + 0.5 * y) < 0."""
    cell = hh_cell()
    with pytest.warns(jx.PhysicalRangeWarning,
                      match=r"set\('HH_gNa'\): HH_gNa should be a finite conductance ≥ 0"
                            r" \(S/cm²\); got -5.2"):
        cell.branch(1).set("HH_gNa", -5.225)
    assert (cell.branch(1).nodes["HH_gNa"] == -5.225).all()
    v = jx.integrate(cell, t_max=1.0)
    assert v.shape == (1, 41)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_still_raises(value):
    with pytest.raises(ValueError, match="HH_gNa got non-finite values"):
        hh_cell().set("HH_gNa", value)


def test_wrong_type_still_raises():
    with pytest.raises(TypeError, match="HH_gNa must be a real number"):
        hh_cell().set("HH_gNa", "0.1")


def test_radius_zero_as_jaxley_test_groups_then_network():
    """jaxley's test_groups_are_carried_over_from_constituents: set radius arange(6), then
    build a Network from the cell; jaxley accepts both (a run would give NaN)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 3), parents=[-1, 0])
    with pytest.warns(jx.PhysicalRangeWarning, match="radius should be"):
        cell.set("radius", np.arange(6))
    net = jx.Network([cell, cell])
    np.testing.assert_array_equal(net.nodes["radius"], np.tile(np.arange(6), 2))
    net.cell(1).branch(0).comp(1).record(verbose=False)
    with pytest.raises(ValueError, match=r"integrate: compartments \(global_comp_index\):"
                       r" radius must be > 0 to simulate .* 2 entries: 0 \(0\), 6 \(0\)"):
        jx.integrate(net, t_max=0.1)


def test_param_state_zero_capacitance_refused(precision):
    cell = hh_cell()
    with pytest.warns(jx.PhysicalRangeWarning):
        ps = cell.branch(2).data_set("capacitance", jnp.asarray(0.0, precision), None)
    # refused before the range check could call the value "accepted" (no second warning)
    with pytest.raises(ValueError, match=r"param_state: capacitance must be > 0 to simulate"):
        jx.integrate(cell, param_state=ps, t_max=0.1)


def test_env_construction_refuses_singular_geometry():
    cell = hh_cell()
    with pytest.warns(jx.PhysicalRangeWarning):
        cell.branch(2).comp(1).set("length", 0.0)
    with pytest.raises(ValueError, match=r"NeuronEnv: compartments \(global_comp_index\): length"
                                         r" must be > 0 .* 5 \(0\)"):
        NeuronEnv(cell, [cell.branch(0).comp(0)], VoltageTarget())


def test_check_nonsingular_values_lists_at_most_ten():
    with pytest.raises(ValueError, match=r"got it at 12 entries: 0 \(0\), .*9 \(0\) and 2 more"):
        check_nonsingular_values("radius", np.zeros(12), "x")
    check_nonsingular_values("HH_gNa", -np.ones(3), "x")  # not a geometry parameter
