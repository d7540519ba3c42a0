"""Compile generated kernels with nvcc, without a GPU, from the source CuPy itself would compile.

Source, in order of preference:

1. ``"cupy"``: CuPy's own generator, ``cupy._core._kernel._get_elementwise_kernel_code`` (private; it
   needs no device), called with the argument descriptions CuPy builds at launch for contiguous arrays
   (``reduce_dims`` collapses them to 1-D, 32-bit indexing below 2**31 elements), plus CuPy's headers
   and compiler options (``assemble_cupy_compiler_options`` and the ``-ftz=true`` CuPy always adds).
2. ``"fallback"``: when CuPy is missing or that private API moved, :func:`.standalone.standalone_source`
   (same operation text in a plain grid-stride loop over raw pointers, ``__half``/``__nv_bfloat16``).

:func:`kernel_translation_unit` says which one it used. nvcc rather than NVRTC: the CUDA toolkit here
ships no libnvrtc; both front ends take the same options for this code.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy

from optiforge.runtime.cupy_support import KernelSource

from .standalone import StorageTypes, parse_params, standalone_source

__all__ = ["ARCHITECTURES", "TranslationUnit", "kernel_translation_unit", "cupy_kernel_code", "nvcc",
           "compile_translation_unit", "storage_dtype", "batch_translation_unit"]

#: Hopper and Ampere
ARCHITECTURES = ("sm_90", "sm_80")


@dataclass(frozen=True)
class TranslationUnit:
    text: str
    options: tuple[str, ...]
    origin: str  # "cupy" or "fallback"


def storage_dtype(name: str) -> numpy.dtype:
    """NumPy dtype for a storage dtype name (bfloat16 comes from ml_dtypes, as CuPy expects)."""
    if name == "bfloat16":
        import ml_dtypes
        return numpy.dtype(ml_dtypes.bfloat16)
    return numpy.dtype(name)


def cupy_kernel_code(source: KernelSource, types: StorageTypes, index_32_bits: bool = True) -> tuple[str, tuple[str, ...]]:
    """CuPy's exact kernel source and compiler options for contiguous arrays (raises if the API moved).

    ``index_32_bits=False`` is the variant CuPy builds for arrays of 2**31 elements or more.
    """
    import cupy
    from cupy._core import _carray, _kernel, _scalar, core

    kernel = cupy.ElementwiseKernel(source.in_params, source.out_params, source.operation, source.name)
    array_dtypes = {"G": storage_dtype(types.grad), "T": storage_dtype(types.param)}
    # _ArgInfo(arg_kind, type, dtype, ndim, c_contiguous, index_32_bits); kinds: 1 ndarray, 2 indexer, 3 scalar
    params = [(type_name, type_name == "G") for type_name, _ in parse_params(source.in_params)]  # G: the gradient
    params += [(type_name, True) for type_name, _ in parse_params(source.out_params)]  # param and state arrays
    arginfos = []
    for type_name, is_array in params:
        dtype = array_dtypes.get(type_name) or numpy.dtype(type_name)
        if is_array:
            arginfos.append(_kernel._ArgInfo(1, cupy.ndarray, dtype, 1, True, index_32_bits))
        else:
            arginfos.append(_kernel._ArgInfo(3, _scalar.CScalar, dtype, 0, True, True))
    arginfos.append(_kernel._ArgInfo(2, _carray.Indexer, None, 1, True, index_32_bits))
    if len(arginfos) != len(kernel.params):
        raise RuntimeError("CuPy's ElementwiseKernel.params no longer match the declared parameters")
    type_map = _kernel._TypeMap(tuple(sorted(array_dtypes.items())))
    code = _kernel._get_elementwise_kernel_code(tuple(arginfos), type_map, kernel.params, kernel.operation,
                                                kernel.name, kernel.preamble)
    headers = "".join(f"#include <{h}>\n" for h in core._cupy_header_list)
    return headers + code, tuple(core.assemble_cupy_compiler_options(())) + ("-ftz=true",)


def _fallback_options() -> tuple[str, ...]:
    cuda_home = os.environ.get("CUDA_HOME") or str(Path(shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc").resolve().parent.parent)
    return ("--std=c++17", f"-I{cuda_home}/include", "-ftz=true")


def kernel_translation_unit(source: KernelSource, types: StorageTypes, *, prefer_cupy: bool = True,
                            index_32_bits: bool = True) -> TranslationUnit:
    """The source to compile for ``source`` with storage ``types``; ``origin`` says which path built it.
    (The fallback always indexes with 64-bit integers.)"""
    if prefer_cupy:
        try:
            text, options = cupy_kernel_code(source, types, index_32_bits)
            return TranslationUnit(text, options, "cupy")
        except (ImportError, AttributeError, TypeError, RuntimeError):
            pass  # CuPy missing or its private API changed: the documented fallback below
    return TranslationUnit(standalone_source(source, types, "cuda"), _fallback_options(), "fallback")


def batch_translation_unit(sources, types: StorageTypes, *, prefer_cupy: bool = True) -> TranslationUnit:
    """Many kernels in one translation unit (one nvcc call per storage-type pair keeps CI fast).

    Each kernel's text is exactly what :func:`kernel_translation_unit` gives; repeated ``#include``s
    are guarded and repeated ``typedef``s name the same type, which C++ allows; kernel names are unique.
    """
    units = [kernel_translation_unit(source, types, prefer_cupy=prefer_cupy) for source in sources]
    origins = {unit.origin for unit in units}
    if len(origins) != 1:
        raise RuntimeError(f"mixed kernel sources {sorted(origins)}")
    return TranslationUnit("\n".join(unit.text for unit in units), units[0].options, origins.pop())


def nvcc() -> str | None:
    return shutil.which("nvcc")


def compile_translation_unit(text: str, options: tuple[str, ...], architectures=ARCHITECTURES,
                             workdir: Path | None = None) -> subprocess.CompletedProcess:
    """``nvcc -cubin`` for every architecture in one call (a fatbin); returns the finished process."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = Path(tmp) / "kernels.cu"
        path.write_text(text)
        gencode = [f"-gencode=arch=compute_{a[3:]},code={a}" for a in architectures]
        command = [nvcc(), "-fatbin", *gencode, *options, "-o", str(path.with_suffix(".fatbin")), str(path)]
        return subprocess.run(command, capture_output=True, text=True)
