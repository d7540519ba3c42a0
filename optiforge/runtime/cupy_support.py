"""Support for the generated CuPy modules: kernel sources, lazy kernel construction, CuPy arrays as the
argument checks of :mod:`optiforge.runtime.kernel_support` see them. A stable module: every emitted CuPy
module imports it as ``_cupy_runtime``.

Importing this module (and any ``optiforge.generated.cupy.<name>``) never imports CuPy; CuPy is imported the
first time a kernel or an array check is needed, with a clear error when it is not installed. Every
check runs before the launch, so a rejected call leaves parameters and state untouched.
"""
from __future__ import annotations

import contextlib
import functools
from typing import NamedTuple

import numpy

from optiforge.runtime import kernel_support

__all__ = ["KernelSource", "cupy_module", "elementwise_kernel", "device_of", "as_stream", "launch", "array_library"]


class KernelSource(NamedTuple):
    """Arguments of ``cupy.ElementwiseKernel`` for one optimizer and one arithmetic precision.

    ``in_params`` = ``G grad`` then the per-step scalars named in ``scalars`` (arithmetic type, or
    ``bool`` for host-side conditions); ``out_params`` = ``T param`` then the array state (arithmetic
    type), read and written in place. ``T``/``G`` are CuPy type placeholders for the storage dtypes.
    """

    name: str
    in_params: str
    out_params: str
    operation: str
    scalars: tuple
    precision: str


def cupy_module():
    """``import cupy``, or an ImportError that says how to get it."""
    try:
        import cupy
    except ImportError as error:
        raise ImportError("optiforge's cupy backend needs CuPy: pip install 'optiforge[cuda]' "
                          "(cupy-cuda13x) on a machine with an NVIDIA GPU") from error
    return cupy


@functools.lru_cache(maxsize=None)
def elementwise_kernel(source: KernelSource):
    """The ``cupy.ElementwiseKernel`` for ``source`` (built once per process; CuPy caches binaries)."""
    cupy = cupy_module()
    return cupy.ElementwiseKernel(source.in_params, source.out_params, source.operation, source.name)


#: What a non-CuPy array is told (here and in ``kernel_support``'s checks, which add the argument's name).
WRONG_TYPE = "the cupy backend takes cupy.ndarray arrays on a CUDA device, got {got} (NumPy arrays: backend='numpy')"


def device_of(array, optimizer: str = "cupy backend"):
    """Context manager making ``array``'s device current (allocations and launches go there); a TypeError
    naming ``optimizer`` when ``array`` is not a CuPy array."""
    cupy = cupy_module()
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"{optimizer}: " + WRONG_TYPE.format(got=kernel_support.type_name(array)))
    return array.device


def as_stream(stream):
    """``stream`` as a CuPy stream: a CuPy stream itself; a foreign stream implementing the CUDA stream
    protocol (``__cuda_stream__``, e.g. ``torch.cuda.Stream``) wrapped by ``cupy.cuda.Stream.from_external``;
    None for CuPy's current stream."""
    cupy = cupy_module()
    if stream is None or isinstance(stream, (cupy.cuda.Stream, cupy.cuda.ExternalStream)):
        return stream
    if not hasattr(stream, "__cuda_stream__"):
        raise TypeError(f"stream must be a cupy.cuda.Stream or implement the CUDA stream protocol "
                        f"(__cuda_stream__, e.g. torch.cuda.Stream), got {type(stream).__name__}")
    return cupy.cuda.Stream.from_external(stream)


def launch(source: KernelSource, grad, *arguments, stream=None):
    """Run the kernel of ``source`` on ``grad``'s device, ``(grad, *inputs, *scalars, param, *state)`` in place, on
    ``stream`` (see :func:`as_stream`; default: CuPy's current stream)."""
    stream = as_stream(stream)
    with device_of(grad), stream if stream is not None else contextlib.nullcontext():
        elementwise_kernel(source)(grad, *arguments)


@functools.lru_cache(maxsize=None)
def array_library() -> kernel_support.ArrayLibrary:
    """How ``kernel_support``'s argument checks (shared by every backend) see CuPy arrays: type, memory, device."""
    cupy = cupy_module()
    return kernel_support.ArrayLibrary("cupy.ndarray", cupy.ndarray, (), cupy.may_share_memory,
                                 lambda array: array.data.ptr, lambda array: array.device.id,
                                 "cupy.ascontiguousarray", type_message=WRONG_TYPE + " for {what}")
