"""``integrate(params=[{}])`` on a module without trainable parameters runs as without
params, as in jaxley 0.14 (issue 17, gap 11); empty dicts set nothing."""

from __future__ import annotations

import numpy as np
import pytest

import simulator as jx


def _cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def test_empty_dict_params_without_trainables():
    cell = _cell()
    plain = np.asarray(jx.integrate(cell, t_max=1.0))
    assert np.array_equal(np.asarray(jx.integrate(cell, t_max=1.0, params=[{}])), plain)


def test_empty_dicts_do_not_stand_for_trainables():
    cell = _cell()
    cell.make_trainable("radius", verbose=False)
    with pytest.raises(ValueError, match="1 trainable"):
        jx.integrate(cell, t_max=1.0, params=[{}])
