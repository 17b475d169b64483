"""Plotting and coordinates: vis (line, scatter, comp, morph; 2-D and 3-D; views),
compute_xyz, move, move_to, rotate."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import simulator as jx  # noqa: E402

DATA = Path(__file__).parents[1] / "data" / "swc"
CA1 = DATA / "morph_ca1_n120.swc"
TYPES = ("line", "scatter", "comp", "morph")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def swc_cell(ncomp=1):
    return jx.read_swc(CA1, ncomp=ncomp, backend="neuron")


def hand_cell():
    return jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0, 1, 1])


def traced_extent(cell, dims=(0, 1)):
    points = np.concatenate([np.asarray(x)[:, list(dims)] for x in cell.xyzr])
    return points.min(axis=0), points.max(axis=0)


def max_radius(cell):
    """The largest traced radius (µm), NaN when no point has one (a hand-built cell)."""
    radii = np.concatenate([np.asarray(x)[:, 3] for x in cell.xyzr])
    return float(np.nanmax(radii)) if not np.isnan(radii).all() else float("nan")


def artists(ax):
    return list(ax.lines) + list(ax.collections) + list(ax.patches)


def assert_extent(ax, cell, kind, dims=(0, 1)):
    lo, hi = traced_extent(cell, dims)
    lim = ax.dataLim
    got_lo, got_hi = np.array([lim.x0, lim.y0]), np.array([lim.x1, lim.y1])
    if kind == "line":
        np.testing.assert_allclose(got_lo, lo, atol=1e-6)
        np.testing.assert_allclose(got_hi, hi, atol=1e-6)
    elif kind == "scatter":
        xyz = cell.nodes[["x", "y", "z"]].to_numpy()[:, list(dims)]
        np.testing.assert_allclose(got_lo, xyz.min(axis=0), atol=1e-6)
        np.testing.assert_allclose(got_hi, xyz.max(axis=0), atol=1e-6)
    else:  # outlines and frustums: the traced path widened by at most the largest radius
        r = np.nanmax([max_radius(cell), float(cell.nodes["radius"].max())])  # NaN: untraced
        assert np.all(got_lo <= lo + 1e-6) and np.all(got_lo >= lo - r - 1e-6)
        assert np.all(got_hi >= hi - 1e-6) and np.all(got_hi <= hi + r + 1e-6)


# ---------------------------------------------------------------------- vis, 2-D
@pytest.mark.parametrize("kind", TYPES)
def test_vis_swc_cell(kind):
    cell = swc_cell()
    ax = cell.vis(type=kind)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert artists(ax)
    assert_extent(ax, cell, kind)
    if kind in ("line", "comp", "morph"):
        assert len(artists(ax)) == len(cell.xyzr)  # one artist per branch
    else:
        np.testing.assert_allclose(ax.collections[0].get_offsets(),
                                   cell.nodes[["x", "y"]].to_numpy())


@pytest.mark.parametrize("kind", TYPES)
def test_vis_hand_built_cell(kind):
    """A hand-built cell has jaxley's layout from construction (x, y, z; radius NaN)."""
    cell = hand_cell()
    assert all(np.isfinite(x[:, :3]).all() and np.isnan(x[:, 3]).all() for x in cell.xyzr)
    assert np.isfinite(cell.nodes[["x", "y", "z"]].to_numpy()).all()
    xyzr = [x.copy() for x in cell.xyzr]
    fig, ax = plt.subplots()
    out = cell.vis(ax=ax, type=kind, color="r")
    assert out is ax
    for new, old in zip(cell.xyzr, xyzr, strict=True):
        np.testing.assert_array_equal(new, old)
    assert_extent(ax, cell, kind)


def test_line_data_is_the_traced_points_in_the_chosen_dims():
    cell = swc_cell()
    ax = cell.vis(dims=(0, 2))
    for line, points in zip(ax.lines, cell.xyzr, strict=True):
        x, z = line.get_data()
        np.testing.assert_allclose(x, points[:, 0])
        np.testing.assert_allclose(z, points[:, 2])
    assert_extent(ax, cell, "line", dims=(0, 2))


def test_kwargs_and_colour_reach_matplotlib():
    cell = swc_cell()
    ax = cell.vis(color="g", linewidth=3.0)
    assert all(line.get_color() == "g" and line.get_linewidth() == 3.0 for line in ax.lines)
    ax = cell.vis(type="morph", color="b", alpha=0.5)
    assert ax.collections[0].get_alpha() == 0.5
    np.testing.assert_allclose(ax.collections[0].get_facecolor()[0], [0, 0, 1, 0.5])


