"""Filter design at build time with ``scipy.signal``; only the filtering runs in JAX.

Designs are kept in neuroenv's disk cache, so only the first process on a machine imports
``scipy.signal`` for a given filter.

Coefficients are returned as tuples of Python floats (float64, hashable), so the filter
objects that hold them can be static arguments of ``jax.jit``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

#: A cascade of second-order sections: one ``(b0, b1, b2, a0, a1, a2)`` row per biquad,
#: ``a0 == 1`` (scipy's ``sos`` layout).
Sos = tuple[tuple[float, ...], ...]


def check_rate(fs: float, name: str = "fs") -> float:
    """Return ``fs`` (Hz) as a float; ValueError unless it is finite and > 0."""
    if isinstance(fs, bool) or not isinstance(fs, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number (Hz), got {fs!r}")
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"{name} must be a finite sampling rate > 0 Hz, got {fs!r}")
    return float(fs)


def check_order(order: int) -> int:
    """Return the filter ``order``; ValueError unless it is an int >= 1."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order!r}")
    return int(order)


def _check_cutoff(value: float, name: str, fs: float) -> float:
    """Return ``value`` (Hz); ValueError unless 0 < value < fs / 2."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number (Hz), got {value!r}")
    if not 0 < value < fs / 2:
        raise ValueError(
            f"{name} must lie strictly between 0 and the Nyquist frequency fs/2 = {fs / 2:g} Hz, "
            f"got {value!r}"
        )
    return float(value)


def _as_tuples(sos: np.ndarray) -> Sos:
    return tuple(tuple(float(c) for c in row) for row in np.asarray(sos, dtype=np.float64))


def check_sos(sos) -> Sos:
    """Return ``sos`` as a tuple of float rows; ValueError unless it is ``(n_sections, 6)``,
    finite, with ``a0 == 1`` in every section."""
    arr = np.asarray(sos, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6 or arr.shape[0] < 1:
        raise ValueError(f"sos must have shape (n_sections, 6), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or not np.allclose(arr[:, 3], 1.0):
        raise ValueError(f"sos must be finite with a0 == 1 in every section, got {arr.tolist()}")
    return _as_tuples(arr)


def butter_bandpass(fs: float, lo: float = 13.0, hi: float = 30.0, order: int = 2) -> Sos:
    """Butterworth band-pass ``lo``–``hi`` Hz at sampling rate ``fs`` Hz as biquads.

    ``order`` is scipy's order (the band-pass has ``order`` biquads, 2 * ``order`` poles).
    Raises ValueError unless ``0 < lo < hi < fs / 2``.
    """
    fs = check_rate(fs)
    lo = _check_cutoff(lo, "lo", fs)
    hi = _check_cutoff(hi, "hi", fs)
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got lo={lo!r} Hz, hi={hi!r} Hz")
    return _butter(check_order(order), (lo, hi), "bandpass", fs)


def butter_lowpass(fs: float, cutoff: float, order: int = 2) -> Sos:
    """Butterworth low-pass with corner ``cutoff`` Hz at sampling rate ``fs`` Hz as biquads.

    Raises ValueError unless ``0 < cutoff < fs / 2``.
    """
    fs = check_rate(fs)
    cutoff = _check_cutoff(cutoff, "cutoff", fs)
    return _butter(check_order(order), (cutoff,), "lowpass", fs)


@functools.lru_cache(maxsize=64)
def _butter(order: int, cutoffs: tuple[float, ...], btype: str, fs: float) -> Sos:
    """``scipy.signal.butter(..., output="sos")`` as tuples, kept in neuroenv's disk cache
    (:mod:`neuroenv.disk_cache`, keyed by the arguments and scipy's version): a warm
    process never imports ``scipy.signal`` (about 1 s: it pulls in scipy.stats, ...)."""
    from importlib.metadata import version

    from neuroenv import disk_cache

    key = repr((version("scipy"), order, tuple(float(c) for c in cutoffs), btype, float(fs)))
    path = disk_cache.entry("filters", key)
    stored = disk_cache.read(path)
    if stored is not None:
        try:
            return check_sos(stored)
        except ValueError:
            pass  # a damaged entry: design again and overwrite it
    import scipy.signal

    wn = cutoffs[0] if len(cutoffs) == 1 else list(cutoffs)
    sos = _as_tuples(scipy.signal.butter(order, wn, btype=btype, fs=fs, output="sos"))
    disk_cache.write(path, [list(row) for row in sos])
    return sos
