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

import functools
import hashlib
import importlib
import json
import os
import sys
from pathlib import Path

from neuroenv import compilation_cache


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """Digest of the Python, NumPy and JAX versions and of the installed ``neuroenv`` and
    ``simulator`` sources (sizes and modification times): a key that includes it never
    returns what an older version of the code computed."""
    import jax
    import numpy as np

    sha = hashlib.sha256(f"{sys.version}|{np.__version__}|{jax.__version__}".encode())
    for package in ("neuroenv", "simulator"):
        root = Path(importlib.import_module(package).__file__).parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                sha.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns};"
                           .encode())
    return sha.hexdigest()


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
