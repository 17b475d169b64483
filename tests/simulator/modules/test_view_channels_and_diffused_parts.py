"""A view's ``channels`` lists only the channels inserted in it (as jaxley's ``View``);
modules are combined only from parts that diffuse the same states (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, K, Leak
from simulator.pumps import CaPump


def _branch() -> jx.Branch:
    branch = jx.Branch(jx.Compartment(), ncomp=3)
    branch.insert(HH())
    branch.comp(0).insert(K())
    branch.comp([1, 2]).insert(Leak())
    return branch


def test_view_channels_are_those_inserted_in_the_view():
    branch = _branch()
    assert [c.name for c in branch.channels] == ["HH", "K", "Leak"]
    assert [c.name for c in branch.comp(0).channels] == ["HH", "K"]
    assert [c.name for c in branch.comp([1, 2]).channels] == ["HH", "Leak"]


def test_partial_delete_removes_the_channel_from_that_view_only():
    branch = _branch()
    branch.comp(1).delete(Leak())
    assert [c.name for c in branch.comp(1).channels] == ["HH"]
    assert "i_Leak" not in branch.comp(1).membrane_current_names
    assert [c.name for c in branch.comp(2).channels] == ["HH", "Leak"]
    assert [c.name for c in branch.channels] == ["HH", "K", "Leak"]


def _pumped_cell(diffused: bool) -> jx.Cell:
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1, 0])
    cell.branch(1).insert(CaPump())
    if diffused:
        cell.diffuse("CaCon_i")
    return cell


@pytest.mark.parametrize("order", [(True, False), (False, True)])
def test_parts_that_diffuse_different_states_are_refused(order):
    parts = [_pumped_cell(diffused) for diffused in order]
    with pytest.raises(ValueError, match="parts diffuse different states"):
        jx.Network(parts)


def test_parts_that_diffuse_the_same_states_combine_with_defined_constants():
    net = jx.Network([_pumped_cell(True), _pumped_cell(True)])
    assert net.diffusion_states == ["CaCon_i"]
    np.testing.assert_array_equal(net.nodes["axial_diffusion_CaCon_i"].to_numpy(), 1.0)
    assert np.all(np.isfinite(net.nodes["CaCon_i"].to_numpy()))
