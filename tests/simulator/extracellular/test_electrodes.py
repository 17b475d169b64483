"""Electrode geometry and input checks (issue 15)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from simulator.extracellular import (
    DBS_3389,
    Electrode,
    Medium,
    combine,
    dbs_lead,
    disk_contact,
    grid_array,
    point_contacts,
    ring_contact,
)


def test_dbs_lead_3389_geometry(x64):
    lead = dbs_lead([0.0, 0.0, 0.0], [0.0, 0.0, 2.0], n_around=8, n_along=3)
    assert lead.names == ("c0", "c1", "c2", "c3")
    assert lead.positions.shape == (4, 24, 3)
    pos = np.asarray(lead.positions)
    radial = np.linalg.norm(pos[..., :2], axis=-1)
    np.testing.assert_allclose(radial, 635.0, rtol=1e-14)  # diameter 1.27 mm
    centres = pos[..., 2].mean(axis=1)
    np.testing.assert_allclose(centres, [750.0, 2750.0, 4750.0, 6750.0], rtol=1e-14)
    extent = pos[..., 2].max(axis=1) - pos[..., 2].min(axis=1)
    np.testing.assert_allclose(extent, 1500.0 * 2 / 3, rtol=1e-14)  # 3 slice midpoints
    assert DBS_3389 == {"diameter": 1270.0, "height": 1500.0, "spacing": 500.0, "n_contacts": 4}
    np.testing.assert_allclose(np.asarray(lead.weights).sum(axis=1), 1.0, rtol=1e-15)


def test_disk_ring_and_grid_shapes(x64):
    disk = disk_contact([1.0, 2.0, 3.0], [0.0, 1.0, 0.0], 10.0, n_points=25, name="pad")
    pos = np.asarray(disk.positions[0])
    np.testing.assert_allclose(pos[:, 1], 2.0, atol=1e-12)  # in the plane normal to y
    assert np.all(np.linalg.norm(pos - [1.0, 2.0, 3.0], axis=1) <= 10.0)
    # Equal-area points: the centroid is close to the centre (measured 0.23 µm of 10 µm).
    assert np.linalg.norm(pos.mean(axis=0) - [1.0, 2.0, 3.0]) < 1.0
    ring = ring_contact([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], 50.0, 20.0, 6, 2)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(ring.positions[0])[:, 1:], axis=1),
                               50.0, rtol=1e-14)
    grid = grid_array(2, 3, 100.0, origin=(0.0, 0.0, -50.0))
    assert grid.names == ("r0c0", "r0c1", "r0c2", "r1c0", "r1c1", "r1c2")
    np.testing.assert_allclose(grid.positions[grid.index("r1c2"), 0], [100.0, 200.0, -50.0])
    disks = grid_array(1, 2, 30.0, contact_radius=5.0, n_points=7)
    assert disks.positions.shape == (2, 7, 3)


def test_combine_pads_with_zero_weights(x64):
    both = combine(point_contacts([[0.0, 0.0, 0.0]], ["tip"]),
                   disk_contact([0.0, 0.0, 100.0], [0, 0, 1], 5.0, 4, "pad"))
    assert both.positions.shape == (2, 4, 3) and both.names == ("tip", "pad")
    np.testing.assert_array_equal(both.weights[0], [1.0, 0.0, 0.0, 0.0])
    assert both.select("pad").names == ("pad",)
    assert both.select(["pad", "tip"]).positions.shape == (2, 4, 3)


def test_electrode_is_a_pytree_with_traced_positions(x64):
    lead = dbs_lead([0.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    leaves, treedef = jax.tree_util.tree_flatten(lead)
    assert len(leaves) == 2
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt.names == lead.names
    moved = jax.jit(lambda e, s: e.moved(s))(lead, jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(moved.positions - lead.positions,
                               np.broadcast_to([1.0, 2.0, 3.0], lead.positions.shape))
    built = jax.jit(lambda tip: dbs_lead(tip, [0.0, 0.0, 1.0]).positions)(jnp.zeros(3))
    np.testing.assert_allclose(built, lead.positions)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: point_contacts([[0.0, np.nan, 0.0]]), r"finite .*nan"),
        (lambda: point_contacts([[0.0, np.inf, 0.0]]), r"finite .*inf"),
        (lambda: point_contacts([[0.0, 1.0]]), r"shape \(\.\.\., 3\).*\(1, 2\)"),
        (lambda: Electrode(np.zeros((2, 3))), r"\(n_contacts, n_points, 3\).*\(2, 3\)"),
        (lambda: Electrode(np.zeros((1, 2, 3)), np.array([[0.5, 0.6]])), r"sum to 1.*1\.1"),
        (lambda: Electrode(np.zeros((1, 2, 3)), np.ones((1, 3)) / 3), r"shape \(1, 2\)"),
        (lambda: point_contacts(np.zeros((2, 3)), ["a", "a"]), r"unique.*'a', 'a'"),
        (lambda: point_contacts(np.zeros((2, 3)), ["a"]), r"2 strings.*\['a'\]"),
        (lambda: disk_contact([0, 0, 0], [0, 0, 0], 1.0), r"normal .*non-zero.*0\.0"),
        (lambda: disk_contact([0, 0, 0], [0, 0, 1], -1.0), r"radius must be > 0.*-1\.0"),
        (lambda: ring_contact([0, 0, np.nan], [0, 0, 1], 1.0, 1.0), r"centre .*finite.*nan"),
        (lambda: grid_array(0, 2, 10.0), r"rows must be a positive integer; got 0"),
        (lambda: Medium(0.0), r"sigma must be > 0.*0\.0"),
        (lambda: Medium(-0.3), r"sigma must be > 0.*-0\.3"),
        (lambda: Medium(np.nan), r"sigma must be finite.*nan"),
        (lambda: Medium((0.3, 0.3)), r"sigma must be a number .* shape \(2,\)"),
    ],
)
def test_bad_input_names_the_value(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_unknown_contact_name():
    lead = dbs_lead([0.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"unknown contact 'c7'.*\['c0', 'c1', 'c2', 'c3'\]"):
        lead.index("c7")
    with pytest.raises(ValueError, match="unknown contact 'x'"):
        lead.select(["c0", "x"])
