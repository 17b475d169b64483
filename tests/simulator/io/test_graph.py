"""simulator.io.graph against the installed jaxley 0.14 (the reference for its sectioning)."""

from pathlib import Path

import numpy as np
import pytest

import simulator as sx
from simulator.io.graph import (
    build_compartment_graph,
    from_graph,
    to_graph,
    to_swc_graph,
    vis_compartment_graph,
)

jx = pytest.importorskip("jaxley")
jgraph = pytest.importorskip("jaxley.io.graph")
jbase = pytest.importorskip("jaxley.modules.base")

SWCS = sorted((Path(__file__).parents[2] / "data" / "swc").glob("*.swc"))
NAMES = [p.name for p in SWCS]
#: The largest morphology (889 kB, ~10-13 s per jaxley reference build on 2 busy cores): its
#: graph comparisons run with ``-m slow``; the CA1 files cover the same code paths by default.
LARGE = "morph_l5pc_with_axon.swc"
SIZED = [pytest.param(n, marks=pytest.mark.slow) if n == LARGE else n for n in NAMES]
OPTIONS = [dict(ncomp=1), dict(ncomp=3), dict(ncomp=2, max_len=100.0),
           dict(ncomp=1, ignore_swc_tracing_interruptions=False), dict(ncomp=2, min_radius=1.0)]
COLUMNS = ["length", "radius", "area", "volume", "resistive_load_in", "resistive_load_out",
           "x", "y", "z", "global_branch_index", "global_comp_index"]
# Measured: identical up to 2e-15 (x/y/z: numpy vs jnp.interp in float64); 1e-12 is the margin.
TOL = 1e-12


def _same_value(a, b) -> bool:
    if isinstance(a, np.ndarray | float | np.floating):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        close = (np.abs(a - b) <= TOL) | (np.isnan(a) & np.isnan(b))
        return a.shape == b.shape and bool(np.all(close))
    return a == b


def _assert_same_graph(ours, theirs, ordered=True):
    if ordered:
        assert list(ours.nodes) == list(theirs.nodes)
    assert set(ours.nodes) == set(theirs.nodes)
    assert set(ours.edges) == set(theirs.edges)
    for n, attrs in theirs.nodes(data=True):
        assert set(ours.nodes[n]) == set(attrs), n
        for key, value in attrs.items():
            assert _same_value(ours.nodes[n][key], value), (n, key)


@pytest.mark.parametrize("name", SIZED)
@pytest.mark.parametrize("option", [0] + [pytest.param(i, marks=pytest.mark.slow)
                                          for i in range(1, len(OPTIONS))])
def test_compartment_graph_equals_jaxley(name, option, x64):
    """Every SWC with the default options in the default run; the other option sets (28
    more jaxley reference builds, minutes on 2 cores) with ``-m slow``."""
    path = str(SWCS[NAMES.index(name)])
    kwargs = OPTIONS[option]
    ours = build_compartment_graph(to_swc_graph(path), **kwargs)
    theirs = jgraph.build_compartment_graph(jgraph.to_swc_graph(path), **kwargs)
    _assert_same_graph(ours, theirs)


@pytest.mark.parametrize("name", SIZED)
def test_read_swc_graph_backend_equals_jaxley(name, x64):
    path = str(SWCS[NAMES.index(name)])
    ours, theirs = sx.read_swc(path, ncomp=2), jx.read_swc(path, ncomp=2)
    assert ours.topology.n_branches == len(theirs.xyzr)
    assert list(ours.topology.parents) == list(theirs.comb_parents)
    for col in COLUMNS:
        np.testing.assert_allclose(ours.nodes[col].to_numpy(float),
                                   theirs.nodes[col].to_numpy(float), rtol=0, atol=TOL)
    for a, b in zip(ours.xyzr, theirs.xyzr, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
    for group in theirs.group_names:
        assert np.array_equal(ours.nodes[group].to_numpy(), theirs.nodes[group].to_numpy())
    _assert_same_graph(to_graph(ours), jbase.to_graph(theirs), ordered=False)


def test_graph_default_and_neuron_backend_differ_where_jaxley_does():
    path = str(SWCS[NAMES.index("morph_ca1_n120.swc")])
    graph = sx.read_swc(path, ncomp=1)
    neuron = sx.read_swc(path, ncomp=1, backend="neuron")
    # jaxley splits the soma differently from NEURON's Import3d: 155 vs 156 branches.
    assert (graph.topology.n_branches, neuron.topology.n_branches) == (155, 156)


def test_round_trip_and_method(x64):
    cell = sx.read_swc(str(SWCS[NAMES.index("morph_3_types.swc")]), ncomp=2)
    cell.insert(sx.channels.HH())
    graph = cell.to_graph(channels=True)
    again = from_graph(graph)
    assert list(again.topology.parents) == list(cell.topology.parents)
    np.testing.assert_array_equal(again.nodes["length"], cell.nodes["length"])
    assert [c.name for c in again.channels] == ["HH"]
    assert set(again.groups) == set(cell.groups)


def test_vis_compartment_graph_draws_every_node():
    plt = pytest.importorskip("matplotlib.pyplot")
    graph = build_compartment_graph(to_swc_graph(str(SWCS[0])), ncomp=1)
    ax = vis_compartment_graph(graph)
    assert len(ax.collections[0].get_offsets()) == graph.number_of_nodes()
    plt.close("all")


def test_bad_arguments():
    path = str(SWCS[0])
    with pytest.raises(ValueError, match="backend"):
        sx.read_swc(path, ncomp=1, backend="custom")
    with pytest.raises(ValueError, match="relevant_type_ids"):
        sx.read_swc(path, ncomp=1, backend="neuron", relevant_type_ids=[1])
    with pytest.raises(ValueError, match="ncomp"):
        build_compartment_graph(to_swc_graph(path), ncomp=0)
    with pytest.raises(ValueError, match="needs an int ncomp"):
        sx.read_swc(path, ncomp=sx.morphology.d_lambda_rule())
    with pytest.raises(ValueError, match="cannot read SWC"):
        to_swc_graph("/nonexistent.swc")
