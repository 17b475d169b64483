"""Recordings, stimuli and clamps (:mod:`simulator.modules.io`), static and ``data_*``.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from module_cells import y_cell

from simulator.channels import HH


def test_recordings_table():
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(1).loc(0.0).record(verbose=False)
    cell.branch(1).loc(0.0).record(verbose=False)  # duplicate: dropped
    cell.branch(1).record("HH_m", verbose=False)
    cell.branch(2).loc(1.0).record("v", verbose=False)
    cell.HH.record("i_HH", verbose=False)
    rec = cell.recordings
    assert list(rec.columns) == ["rec_index", "state"]
    # reference (row order)
    assert rec["rec_index"].tolist() == [2, 2, 3, 5, 2, 3]
    assert rec["state"].tolist() == ["v", "HH_m", "HH_m", "v", "i_HH", "i_HH"]
    assert rec["rec_index"].dtype == np.int64
    cell.delete_recordings()
    assert len(cell.recordings) == 0
    assert list(cell.recordings.columns) == ["rec_index", "state"]


def test_record_verbose_counts_new_rows(capsys):
    cell = y_cell()
    cell.branch(1).record()
    cell.branch([1, 2]).record()
    out = capsys.readouterr().out
    assert "Added 2 recordings" in out


def test_record_unknown_state_raises():
    cell = y_cell()
    cell.branch(1).insert(HH())
    with pytest.raises(ValueError, match="'HH_x'"):
        cell.record("HH_x", verbose=False)
    with pytest.raises(ValueError, match="'HH_m'"):
        cell.branch(0).record("HH_m", verbose=False)  # reference: refused too (KeyError there)


def test_stimulate_and_externals():
    cell = y_cell()
    cur = np.arange(5.0)
    cell.branch(0).stimulate(cur, verbose=False)
    cell.branch(2).loc(0.0).stimulate(2 * cur, verbose=False)
    # reference
    np.testing.assert_array_equal(cell.externals["i"], [cur, cur, 2 * cur])
    assert cell.external_inds["i"].tolist() == [0, 1, 4]
    cell.branch(1).stimulate(np.ones((2, 5)), verbose=False)
    assert cell.externals["i"].shape == (5, 5)  # reference
    assert cell.external_inds["i"].tolist() == [0, 1, 4, 2, 3]  # reference
    # the module's arrays are copies: later edits of cur do not leak in
    cur[:] = 100.0
    assert cell.externals["i"][0, 4] == 4.0
    cell.delete_stimuli()
    assert "i" not in cell.externals and "i" not in cell.external_inds


def test_stimulate_per_compartment_rows():
    cell = y_cell()
    currents = np.arange(12.0).reshape(3, 4)
    cell.branch("all").loc(1.0).stimulate(currents, verbose=False)
    assert cell.external_inds["i"].tolist() == [1, 3, 5]
    np.testing.assert_array_equal(cell.externals["i"], currents)


def test_clamps():
    cell = y_cell()
    cell.branch(1).insert(HH())
    cell.branch(0).stimulate(np.zeros(5), verbose=False)
    cell.branch(1).clamp("v", np.zeros(5), verbose=False)
    cell.HH.clamp("HH_m", np.full((2, 5), 0.3), verbose=False)
    # reference
    assert {k: v.shape for k, v in cell.externals.items()} == {"i": (2, 5), "v": (2, 5),
                                                               "HH_m": (2, 5)}
    assert cell.external_inds["v"].tolist() == [2, 3]
    assert cell.external_inds["HH_m"].tolist() == [2, 3]
    cell.delete_clamps("v")
    assert list(cell.externals) == ["i", "HH_m"]  # reference
    cell.delete_clamps()
    assert list(cell.externals) == ["i"]  # reference
    with pytest.raises(ValueError, match="'v'"):
        cell.delete_clamps("v")


def test_stimulus_and_clamp_may_have_different_lengths():
    cell = y_cell()
    cell.branch(0).stimulate(np.zeros(10), verbose=False)
    cell.branch(1).clamp("v", np.zeros(7), verbose=False)  # reference: accepted
    assert cell.externals["i"].shape == (2, 10)
    assert cell.externals["v"].shape == (2, 7)


def test_data_stimulate_and_data_clamp():
    cell = y_cell()
    stim = cell.branch(1).loc(0.0).data_stimulate(jnp.ones(4))
    stim = cell.branch(2).data_stimulate(jnp.ones((2, 4)), stim)
    names, arrays, inds_ = stim
    assert names == ["i", "i"]
    assert [a.shape for a in arrays] == [(1, 4), (2, 4)]
    assert [i.tolist() for i in inds_] == [[2], [4, 5]]
    clamps = cell.branch(0).data_clamp("v", jnp.zeros(4))
    assert clamps[0] == ["v"] and clamps[2][0].tolist() == [0, 1]
    assert cell.externals == {}  # nothing stored on the module
