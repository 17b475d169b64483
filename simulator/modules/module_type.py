"""The type every module and view is an instance of, without the module class itself.

``Module`` (in :mod:`simulator.modules.base`) delegates to the operation functions, so they
cannot import it. They recognise modules with ``isinstance(x, ModuleType)`` instead:
``Module`` is its only direct subclass.
"""

from __future__ import annotations


class ModuleType:
    """Base class of :class:`~simulator.modules.base.Module` (compartments, branches, cells,
    networks and views); holds nothing."""
