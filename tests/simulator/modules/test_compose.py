"""Composition (:mod:`simulator.modules.compose`): parts with bookkeeping or of the wrong type
are refused; parts are copied.

Expected values marked "reference" were observed by running jaxley 0.14.0 on the same
constructions; they are hard-coded here (the tests do not import it).
"""

from __future__ import annotations

import numpy as np
import pytest
from module_cells import y_cell

import simulator as jx
from simulator.channels import HH


@pytest.mark.parametrize(
    "prepare, match",
    [
        (lambda m: m.stimulate(np.zeros(3), verbose=False), "stimuli"),
        (lambda m: m.clamp("v", np.zeros(3), verbose=False), "stimuli or clamps"),
        (lambda m: m.make_trainable("radius", verbose=False), "trainable"),
    ],
)
def test_composition_refuses_parts_with_bookkeeping(prepare, match):
    comp = jx.Compartment()
    prepare(comp)
    with pytest.raises(ValueError, match=match):
        jx.Branch(comp, 2)
    branch = jx.Branch()
    prepare(branch)
    with pytest.raises(ValueError, match=match):
        jx.Cell(branch, [-1, 0])


def test_recordings_of_parts_are_left_behind_with_a_warning():
    """As jaxley 0.14 (issue 17, gap 11): Network([cell, cell]) of a recorded cell records
    nothing (jaxley drops them silently; we warn)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    cell.branch(0).comp(0).record(verbose=False)
    with pytest.warns(UserWarning, match="1 recordings; they are not carried over"):
        net = jx.Network([cell, cell])
    assert len(net.recordings) == 0
    assert len(cell.recordings) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: jx.Branch(["a"]),
        lambda: jx.Branch([jx.Compartment(), 3]),
        lambda: jx.Branch(jx.Branch(), 2),
        lambda: jx.Branch(jx.Cell(), 2),
        lambda: jx.Cell(jx.Compartment(), [-1]),
        lambda: jx.Cell([jx.Branch(), "b"], [-1, 0]),
        lambda: jx.Cell(jx.Cell(), [-1]),
        lambda: jx.Cell(y_cell().branch(0), [-1]),
        lambda: jx.Branch(y_cell().branch(0).comp(0), 1),
    ],
)
def test_composition_refuses_non_module_parts(build):
    with pytest.raises(TypeError):
        build()


def test_composition_copies_parts():
    branch = jx.Branch(jx.Compartment(), 2)
    cell = jx.Cell(branch, [-1, 0])
    cell.set("radius", 4.0)
    cell.insert(HH())
    assert branch.nodes["radius"].tolist() == [1.0, 1.0]
    assert "HH" not in branch.nodes.columns and branch.channels == []
