"""Puts this folder on ``sys.path`` so that tests in its subfolders import the shared NEURON
builders (``neuron_models``, ``neuron_swc``) by name, as ``bench/swc_vs_reference.py`` does."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
