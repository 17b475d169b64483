"""Recording/stimulation matrices of modules and electrodes (issue 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from geometry_cases import CA1, ball_and_stick

import simulator as jx
from simulator.extracellular import (
    disk_contact,
    electrode_matrix,
    module_segments,
    point_contacts,
    segments_from_arrays,
    stimulation_matrix,
)


def _hand_built_cell():
    branch = jx.Branch(jx.Compartment(), ncomp=4)
    return jx.Cell([branch, branch, branch], [-1, 0, 0])


def test_point_stimulation_is_1000_over_4pi_sigma_r(x64):
    segs = segments_from_arrays(*ball_and_stick())
    contact = np.array([200.0, 150.0, 30.0])
    s = np.asarray(stimulation_matrix(segs, point_contacts(contact), 0.3))
    r = np.linalg.norm(np.asarray(segs.centres) - contact, axis=1)
    assert s.shape == (11, 1)
    # 1 µA = 1000 nA; measured 0 relative.
    np.testing.assert_allclose(s[:, 0], 1000.0 / (4 * np.pi * 0.3 * r), rtol=1e-14)


def test_disk_current_is_split_over_its_points(x64):
    segs = segments_from_arrays(*ball_and_stick())
    disk = disk_contact([100.0, 60.0, 0.0], [0.0, 1.0, 0.0], 20.0, n_points=9)
    s = np.asarray(stimulation_matrix(segs, disk, 0.3))
    points = np.asarray(disk.positions[0])
    each = np.asarray(stimulation_matrix(segs, point_contacts(points), 0.3))
    # Measured 3.3e-16 relative.
    np.testing.assert_allclose(s[:, 0], each.mean(axis=1), rtol=1e-14)
    m = np.asarray(electrode_matrix(segs, disk, 0.3))
    m_each = np.asarray(electrode_matrix(segs, point_contacts(points), 0.3))
    np.testing.assert_allclose(m[0], m_each.mean(axis=0), rtol=1e-14)


def test_line_stimulation_is_the_segment_average_of_the_point_potential(x64):
    starts, ends, diameters = ball_and_stick()
    segs = segments_from_arrays(starts, ends, diameters)
    contact = np.array([150.0, 40.0, -25.0])
    line = np.asarray(stimulation_matrix(segs, point_contacts(contact), 0.3, "line"))[:, 0]
    t = (np.arange(20000) + 0.5) / 20000  # midpoint rule along each segment
    along = starts[:, None, :] + t[None, :, None] * (ends - starts)[:, None, :]
    r = np.linalg.norm(along - contact, axis=-1)
    average = (1000.0 / (4 * np.pi * 0.3 * r)).mean(axis=1)
    # Midpoint-rule error (n = 20000) measured 6.9e-11 relative.
    np.testing.assert_allclose(line, average, rtol=1e-8)
    recording = np.asarray(electrode_matrix(segs, point_contacts(contact), 0.3, "line"))
    np.testing.assert_allclose(line, 1000.0 * recording[0], rtol=1e-15)


def test_ca1_segments_follow_the_traced_paths(x64):
    cell = jx.read_swc(CA1, ncomp=4, backend="neuron")
    segs = module_segments(cell)
    nodes = cell.nodes.sort_values("global_comp_index")
    n = len(nodes)
    assert segs.starts.shape == segs.ends.shape == (n, 3) and segs.diameters.shape == (n,)
    np.testing.assert_array_equal(segs.diameters, 2.0 * nodes["radius"].to_numpy())
    np.testing.assert_array_equal(segs.centres, nodes[["x", "y", "z"]].to_numpy())
    branch = nodes["global_branch_index"].to_numpy()
    same = branch[1:] == branch[:-1]
    # Within a branch each compartment starts where the previous one ends.
    np.testing.assert_array_equal(np.asarray(segs.ends)[:-1][same],
                                  np.asarray(segs.starts)[1:][same])
    for b in (0, 7, 42):
        path = np.asarray(cell.xyzr[b])[:, :3]
        rows = np.flatnonzero(branch == b)
        np.testing.assert_allclose(segs.starts[rows[0]], path[0], atol=1e-12)
        np.testing.assert_allclose(segs.ends[rows[-1]], path[-1], atol=1e-12)
    chords = np.linalg.norm(np.asarray(segs.ends - segs.starts), axis=1)
    # A chord is never longer than its stretch of path (the compartment length).
    assert np.all(chords <= nodes["length"].to_numpy() * (1 + 1e-9))


def test_straight_layout_midpoints_are_the_centres(x64):
    cell = _hand_built_cell()
    cell.compute_xyz()
    segs = module_segments(cell)
    # Straight branches: the chord midpoint is the compartment centre (measured 0 µm).
    np.testing.assert_allclose(segs.midpoints, segs.centres, atol=1e-10)
    m_module = electrode_matrix(cell, point_contacts([[10.0, 50.0, 20.0]]), 0.3, "line")
    m_segs = electrode_matrix(segs, point_contacts([[10.0, 50.0, 20.0]]), 0.3, "line")
    np.testing.assert_array_equal(m_module, m_segs)


def test_cell_without_coordinates_is_refused():
    cell = _hand_built_cell()  # laid out at construction (as jaxley): coordinates removed
    cell.xyzr[0][:, :3] = np.nan
    with pytest.raises(ValueError, match=r"branch 0 has no traced coordinates.*compute_xyz"):
        module_segments(cell)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda s: electrode_matrix(s, point_contacts([0.0, 50.0, 0]), 0.3, "dipole"),
         r"model must be one of \('point', 'line'\); got 'dipole'"),
        (lambda s: electrode_matrix(s, point_contacts([0.0, 50.0, 0]), 0.0),
         r"sigma must be > 0.*0\.0"),
        (lambda s: stimulation_matrix(s, point_contacts([0.0, 50.0, 0]), (0.3, -0.3, 0.3)),
         r"sigma must be > 0.*-0\.3"),
        (lambda s: segments_from_arrays([[0.0, 0, 0]], [[1.0, 0, 0]], [0.0]),
         r"diameters must be > 0.*0\.0"),
        (lambda s: segments_from_arrays([[0.0, 0, 0]], [[1.0, 0, 0], [2, 0, 0]], [1.0]),
         r"shape \(n, 3\).*\(1, 3\), \(2, 3\), \(1,\)"),
        (lambda s: segments_from_arrays([[0.0, np.inf, 0]], [[1.0, 0, 0]], [1.0]),
         r"starts must be finite.*inf"),
    ],
)
def test_bad_mapping_input(build, match):
    segs = segments_from_arrays(*ball_and_stick())
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match):
        warnings.simplefilter("ignore", UserWarning)
        build(segs)


def test_network_and_view_segments(x64):
    cell = jx.read_swc(CA1, ncomp=2, backend="neuron")
    net = jx.Network([cell, cell])
    net.cell(1).move(500.0, 0.0, 0.0)
    segs = module_segments(net)
    n = len(cell.nodes)
    assert segs.starts.shape == (2 * n, 3)
    # The moved copy's segments are the first cell's shifted by 500 µm in x (measured 1.1e-13).
    np.testing.assert_allclose(np.asarray(segs.starts[n:]) - np.asarray(segs.starts[:n]),
                               np.broadcast_to([500.0, 0.0, 0.0], (n, 3)), atol=1e-9)
    view = net.cell(1).branch(3)
    rows = view.nodes.sort_values("global_comp_index")["global_comp_index"].to_numpy()
    np.testing.assert_array_equal(module_segments(view).ends, np.asarray(segs.ends)[rows])
    contacts = point_contacts([[600.0, 100.0, 0.0]])
    np.testing.assert_allclose(electrode_matrix(view, contacts),
                               np.asarray(electrode_matrix(segs, contacts))[:, rows],
                               rtol=1e-15)
