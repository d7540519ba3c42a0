"""The one registry of backends and precisions: what a kernel package holds and what its kernels compute in.

The code generator (one renderer per name in :data:`BACKENDS`, one kernel or loop per precision in
:data:`PRECISIONS`), the argument checks and the :class:`~optiforge.runtime.Optimizer` read these; nothing
else defines them.
"""
from __future__ import annotations

__all__ = ["BACKENDS", "FUNCTIONAL_BACKENDS", "STORAGE_DTYPES", "PRECISIONS"]

#: The backends of a kernel package, in the order the generator writes them: ``<package>.<backend>.<name>``.
BACKENDS = ("numpy", "cupy", "numba", "jax")

#: The backends whose kernels are pure functions returning new arrays (JAX): ``optiforge.optax`` runs them;
#: :class:`~optiforge.runtime.Optimizer`, which updates arrays in place, refuses them.
FUNCTIONAL_BACKENDS = ("jax",)

#: Parameter and gradient storage dtypes (native byte order).
STORAGE_DTYPES = ("float16", "bfloat16", "float32", "float64")

#: Arithmetic precision → the storage dtypes computed in it: lower precisions compute in float32, float64 in
#: float64 (state arrays have the arithmetic dtype).
PRECISIONS = {"float32": ("float16", "bfloat16", "float32"), "float64": ("float64",)}
