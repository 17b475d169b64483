"""Coordinates as jaxley 0.14 (issue 17, gap 11), compared with the installed jaxley: x, y, z
of hand-built modules filled at construction (were NaN until compute_xyz), rotate (was
counter-clockwise about the centroid), Network.arrange_in_layers and vis(detail=...) (were
missing)."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

import simulator as sim

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

jx = pytest.importorskip("jaxley")

# jaxley interpolates the compartment centres in float32 (measured difference 1.4e-6 µm at
# 54 µm): relative 1e-6 plus 1e-5 µm.
RTOL, ATOL = 1e-6, 1e-5


def build(lib, parents=(-1, 0, 0, 1, 1, 2), ncomp=3, lengths=None):
    comp = lib.Compartment()
    branches = []
    for b in range(len(parents)):
        branch = lib.Branch(comp, ncomp=ncomp)
        if lengths is not None:
            branch.set("length", float(lengths[b]))
        branches.append(branch)
    return lib.Cell(branches, parents=list(parents))


def assert_same_coordinates(ours, theirs):
    assert len(ours.xyzr) == len(theirs.xyzr)
    for a, b in zip(ours.xyzr, theirs.xyzr, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)
    np.testing.assert_allclose(ours.nodes[["x", "y", "z"]].to_numpy(dtype=float),
                               theirs.nodes[["x", "y", "z"]].to_numpy(dtype=float),
                               rtol=RTOL, atol=ATOL)


def test_compartment_and_branch_as_jaxley():
    assert_same_coordinates(sim.Compartment(), jx.Compartment())
    assert_same_coordinates(sim.Branch(sim.Compartment(), 4), jx.Branch(jx.Compartment(), 4))


@pytest.mark.parametrize("parents", [(-1,), (-1, 0), (-1, 0, 0), (-1, 0, 0, 1, 1, 2),
                                     (-1, 0, 0, 0, 1, 4, 4, 6)])
def test_cell_as_jaxley(parents):
    lengths = 10.0 + 7.0 * np.arange(len(parents))
    assert_same_coordinates(build(sim, parents, 2, lengths), build(jx, parents, 2, lengths))


def test_network_as_jaxley_and_after_compute_xyz():
    ours = sim.Network([build(sim), build(sim, (-1, 0, 0))])
    theirs = jx.Network([build(jx), build(jx, (-1, 0, 0))])
    assert_same_coordinates(ours, theirs)
    ours.compute_xyz()
    theirs.compute_xyz()
    theirs.compute_compartment_centers()
    assert_same_coordinates(ours, theirs)


@pytest.mark.parametrize("axis", ["xy", "xz", "yz"])
@pytest.mark.parametrize("degrees", [90.0, 37.0, -120.0])
def test_rotate_as_jaxley(axis, degrees):
    ours, theirs = build(sim), build(jx)
    ours.move(3.0, -2.0, 1.0)
    theirs.move(3.0, -2.0, 1.0)
    ours.rotate(degrees, rotation_axis=axis)
    theirs.rotate(degrees, rotation_axis=axis, update_nodes=True)
    assert_same_coordinates(ours, theirs)


def test_rotate_90_maps_x_to_minus_y():
    cell = sim.Cell(sim.Branch(sim.Compartment(), 1), [-1],
                    xyzr=[np.array([[1.0, 0.0, 0.0, 1.0], [2.0, 0.0, 0.0, 1.0]])])
    cell.rotate(90)
    np.testing.assert_allclose(cell.xyzr[0][:, :3], [[0, -1, 0], [0, -2, 0]], atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(layers=[2, 1]),
    dict(layers=[3, 2, 1], within_layer_offset=150, between_layer_offset=200),
    dict(layers=[1, 4, 1], within_layer_offset=50.0, vertical_layers=True),
])
def test_arrange_in_layers_as_jaxley(kwargs):
    n = sum(kwargs["layers"])
    ours = sim.Network([build(sim, (-1, 0, 0)) for _ in range(n)])
    theirs = jx.Network([build(jx, (-1, 0, 0)) for _ in range(n)])
    ours.arrange_in_layers(**kwargs)
    theirs.arrange_in_layers(**kwargs)
    for a, b in zip(ours.xyzr, theirs.xyzr, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)


@pytest.mark.parametrize("layers, error", [([2, 2], ValueError), ([3.0], TypeError),
                                           ("3", TypeError), ([4, -1], TypeError)])
def test_arrange_in_layers_bad_layers(layers, error):
    net = sim.Network([build(sim, (-1,)) for _ in range(3)])
    with pytest.raises(error, match="layers"):
        net.arrange_in_layers(layers)


@pytest.mark.parametrize("detail", ["full", "point"])
def test_network_vis_detail_draws_cells_and_synapses(detail):
    net = sim.Network([build(sim, (-1, 0, 0)) for _ in range(3)])
    net.arrange_in_layers([2, 1], within_layer_offset=100.0, between_layer_offset=200.0)
    sim.connect(net.cell(0).branch(0).loc(0.0), net.cell(2).branch(1).loc(1.0),
                sim.synapses.IonotropicSynapse())
    fig, ax = plt.subplots()
    out = net.vis(detail=detail, ax=ax, synapse_color="r")
    assert out is ax
    synapse = ax.lines[-1].get_xydata()
    if detail == "point":
        means = [np.concatenate(net.cell(c).xyzr)[:, :2].mean(axis=0) for c in (0, 2)]
        np.testing.assert_allclose(synapse, means, atol=1e-9)
    else:
        # a synapse sits at its compartments' centres (pre/post_locs, as jaxley)
        ends = [net.cell(0).branch(0).comp(0), net.cell(2).branch(1).comp(2)]
        np.testing.assert_allclose(
            synapse, [v.nodes[["x", "y"]].to_numpy()[0] for v in ends], atol=1e-9)
    assert len(ax.lines) == (9 + 1 if detail == "full" else 1)
    plt.close(fig)


def test_network_vis_warns_when_cells_overlap_and_refuses_bad_detail():
    net = sim.Network([build(sim, (-1,)) for _ in range(2)])
    with pytest.warns(UserWarning, match="same coordinates"):
        net.vis()
    with warnings.catch_warnings(), pytest.raises(ValueError, match="detail must be one of"):
        warnings.simplefilter("ignore")
        net.vis(detail="points")
    plt.close("all")
