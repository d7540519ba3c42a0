"""Which generated module steps a tensor: a catalogue optimizer's modules from ``optiforge.generated``, a
user spec's modules built in memory (``optiforge.codegen.generate.load_module``, once per spec and backend),
or a kernel module given as is (its backend's tensors; other backends from the catalogue for a catalogue one).

CPU tensors run on the compiled CPU backend ``numba`` when it is generated and importable, else on ``numpy``
(``backend="auto"``, the default); CUDA tensors run on ``cupy``.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from optiforge.runtime import optimizer as runtime_optimizer

__all__ = ["CPU_BACKENDS", "KernelSet"]

#: CPU backends in order of preference for ``backend="auto"``.
CPU_BACKENDS = ("numba", "numpy")

_SPEC_MODULES: dict[tuple[str, str, str], ModuleType] = {}


def _spec_module(spec, backend: str) -> ModuleType:
    """``load_module(spec, backend)``, built once per spec (by fingerprint) and backend."""
    from optiforge.codegen.generate import BACKENDS, load_module

    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not generated here (have: {', '.join(BACKENDS)})")
    key = (spec.name, spec.fingerprint(), backend)
    if key not in _SPEC_MODULES:
        _SPEC_MODULES[key] = load_module(spec, backend)
    return _SPEC_MODULES[key]


def _is_spec(value) -> bool:
    if isinstance(value, (str, ModuleType)) or value is None:
        return False
    from optiforge.specs.dsl import OptimizerSpec  # SymPy: only when a spec object is given

    return isinstance(value, OptimizerSpec)


class KernelSet:
    """The generated modules of one optimizer, loaded on first use; ``reference`` (the NumPy module) carries
    the metadata: ``NAME``, ``HYPERPARAMETERS``, ``DOMAINS``, ``STATE``, ``SCALAR_STATE``."""

    def __init__(self, name_or_spec, backend: str | None = None):
        self._given: ModuleType | None = None
        if isinstance(name_or_spec, ModuleType) and hasattr(name_or_spec, "HYPERPARAMETERS"):
            # a kernel module (generated, or built by load_module): it runs its backend's tensors; the other
            # backends come from the catalogue when it is a catalogue optimizer's own module
            self._given = runtime_optimizer.checked_kernel(name_or_spec)
            self._name = self._given.NAME
            self._spec = None
        elif isinstance(name_or_spec, str):
            self._spec = None if name_or_spec in runtime_optimizer.available() else self._registered(name_or_spec)
            self._name = name_or_spec
        elif _is_spec(name_or_spec):
            self._spec, self._name = name_or_spec, name_or_spec.name
        else:
            raise TypeError(f"name_or_spec must be an optimizer name (str), an OptimizerSpec or a generated "
                            f"kernel module, got {type(name_or_spec).__name__}")
        if backend not in (None, "auto", *CPU_BACKENDS):
            raise ValueError(f"backend must be 'auto' (default), 'numba' or 'numpy' (the CPU backend; CUDA "
                             f"tensors always run on cupy), got {backend!r}")
        self.reference = self._given or self.module("numpy")
        self.name = self.reference.NAME
        given_backend = getattr(self._given, "BACKEND", None)
        if given_backend in CPU_BACKENDS and backend in (None, "auto", given_backend):
            self.cpu_backend, self.cpu = given_backend, self._given
        else:
            self.cpu_backend, self.cpu = self._choose_cpu(backend)
        self._cuda: ModuleType | None = None

    @staticmethod
    def _registered(name: str):
        """A spec added with ``optiforge.register`` (not generated on disk); unknown names raise KeyError."""
        from optiforge import specs

        if name in specs.names():
            return specs.get(name)
        runtime_optimizer.kernel_module(name)  # raises KeyError with the closest catalogue names
        raise AssertionError("unreachable")

    def module(self, backend: str) -> ModuleType:
        """The generated module for ``backend``; ImportError/ValueError when that backend is unavailable."""
        if self._spec is not None:
            return _spec_module(self._spec, backend)
        if self._given is not None:
            if getattr(self._given, "BACKEND", None) == backend:
                return self._given
            if self._given.__name__ != f"{runtime_optimizer.GENERATED_PACKAGE}.{self._given.BACKEND}.{self._name}":
                raise ImportError(f"a {self._given.BACKEND!r} kernel module of {self._name} was given; "
                                  f"{backend!r} tensors need its {backend!r} module (pass the spec instead)")
        return runtime_optimizer.kernel_module(self._name, backend)

    def _choose_cpu(self, backend: str | None) -> tuple[str, ModuleType]:
        if backend not in (None, "auto"):
            try:
                return backend, self.module(backend)
            except (ImportError, ValueError) as error:
                raise ImportError(f"{self.name}: the {backend!r} CPU backend is not available ({error}); "
                                  f"use backend='auto' to fall back to numpy") from error
        for candidate in CPU_BACKENDS:
            if candidate != "numpy" and importlib.util.find_spec(candidate) is None:
                continue  # e.g. numba not installed
            try:
                return candidate, self.module(candidate)
            except (ImportError, ValueError):  # not generated in this install, or its import failed
                continue
        raise AssertionError("the numpy backend is always available")

    @property
    def cuda(self) -> ModuleType:
        """The CuPy module (imports without CuPy; CuPy itself is needed to launch)."""
        if self._cuda is None:
            self._cuda = self.module("cupy")
        return self._cuda