def test_morph_polygons_have_true_widths():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), [-1],
                   xyzr=[np.array([[0.0, 0.0, 0.0, 2.0], [10.0, 0.0, 0.0, 1.0]])])
    ax = cell.vis(type="morph")
    (polygon,) = ax.collections[0].get_paths()
    vertices = polygon.vertices[:4]
    np.testing.assert_allclose(np.sort(vertices[:, 1]), [-2.0, -1.0, 1.0, 2.0])


def test_comp_draws_one_outline_per_compartment_of_its_radius():
    cell = hand_cell()
    cell.branch(0).set("radius", 3.0)
    ax = cell.vis(type="comp")
    assert [len(c.get_paths()) for c in ax.collections] == [2] * 5
    first = ax.collections[0].get_paths()[0].vertices  # root branch along +x, radius 3
    np.testing.assert_allclose(first[:, 0].min(), 0.0, atol=1e-9)
    np.testing.assert_allclose(first[:, 0].max(), 10.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(first[:, 1]).max(), 3.0)


# ---------------------------------------------------------------------- vis, 3-D
@pytest.mark.parametrize("kind", ["line", "scatter", "comp"])
def test_vis_3d(kind):
    cell = swc_cell()
    ax = cell.vis(dims=(0, 1, 2), type=kind)
    assert ax.name == "3d"
    assert artists(ax)
    if kind == "line":
        assert len(ax.lines) == len(cell.xyzr)
        for line, points in zip(ax.lines, cell.xyzr, strict=True):
            np.testing.assert_allclose(np.asarray(line.get_data_3d()).T, points[:, :3])
    if kind == "comp":
        assert len(ax.collections) == len(cell.nodes)  # one cylinder per compartment
    lo, hi = traced_extent(cell, (0, 1, 2))
    if kind == "scatter":
        xyz = cell.nodes[["x", "y", "z"]].to_numpy()
        lo, hi = xyz.min(axis=0), xyz.max(axis=0)
        np.testing.assert_allclose(np.asarray(ax.collections[0]._offsets3d).T, xyz)
    for (a, b), low, high in zip((ax.get_xlim3d(), ax.get_ylim3d(), ax.get_zlim3d()), lo, hi,
                                 strict=True):
        assert a <= low and b >= high


def test_vis_3d_on_a_given_3d_axes_and_hand_built_cell():
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert hand_cell().vis(ax=ax, dims=(0, 1, 2), type="comp") is ax
    assert len(ax.collections) == 10


# ---------------------------------------------------------------------- views
@pytest.mark.parametrize("kind", ["line", "comp", "morph"])
def test_views_draw_only_their_branches(kind):
    cell = swc_cell()
    n_apical = cell.apical.nodes["global_branch_index"].nunique()
    assert 0 < n_apical < len(cell.xyzr)
    ax = cell.vis(type=kind)
    n_cell = len(artists(ax))
    cell.apical.vis(ax=ax, color="r", type=kind)
    assert len(artists(ax)) - n_cell == n_apical < n_cell
    lone = cell.apical.vis(type=kind)
    assert len(artists(lone)) == n_apical


def test_view_scatter_draws_its_compartments():
    cell = swc_cell(ncomp=2)
    ax = cell.branch([1, 2]).vis(type="scatter")
    np.testing.assert_allclose(ax.collections[0].get_offsets(),
                               cell.branch([1, 2]).nodes[["x", "y"]].to_numpy())


def test_a_view_of_part_of_a_branch_draws_that_part():
    cell = hand_cell()
    ax = cell.branch(1).comp(0).vis()
    (line,) = ax.lines
    x, y = line.get_data()
    start, end = cell.xyzr[1][0, :2], cell.xyzr[1][1, :2]
    np.testing.assert_allclose([x[0], y[0]], start)
    np.testing.assert_allclose([x[-1], y[-1]], (start + end) / 2)


def test_vis_on_branch_and_compartment():
    assert len(jx.Branch(jx.Compartment(), 3).vis(type="comp").collections) == 1
    ax = jx.Compartment().vis()
    np.testing.assert_allclose(ax.lines[0].get_data(), [[0.0, 10.0], [0.0, 0.0]])


def test_png_of_ca1(tmp_path):
    cell = swc_cell()
    fig, ax = plt.subplots(figsize=(4, 8))
    cell.vis(ax=ax, type="morph")
    cell.apical.vis(ax=ax, color="r", type="line", linewidth=0.5)
    fig.savefig(tmp_path / "ca1.png")
    assert (tmp_path / "ca1.png").stat().st_size > 1000


