"""Composition (:mod:`simulator.modules.compose`): parts of the wrong type are refused; the
bookkeeping of parts (inputs, trainables, recordings) is left behind with a warning; parts
are copied.

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
        (lambda m: m.stimulate(np.zeros(3), verbose=False), "1 stimuli or clamps"),
        (lambda m: m.clamp("v", np.zeros(3), verbose=False), "1 stimuli or clamps"),
        (lambda m: m.make_trainable("radius", verbose=False), "1 trainable parameters"),
        (lambda m: m.record(verbose=False), "recordings"),
    ],
)
def test_bookkeeping_of_parts_is_left_behind_with_a_warning(prepare, match):
    """As jaxley 0.14 (issue 17, gap 11; jaxley's 05_channel_and_synapse_models tutorial
    builds Network([cell] * 3) of a stimulated cell): the combined module has no inputs,
    trainables or recordings of its parts (jaxley drops them silently; we warn). These were
    ValueErrors (recordings: since 75ec38b a warning)."""
    part = jx.Compartment()
    for build in (lambda p: jx.Branch(p, 2), lambda p: jx.Cell(p, [-1, 0]),
                  lambda p: jx.Network([p, p])):
        prepare(part)
        with pytest.warns(UserWarning, match=rf"{match}; they are not carried over"):
            combined = build(part)
        assert not combined.externals and not combined.trainable_params
        assert len(combined.recordings) == 0
        assert len(part.recordings) + len(part.externals) + len(part.trainable_params) >= 1
        part = combined


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
