"""Argument checks shared by envs and tasks (raised before any tracing)."""

from __future__ import annotations


def positive_int(name: str, value, types=int) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` unless it is an instance of
    ``types`` (never a bool) and at least 1."""
    if isinstance(value, bool) or not isinstance(value, types) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)
