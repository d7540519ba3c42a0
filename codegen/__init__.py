"""Lowering of specs to kernels: spec → IR (``ir``) → passes (``passes``) → backend (``numpy_backend``,
``cupy_backend``, ``numba_backend``) → emitted module (``generate``). docs/architecture.md maps the stages."""

from optiforge import __version__

__all__ = ["__version__"]
