"""The published connectivity of Rubin & Terman (2004): which cell inhibits or excites which.

Cells of each nucleus come in blocks of 8 (the authors' 16 per nucleus are two blocks; the
lists are those of their XPP file, ModelDB 116867). Within a block, with cells numbered
0–7, each STN cell receives 2 GPe cells, each GPe cell 2 GPe cells and 2 STN cells (weight 1)
plus one STN cell of the partner block (weight 0.2); GPi cell k receives STN k and GPe k;
the 2 TC cells per block pair receive 8 GPi cells each. For more than two blocks, block b's
partner is block b + 1 (cyclically); with one block, itself.
"""

from __future__ import annotations

import numpy as np

__all__ = ["block_lists", "pathways"]

#: Presynaptic cells (within the block) of each of the 8 postsynaptic cells.
GPE_TO_STN = ((1, 4), (0, 5), (3, 7), (2, 6), (1, 5), (0, 4), (2, 7), (3, 6))
GPE_TO_GPE = ((1, 2), (0, 4), (3, 7), (0, 2), (5, 6), (1, 4), (2, 7), (3, 6))
STN_TO_GPE = ((3, 7), (2, 6), (0, 4), (1, 5), (3, 7), (2, 6), (1, 4), (0, 5))
#: The STN cell of the partner block that each GPe cell also receives, at weight 0.2.
STN_TO_GPE_CROSS = (7, 6, 0, 1, 3, 2, 4, 5)
CROSS_WEIGHT = 0.2
#: GPi cells (0–15 within a block pair) onto TC cell 0 and TC cell 1 of the pair.
GPI_TO_TC = ((0, 1, 4, 5, 8, 9, 12, 13), (2, 3, 6, 7, 10, 11, 14, 15))


def block_lists(n: int) -> int:
    """The number of 8-cell blocks of ``n`` cells per nucleus; ``ValueError`` unless ``n``
    is a positive multiple of 8."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 8 or n % 8:
        raise ValueError(f"n_per_nucleus must be a positive multiple of 8 (the published"
                         f" connectivity comes in blocks of 8), got {n!r}")
    return int(n) // 8


def _tile(lists, n_blocks: int, partner: bool = False):
    pre, post = [], []
    for b in range(n_blocks):
        source = (b + 1) % n_blocks if partner else b
        for k, sources in enumerate(lists):
            for j in np.atleast_1d(sources):
                pre.append(8 * source + int(j))
                post.append(8 * b + k)
    return np.asarray(pre), np.asarray(post)


def pathways(n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (pre, post)}``: within-nucleus indices (0..n−1; TC 0..n/8−1) of every
    synapse of each pathway for ``n`` cells per nucleus (a multiple of 8)."""
    n_blocks = block_lists(n)
    one_to_one = (np.arange(n), np.arange(n))
    tc_pre, tc_post = [], []
    for pair in range(0, n_blocks, 2):
        for t, sources in enumerate(GPI_TO_TC):
            for j in sources:
                if 8 * pair + j < n:
                    tc_pre.append(8 * pair + j)
                    tc_post.append(pair + t if n_blocks > 1 else t)
    return {"GPe_STN": _tile(GPE_TO_STN, n_blocks), "GPe_GPe": _tile(GPE_TO_GPE, n_blocks),
            "STN_GPe": _tile(STN_TO_GPE, n_blocks),
            "STN_GPe_cross": _tile(STN_TO_GPE_CROSS, n_blocks, partner=True),
            "STN_GPi": one_to_one, "GPe_GPi": one_to_one,
            "GPi_TC": (np.asarray(tc_pre), np.asarray(tc_post))}
