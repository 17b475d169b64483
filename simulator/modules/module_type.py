"""The type every module and view is an instance of, without the module class itself.

``Module`` (in :mod:`simulator.modules.base`) is assembled from the operation mixins, so the
mixins and helpers cannot import it. They recognise modules with
``isinstance(x, ModuleType)`` instead: ``Module`` is its only direct subclass.
"""

from __future__ import annotations


class ModuleType:
    """Base class of :class:`~simulator.modules.base.Module` (compartments, branches, cells,
    networks and views); holds nothing."""
