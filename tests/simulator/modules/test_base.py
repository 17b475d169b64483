"""The module object (:mod:`simulator.modules.base`): pickling and deep copies.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
from module_cells import inds, y_cell

import simulator as jx
from simulator.channels import HH


def test_pickle_and_deepcopy_roundtrip():
    cell = y_cell()
    cell.insert(HH())
    cell.branch(0).add_to_group("soma")
    cell.branch(1).loc(0.0).record(verbose=False)
    cell.soma.make_trainable("radius", verbose=False)
    cell.to_jax()
    for clone in (pickle.loads(pickle.dumps(cell)), copy.deepcopy(cell)):
        pd.testing.assert_frame_equal(clone.nodes, cell.nodes)
        assert inds(clone.soma) == [0, 1]
        assert clone.recordings["rec_index"].tolist() == [2]
        assert clone.num_trainable_params == 1
        clone.set("radius", 2.0)
        assert cell.nodes["radius"].tolist() == [1.0] * 6
    view = pickle.loads(pickle.dumps(cell.branch(1)))
    assert inds(view) == [2, 3]


def test_pickle_after_integrate(x64):
    cell = jx.Compartment()
    cell.insert(HH())
    cell.record(verbose=False)
    v = jx.integrate(cell, t_max=0.1)
    clone = pickle.loads(pickle.dumps(cell))
    np.testing.assert_allclose(jx.integrate(clone, t_max=0.1), v)
