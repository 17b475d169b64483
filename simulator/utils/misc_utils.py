"""Small array helpers under jaxley's ``jaxley.utils.misc_utils`` path."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum_leading_zero"]


def cumsum_leading_zero(array) -> np.ndarray:
    """``[0, a0, a0 + a1, ...]``: the cumulative sum with a leading zero.

    Args:
        array: 1-D sequence of numbers, shape (n,), e.g. compartments per branch.

    Returns:
        numpy array of shape (n + 1,) with the dtype of ``array`` (so the offsets of
        consecutive blocks of the given sizes).
    """
    values = np.asarray(array)
    if values.ndim != 1:
        raise ValueError(f"cumsum_leading_zero: array must be 1-D, got shape {values.shape}")
    out = np.zeros(len(values) + 1, dtype=values.dtype)
    np.cumsum(values, out=out[1:])
    return out
