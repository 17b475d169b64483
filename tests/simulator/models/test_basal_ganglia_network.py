"""The Rubin & Terman (2004) network: published connectivity, inputs, error index, states."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.models.basal_ganglia import (
    basal_ganglia_network,
    dbs_current,
    error_index,
    nucleus_cells,
    pathways,
    pulse_train,
    sensorimotor_input,
    to_nA,
)


def _in_degree(pre, post, n):
    return np.bincount(post, minlength=n)


@pytest.mark.parametrize("n", [8, 16, 32])
def test_published_in_degrees(n):
    p = pathways(n)
    n_tc = len(nucleus_cells(n)["TC"])
    assert np.all(_in_degree(*p["GPe_STN"], n) == 2)  # each STN cell: 2 GPe cells
    assert np.all(_in_degree(*p["GPe_GPe"], n) == 2)
    assert np.all(_in_degree(*p["STN_GPe"], n) == 2)
    assert np.all(_in_degree(*p["STN_GPe_cross"], n) == 1)  # + one at weight 0.2
    assert np.all(_in_degree(*p["STN_GPi"], n) == 1) and np.all(p["STN_GPi"][0] == p["STN_GPi"][1])
    tc_in = _in_degree(*p["GPi_TC"], n_tc)
    assert np.all(tc_in == (4 if n == 8 else 8))  # the paper's 16 GPi: 8 per TC cell
    assert np.all(np.bincount(p["GPi_TC"][0], minlength=n) == 1)  # every GPi cell, once


def test_paper_lists_for_16():
    pre, post = pathways(16)["GPe_STN"]
    assert sorted(pre[post == 0]) == [1, 4] and sorted(pre[post == 9]) == [8, 13]
    pre, post = pathways(16)["STN_GPe_cross"]
    assert pre[post == 0].tolist() == [15] and pre[post == 8].tolist() == [7]  # 0.2·STN16, ·STN8
    pre, post = pathways(16)["GPi_TC"]
    assert sorted(pre[post == 0]) == [0, 1, 4, 5, 8, 9, 12, 13]


def test_network_states_differ_only_where_published():
    healthy, cells = basal_ganglia_network(8, "healthy")
    pd, _ = basal_ganglia_network(8, "parkinsonian")
    gpe = cells["GPe"]
    np.testing.assert_allclose(healthy.nodes["PallidalRT_i_app"].to_numpy()[gpe], 2e-3)
    np.testing.assert_allclose(pd.nodes["PallidalRT_i_app"].to_numpy()[gpe], -2.2e-3)
    gg = healthy.edges["type"] == "GPe_GPe"
    assert np.all(healthy.edges.loc[gg, "GPe_GPe_gS"] > 0)
    assert np.all(pd.edges.loc[pd.edges["type"] == "GPe_GPe", "GPe_GPe_gS"] == 0)
    others = [c for c in healthy.edges.columns if c.endswith("_gS") and c != "GPe_GPe_gS"]
    np.testing.assert_array_equal(healthy.edges[others].fillna(-1).to_numpy(),
                                  pd.edges[others].fillna(-1).to_numpy())


@pytest.mark.parametrize("kwargs, match", [({"n_per_nucleus": 10}, "multiple of 8"),
                                           ({"n_per_nucleus": 0}, "multiple of 8"),
                                           ({"state": "pd"}, "state")])
def test_bad_network_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        basal_ganglia_network(**{"n_per_nucleus": 8, **kwargs})


def test_pulse_trains_on_the_grid():
    w = pulse_train(20.0, 0.01, 1.0, 10.0, 0.6)
    assert w.shape == (2001,) and w.sum() == 2 * 60 + 1  # 2 pulses of 60 steps, a 3rd at 20 ms
    assert w[0] == 1.0 and w[59] == 1.0 and w[60] == 0.0 and w[1000] == 1.0
    sm, onsets = sensorimotor_input(200.0, 0.01)
    np.testing.assert_allclose(onsets, [0.0, 50.0, 100.0, 150.0])
    np.testing.assert_allclose([sm.max(), to_nA(5.0)], 5e-3)  # 5 µA/cm² on 100 µm²
    assert dbs_current(10.0, 0.01, 0.0).sum() == 0.0
    assert np.count_nonzero(dbs_current(1000.0, 0.01, 130.0)) == 130 * 60 + 1  # 131st at 1 s
    with pytest.raises(ValueError, match="width_ms"):
        pulse_train(10.0, 0.01, 1.0, 0.5, 0.6)


def _spikes(times, t_max=200.0, dt=0.1):
    v = np.full(int(t_max / dt) + 1, -70.0)
    for t in times:
        v[int(round(t / dt))] = 20.0
    return v


def test_error_index_counts_misses_bursts_and_spurious_spikes():
    onsets = np.array([0.0, 50.0, 100.0, 150.0])
    perfect = _spikes([3.0, 53.0, 103.0, 153.0], t_max=200.0)
    assert error_index(perfect, 0.1, onsets)["ei"] == 0.0
    flawed = _spikes([3.0, 5.0, 40.0, 103.0, 160.0], t_max=200.0)  # burst+spurious, miss
    e = error_index(flawed, 0.1, onsets)
    assert (e["bad"], e["spurious"], e["misses"]) == (1, 1, 1) and e["pulses"] == 4
    assert e["ei"] == pytest.approx(3 / 4)
    two = error_index(np.stack([perfect, flawed]), 0.1, onsets)
    assert two["ei"] == pytest.approx(3 / 8) and two["pulses"] == 8


def test_error_index_irregular_onsets_and_no_scored_pulse():
    # the response at 92 ms belongs to the unscored pulse at 90 ms, not to the one at 60 ms
    v = _spikes([5.0, 65.0, 92.0], t_max=100.0)
    e = error_index(v, 0.1, [0.0, 60.0, 90.0])
    assert (e["pulses"], e["misses"], e["bad"], e["spurious"]) == (2, 0, 0, 0)
    with pytest.raises(ValueError, match="onsets"):
        error_index(_spikes([], t_max=20.0), 0.1, [0.0, 50.0])
    with pytest.raises(ValueError, match="onsets"):
        error_index(_spikes([], t_max=20.0), 0.1, [])
