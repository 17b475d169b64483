"""Small JSON results kept between processes in neuroenv's cache folder.

A new process rebuilds what an env needs before its first step. Results that are pure
functions of their arguments and of installed library versions (gymnasium space bounds,
filter coefficients) are stored as one JSON file each under
``compilation_cache.cache_root() / kind``, named by a digest of their key, so a second
process reads them instead of recomputing them (and of importing what computes them:
``scipy.signal`` alone costs about a second). ``NEUROENV_COMPILATION_CACHE=0`` turns
this off with the compilation cache. Unreadable or missing files count as misses; failed
writes are ignored (a read-only folder only costs the recomputation next time).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from neuroenv import compilation_cache


def entry(kind: str, key: str) -> Path | None:
    """The file of ``key`` (any string) among the ``kind`` entries, or ``None`` when the
    caches are switched off."""
    if compilation_cache.switched_off():
        return None
    name = hashlib.sha256(key.encode()).hexdigest()
    return compilation_cache.cache_root() / kind / f"{name}.json"


def read(path: Path | None):
    """The JSON value stored at ``path``, or ``None`` (no path, missing or unreadable)."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write(path: Path | None, value) -> None:
    """Store ``value`` at ``path`` atomically (a temporary file, then a rename, so a
    concurrent reader never sees half a file); errors are ignored."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, path)
    except OSError:
        pass
