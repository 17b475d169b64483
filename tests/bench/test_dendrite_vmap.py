"""bench/dendrite_vmap.py: the re-rooted tree keeps every junction of the original."""

import numpy as np
import pytest

from bench.dendrite_vmap import rerooted_tree


def junctions(parents, attach, reversed_=None):
    """Set of frozensets of (branch, end) meeting at each point (end 0 = the branch's
    original start), from a tree where ``attach`` says where each branch starts on its
    parent; ``reversed_`` maps new ends back to original ones."""
    n = len(parents)
    rev = np.zeros(n, bool) if reversed_ is None else reversed_
    point = list(range(2 * n))

    def find(i):
        while point[i] != i:
            i = point[i]
        return i

    for b in range(n):
        if parents[b] >= 0:
            start = 2 * b + int(rev[b])  # the end of b that is its (new) start
            p = parents[b]
            at = 2 * p + (int(attach[b] == 1.0) ^ int(rev[p]))
            point[find(start)] = find(at)
    groups = {}
    for i in range(2 * n):
        groups.setdefault(find(i), set()).add((i // 2, i % 2))
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def test_reroot_keeps_junctions():
    # root 0 with children at both ends (as DendriteControl's soma), a chain below
    parents = np.array([-1, 0, 0, 1, 1, 2])
    attach = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    order, new_parents, rev = rerooted_tree(parents, attach)
    assert sorted(order) == list(range(6))
    assert new_parents[0] == -1 and all(p < j for j, p in enumerate(new_parents) if j)
    # new tree, expressed in original branch ids, every child at its parent's end
    old_parents = np.full(6, -1)
    old_rev = np.zeros(6, bool)
    for j, b in enumerate(order):
        old_rev[b] = rev[j]
        if new_parents[j] >= 0:
            old_parents[b] = order[new_parents[j]]
    attach_new = np.ones(6)
    # express each branch's attachment on its new parent in original ends
    got = junctions(old_parents, attach_new, old_rev)
    assert got == junctions(parents, attach)


def test_reroot_refuses_mid_attachments():
    with pytest.raises(ValueError, match="loc 0 or 1"):
        rerooted_tree([-1, 0], [1.0, 0.5])
