r"""Run a generated CuPy module on the CPU: its kernels compiled as C++ by g++, called through ctypes.

:func:`emulate` returns the module's own ``init_state``/``step`` functions (the generated Python code,
unchanged) bound to a stand-in for ``optiforge.runtime.cupy_support`` that takes NumPy arrays and launches
the operation text compiled for the host by :func:`.standalone.standalone_source`. So the per-step
host scalars, the argument order, the scalar types and every kernel statement are the ones a GPU runs.

Host build: ``g++ -O2 -ffp-contract=off`` — no FMA contraction and IEEE division/sqrt, so a float32
kernel rounds exactly like op-by-op NumPy for the same expression order. A GPU differs from it by

* FMA contraction (nvcc's default ``--fmad=true``): :math:`a\,b + c` rounded once, about 1 ulp per
  contracted pair on roughly half of the elements;
* flush-to-zero (CuPy passes ``-ftz=true``): float32 subnormals become 0 (states that decay as
  :math:`\beta^k` reach subnormals after hundreds of zero-gradient steps);
* division and sqrt stay IEEE-rounded (no ``-use_fast_math`` in CuPy's options).
"""
from __future__ import annotations

import contextlib
import ctypes
import shutil
import subprocess
import tempfile
import types
from pathlib import Path

import numpy

from optiforge.runtime import kernel_support
from optiforge.runtime.backends import PRECISIONS
from optiforge.runtime.cupy_support import KernelSource

from .compile_check import storage_dtype
from .standalone import StorageTypes, parse_params, standalone_source

__all__ = ["GXX_FLAGS", "gxx", "build_library", "HostRuntime", "emulate", "host_arrays"]

GXX_FLAGS = ("-O2", "-ffp-contract=off", "-std=c++17", "-shared", "-fPIC")
_SCALAR_CTYPES = {"float32": ctypes.c_float, "float64": ctypes.c_double, "bool": ctypes.c_bool}


def gxx() -> str | None:
    return shutil.which("g++")


def build_library(sources: list[KernelSource], storage: StorageTypes, directory: Path) -> ctypes.CDLL:
    """Compile ``sources`` for the host into one shared library (one g++ call)."""
    text = standalone_source(sources, storage, "host")
    name = f"host_{storage.param}_{storage.grad}"
    cc, so = directory / f"{name}.cc", directory / f"{name}.so"
    cc.write_text(text)
    process = subprocess.run([gxx(), *GXX_FLAGS, "-o", str(so), str(cc)], capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"g++ failed on {cc}:\n{process.stderr[-4000:]}")
    return ctypes.CDLL(str(so))


class HostRuntime:
    """Stand-in for ``optiforge.runtime.cupy_support`` on NumPy arrays (one per test session; compiled libraries
    live in a temporary directory and are reused only within the process)."""

    def __init__(self, sources_by_precision: dict[str, list[KernelSource]]):
        self._sources = sources_by_precision
        self._directory = tempfile.TemporaryDirectory(prefix="optiforge_host_")
        self._libraries: dict[tuple[str, str, str], ctypes.CDLL] = {}
        #: every launch: (kernel source, {scalar name: value as passed}, number of elements)
        self.launches: list[tuple[KernelSource, dict, int]] = []
        #: the ``stream`` argument of every launch
        self.streams: list = []

    @staticmethod
    def cupy_module():
        return numpy

    @staticmethod
    def device_of(array, optimizer: str = "host emulation"):
        if not isinstance(array, numpy.ndarray):
            raise TypeError(f"{optimizer}: host emulation takes numpy.ndarray arrays, got {type(array).__name__}")
        return contextlib.nullcontext()

    @staticmethod
    def array_library():
        return kernel_support.NUMPY

    @staticmethod
    def as_stream(stream):
        return stream  # recorded by launch, never used

    def attach(self, precision: str, storage: StorageTypes, library: ctypes.CDLL) -> None:
        """Use ``library`` (from :func:`build_library`, e.g. built in another thread) for ``precision``
        with these storage dtypes instead of compiling on first launch."""
        self._libraries[(precision, storage.param, storage.grad)] = library

    def _library(self, precision: str, param: str, grad: str) -> ctypes.CDLL:
        key = (precision, param, grad)
        if key not in self._libraries:
            self._libraries[key] = build_library(self._sources[precision], StorageTypes(param, grad),
                                                 Path(self._directory.name))
        return self._libraries[key]

    def launch(self, source: KernelSource, grad, *arguments, stream=None) -> None:
        param = arguments[len(parse_params(source.in_params)) - 1]  # after grad, the inputs and the scalars
        self.streams.append(stream)
        assert param.dtype.name in PRECISIONS[source.precision], (source.name, param.dtype)
        self.launches.append((source, dict(zip(source.scalars, arguments)), param.size))
        kernel = getattr(self._library(source.precision, param.dtype.name, grad.dtype.name), source.name)
        params = parse_params(source.in_params) + parse_params(source.out_params)
        c_arguments = []
        for (type_name, name), value in zip(params, (grad,) + arguments, strict=True):
            if isinstance(value, numpy.ndarray):
                assert value.flags.c_contiguous
                c_arguments.append(ctypes.c_void_p(value.ctypes.data))
            else:
                c_arguments.append(_SCALAR_CTYPES[type_name](value))
        kernel(*c_arguments, ctypes.c_longlong(param.size))


def emulate(module, runtime: HostRuntime) -> types.SimpleNamespace:
    """A generated CuPy module running on the host through ``runtime``: its constants (``NAME``,
    ``HYPERPARAMETERS``, ``DOMAINS``, ``STATE``, ``SCALAR_STATE``, ``KERNELS``) and its own functions
    (``init_state``, ``step``, ``step_unchecked``, ``array_library``), calling each other's rebound versions."""
    namespace = dict(vars(module), _cupy_runtime=runtime)
    for name, value in vars(module).items():
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            function = namespace[name] = types.FunctionType(value.__code__, namespace, name, value.__defaults__)
            function.__kwdefaults__ = value.__kwdefaults__
    return types.SimpleNamespace(**{name: value for name, value in namespace.items() if not name.startswith("__")})


def host_arrays(dtype_name: str, values) -> numpy.ndarray:
    """``values`` rounded to a storage dtype (bfloat16 via ml_dtypes)."""
    return numpy.ascontiguousarray(numpy.asarray(values).astype(storage_dtype(dtype_name)))