# ---------------------------------------------------------------------- compute_xyz
def test_compute_xyz_joins_children_to_their_parents():
    cell = hand_cell()
    cell.branch(2).set("length", 7.0)
    cell.compute_xyz()  # relays out (radius NaN: untraced) with the new lengths
    parents = cell.topology.parents
    for b, points in enumerate(cell.xyzr):
        assert points.shape == (2, 4) and np.isfinite(points[:, :3]).all()
        assert np.isnan(points[:, 3]).all()
        comps = cell.nodes[cell.nodes["global_branch_index"] == b]
        np.testing.assert_allclose(np.linalg.norm(points[1, :3] - points[0, :3]),
                                   comps["length"].sum())
        if parents[b] < 0:
            np.testing.assert_allclose(points[0, :3], 0.0)
            np.testing.assert_allclose(points[1, :3], [20.0, 0.0, 0.0])
        else:
            np.testing.assert_allclose(points[0, :3], cell.xyzr[parents[b]][1, :3])
    # jaxley's directions (1, y)/|(1, y)|, y = (k / (n - 1) - 0.5) * spread[level] with
    # spread = linspace(5, 0.5, 3) over levels 0..2: ±1.375 at level 1, ±0.25 at level 2
    for b, y in ((1, -1.375), (2, 1.375), (3, -0.25), (4, 0.25)):
        d = cell.xyzr[b][1, :3] - cell.xyzr[b][0, :3]
        np.testing.assert_allclose(d[1] / d[0], y)
    np.testing.assert_allclose(cell.nodes["z"], 0.0)
    # compartment centres halfway along each compartment
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy()[:2],
                               [[5.0, 0.0, 0.0], [15.0, 0.0, 0.0]])
    mid = (cell.xyzr[2][0, :3] * 3 + cell.xyzr[2][1, :3]) / 4
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy()[4], mid)


def test_compute_xyz_keeps_traced_branches():
    cell = swc_cell(ncomp=2)
    xyzr = [x.copy() for x in cell.xyzr]
    cell.compute_xyz()
    for new, old in zip(cell.xyzr, xyzr, strict=True):
        np.testing.assert_array_equal(new, old)


def test_compute_xyz_on_a_view_is_refused():
    with pytest.raises(ValueError, match="view"):
        hand_cell().branch(1).compute_xyz()


def test_swc_compartment_centres_agree_with_xyzr():
    cell = swc_cell(ncomp=3)
    before = cell.nodes[["x", "y", "z"]].to_numpy().copy()
    cell.compute_compartment_centers()
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(), before, atol=1e-6)


# ---------------------------------------------------------------------- move, rotate
def centres_from_xyzr(cell):
    """What the compartment centres should be, given the cell's xyzr."""
    copy = jx.Cell.__new__(jx.Cell)
    copy.__dict__.update(cell.__dict__)
    copy._nodes = cell._nodes.copy()
    copy.compute_compartment_centers()
    return copy.nodes[["x", "y", "z"]].to_numpy()


def test_move_translates_xyzr_and_nodes():
    cell = swc_cell(ncomp=2)
    xyzr = [x.copy() for x in cell.xyzr]
    nodes = cell.nodes[["x", "y", "z"]].to_numpy().copy()
    cell.move(10.0, -5.0, 2.5)
    for new, old in zip(cell.xyzr, xyzr, strict=True):
        np.testing.assert_allclose(new[:, :3], old[:, :3] + [10.0, -5.0, 2.5])
        np.testing.assert_array_equal(new[:, 3], old[:, 3])
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(), nodes + [10, -5, 2.5])
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(), centres_from_xyzr(cell),
                               atol=1e-6)


def test_move_to_puts_the_root_start_at_the_point():
    cell = swc_cell(ncomp=2)
    cell.move_to(1.0, 2.0, 3.0)
    np.testing.assert_allclose(cell.xyzr[0][0, :3], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(), centres_from_xyzr(cell),
                               atol=1e-6)
    hand = hand_cell()  # no coordinates yet: laid out first
    hand.move_to(x=-4.0)
    np.testing.assert_allclose(hand.xyzr[0][0, :3], [-4.0, 0.0, 0.0])
    np.testing.assert_allclose(hand.xyzr[0][1, :3], [16.0, 0.0, 0.0])
    np.testing.assert_allclose(hand.nodes["x"].to_numpy()[:2], [1.0, 11.0])


