"""The runtime: the hand-written support every generated kernel module imports, and the NumPy-only
:class:`Optimizer` over those modules. A stable, documented package: emitted modules (the catalogue's in
``optiforge.generated`` and users' ``optiforge generate --out`` packages) depend on it, never on the generator.

Modules:

* :mod:`optiforge.runtime.kernel_support`: argument checks, hyperparameter domains, scratch buffers and
  blocking; every emitted module imports it as ``_runtime`` (a leading underscore, so that no spec name can
  shadow it);
* :mod:`optiforge.runtime.numba_support`, :mod:`optiforge.runtime.cupy_support`: compiling, caching and running
  the numba loops; CuPy kernel sources, launches and arrays (imported by the emitted numba and CuPy modules as
  ``_numba_runtime`` and ``_cupy_runtime``; numba and CuPy themselves load at first use);
* :mod:`optiforge.runtime.flat`: the one flat-buffer layout (:class:`FlatLayout`) and the multi-tensor state
  of ``Optimizer(flat=True)``; the torch adapter's flat mode uses the same layout;
* :mod:`optiforge.runtime.optimizer`: :class:`Optimizer`, :func:`kernel_module`, :func:`available`;
* :mod:`optiforge.runtime.backends`: the one registry of backends and precisions;
* :mod:`optiforge.runtime.legacy`: the import aliases that keep packages emitted by optiforge 0.1.0 (which
  import ``optiforge.generated._runtime`` and its siblings) working.

Allowed imports: NumPy, and the runtime's own modules. The one edge back up is a spec object (or a spec
registered at run time) given to :class:`Optimizer`: its kernel is built by the code generator, reached through
the front door (``optiforge.kernel_for``), never imported here. The names below load on first use, so
``import optiforge.runtime`` costs nothing until one is used.
"""
from __future__ import annotations

from optiforge.runtime.lazy import lazy_attributes

#: public name → the runtime module that defines it (imported on first access)
_EXPORTS = {
    "Optimizer": "optiforge.runtime.optimizer",
    "kernel_module": "optiforge.runtime.optimizer",
    "available": "optiforge.runtime.optimizer",
    "UnknownOptimizerError": "optiforge.runtime.optimizer",
    "STATE_DICT_FORMAT": "optiforge.runtime.optimizer",
    "STATE_DICT_VERSION": "optiforge.runtime.optimizer",
    "MultiTensor": "optiforge.runtime.flat",
    "FlatBuffer": "optiforge.runtime.flat",
    "FlatLayout": "optiforge.runtime.flat",
    "BACKENDS": "optiforge.runtime.backends",
    "PRECISIONS": "optiforge.runtime.backends",
    "STORAGE_DTYPES": "optiforge.runtime.backends",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, globals())
