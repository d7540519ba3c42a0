"""Lowering of specs to kernels: spec → IR (``ir``) → passes (``passes``) → backend (``numpy_backend``,
``cupy_backend``) → emitted module (``generate``)."""

__version__ = "0.1.0"