def test_rotate_90_degrees_clockwise_about_the_origin():
    """As jaxley 0.14 (measured: its rotate(90) maps (1, 0) to (0, -1)); ours rotated
    counter-clockwise about the centroid before (issue 17, gap 11)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1],
                   xyzr=[np.array([[0.0, 0.0, 0.0, 1.0], [2.0, 0.0, 0.0, 1.0]])])
    cell.rotate(90)
    np.testing.assert_allclose(cell.xyzr[0][:, :3], [[0.0, 0.0, 0.0], [0.0, -2.0, 0.0]],
                               atol=1e-12)
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(),
                               [[0.0, -5.0, 0.0], [0.0, -15.0, 0.0]], atol=1e-12)
    cell.rotate(90, rotation_axis="yz")  # y towards -z: (0, -2, 0) -> (0, 0, 2)
    np.testing.assert_allclose(cell.xyzr[0][:, :3], [[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]],
                               atol=1e-12)
    cell.rotate(-90, rotation_axis="xz")  # x' = cos x + sin z: (0, 0, 2) -> (-2, 0, 0)
    np.testing.assert_allclose(cell.xyzr[0][:, :3], [[0.0, 0.0, 0.0], [-2.0, 0.0, 0.0]],
                               atol=1e-12)


def test_rotate_swc_cell_keeps_nodes_consistent_and_lengths():
    cell = swc_cell(ncomp=2)
    points = np.concatenate([x[:, :3] for x in cell.xyzr])
    lengths = [np.linalg.norm(np.diff(x[:, :3], axis=0), axis=1) for x in cell.xyzr]
    cell.rotate(37.0)
    c, s = np.cos(np.deg2rad(37.0)), np.sin(np.deg2rad(37.0))
    expected = points @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(np.concatenate([x[:, :3] for x in cell.xyzr]), expected,
                               atol=1e-9)
    for x, ell in zip(cell.xyzr, lengths, strict=True):
        np.testing.assert_allclose(np.linalg.norm(np.diff(x[:, :3], axis=0), axis=1), ell,
                                   atol=1e-9)
    np.testing.assert_allclose(cell.nodes[["x", "y", "z"]].to_numpy(), centres_from_xyzr(cell),
                               atol=1e-6)


def test_move_on_a_view_of_the_whole_cell_is_allowed():
    cell = hand_cell()
    cell.compute_xyz()
    cell.branch("all").move(y=1.0)
    np.testing.assert_allclose(cell.xyzr[0][:, 1], 1.0)


@pytest.mark.parametrize("call", [
    lambda v: v.move(1.0), lambda v: v.move_to(1.0), lambda v: v.rotate(10.0),
])
def test_move_on_part_of_a_cell_is_refused(call):
    cell = swc_cell()
    with pytest.raises(ValueError, match="move the whole cell"):
        call(cell.apical)


# ---------------------------------------------------------------------- errors
def test_bad_type():
    with pytest.raises(ValueError, match=r"'lines'.*|.*'line', 'scatter', 'comp', 'morph'"):
        hand_cell().vis(type="lines")


@pytest.mark.parametrize("dims", [(0,), (0, 0), (0, 3), (0, 1, 2, 0), "xy", (0.5, 1), None])
def test_bad_dims(dims):
    with pytest.raises(ValueError, match=r"dims must be .*\(0, 1, 2\).*got"):
        hand_cell().vis(dims=dims)


def test_morph_in_3d_draws_a_cylinder_per_traced_segment():
    """jaxley draws type="morph" in 3-D (its test_volume_plotting); ours refused it."""
    cell = swc_cell()
    ax = cell.branch(1).vis(dims=(0, 1, 2), type="morph", resolution=6)
    n_segments = len(cell.xyzr[1]) - 1
    assert len(ax.collections) == n_segments


@pytest.mark.parametrize("resolution", [6, 20])
def test_resolution_sets_the_points_around_3d_cylinders(resolution):
    ax = plt.figure().add_subplot(projection="3d")
    shapes, draw = [], ax.plot_surface

    def recording(x, y, z, **kwargs):
        shapes.append(np.shape(x))
        return draw(x, y, z, **kwargs)

    ax.plot_surface = recording
    hand_cell().branch(0).vis(ax=ax, dims=(0, 1, 2), type="comp", resolution=resolution)
    assert shapes == [(2, resolution + 1)] * 2  # one closed ring of points per compartment end


@pytest.mark.parametrize("resolution", [2, 6.5, True, "6"])
def test_bad_resolution(resolution):
    with pytest.raises(ValueError, match="resolution must be an int >= 3"):
        hand_cell().vis(type="comp", resolution=resolution)


def test_axes_must_match_dims():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="3-D"):
        hand_cell().vis(ax=ax, dims=(0, 1, 2))
    ax3 = plt.figure().add_subplot(projection="3d")
    with pytest.raises(ValueError, match="2-D"):
        hand_cell().vis(ax=ax3)


def test_bad_rotation_axis_and_bad_numbers():
    cell = hand_cell()
    with pytest.raises(ValueError, match="rotation_axis"):
        cell.rotate(10, rotation_axis="xx")
    with pytest.raises(ValueError, match="finite"):
        cell.move(x=np.nan)
    with pytest.raises(ValueError, match="one value per selected cell"):
        cell.move_to(x=[1.0, 2.0])


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'neuroenv\[plot\]'"):
        hand_cell().vis()
