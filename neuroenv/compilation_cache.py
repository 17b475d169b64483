"""JAX's persistent compilation cache, on by default for neuroenv.

Every new process compiles an env's jitted reset and step before its first step (seconds).
JAX can keep compiled programs on disk and load them in later processes instead; importing
``neuroenv`` turns that on in a per-user folder:

- ``$NEUROENV_CACHE_DIR/jax`` if ``NEUROENV_CACHE_DIR`` is set, else
- ``$XDG_CACHE_HOME/neuroenv/jax`` (``~/.cache/neuroenv/jax`` when ``XDG_CACHE_HOME`` is
  unset; ``%LOCALAPPDATA%\\neuroenv\\jax`` on Windows).

Every program is cached, however small or fast to compile (``jax_persistent_cache_min_
compile_time_secs`` = 0, ``jax_persistent_cache_min_entry_size_bytes`` = -1): an env's first
step runs a few programs of a fraction of a second each, which the default thresholds (1 s)
would never store. The cache is keyed by JAX on the program, the JAX/XLA version and the
device, so a stale entry is never loaded.

Left alone when the user already configured it: if ``jax_compilation_cache_dir`` is set (by
``jax.config.update`` before ``import neuroenv`` or by the ``JAX_COMPILATION_CACHE_DIR``
variable), or ``jax_enable_compilation_cache`` is False, neuroenv changes nothing.

Turn it off with the environment variable ``NEUROENV_COMPILATION_CACHE=0`` (also ``false``,
``off``, ``no``) before importing neuroenv; this also turns off the cache of gymnasium
spaces in ``spaces/`` of the same folder (:mod:`neuroenv.space_probe`). Setting the cache
folder does not start JAX's backend (see :mod:`neuroenv.fork_guard`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jax

#: Environment variable that turns the cache off (``0``/``false``/``off``/``no``).
SWITCH = "NEUROENV_COMPILATION_CACHE"
#: Environment variable that moves neuroenv's cache folder (the JAX cache is its ``jax``).
DIR_VARIABLE = "NEUROENV_CACHE_DIR"
_OFF = ("0", "false", "off", "no")


def cache_root() -> Path:
    """neuroenv's per-user cache folder (see the module doc); JAX's cache is its ``jax``."""
    base = os.environ.get(DIR_VARIABLE)
    if base:
        return Path(base).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "neuroenv"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "neuroenv"


def default_cache_dir() -> Path:
    """The folder neuroenv gives JAX's persistent compilation cache (see module doc)."""
    return cache_root() / "jax"


def switched_off() -> bool:
    """Whether ``NEUROENV_COMPILATION_CACHE`` turns neuroenv's caches off."""
    return os.environ.get(SWITCH, "").strip().lower() in _OFF


def enable() -> Path | None:
    """Point JAX's persistent compilation cache at :func:`default_cache_dir` unless turned
    off or already configured.

    Returns:
        the folder set, or ``None`` when neuroenv left the configuration as it was.
    """
    if switched_off():
        return None
    if not jax.config.jax_enable_compilation_cache or jax.config.jax_compilation_cache_dir:
        return None
    path = default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home, ...: run without the cache rather than fail to import
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
