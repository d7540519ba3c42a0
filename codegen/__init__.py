"""Lowering of specs to kernels: spec → IR (``ir``) → passes (``passes``) → backend (``numpy_backend``,
``cupy_backend``) → emitted module (``generate``)."""

from optiforge import __version__

__all__ = ["__version__"]
