"""Support for the generated CuPy modules: kernel sources, lazy kernel construction, argument checks.

Importing this module (and any ``optiforge.generated.cupy.<name>``) never imports CuPy; CuPy is imported the
first time a kernel or an array check is needed, with a clear error when it is not installed. Every
check runs before the launch, so a rejected call leaves parameters and state untouched.
"""
from __future__ import annotations

import contextlib
import functools
import numbers
from typing import NamedTuple

import numpy

from optiforge.generated import _runtime

__all__ = ["KernelSource", "cupy_module", "elementwise_kernel", "device_of", "as_stream", "launch", "check_arrays",
           "STORAGE_DTYPES"]

#: arithmetic precision → parameter storage dtypes it serves (see ``_runtime.compute_dtype``)
STORAGE_DTYPES = {"float32": ("float16", "bfloat16", "float32"), "float64": ("float64",)}


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


def device_of(array, optimizer: str = "cupy backend"):
    """Context manager making ``array``'s device current (allocations and launches go there); a TypeError
    naming ``optimizer`` when ``array`` is not a CuPy array."""
    cupy = cupy_module()
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"{optimizer}: the cupy backend takes cupy.ndarray arrays on a CUDA device, got "
                        f"{type(array).__module__}.{type(array).__name__} (NumPy arrays: backend='numpy')")
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
    """Run the kernel of ``source`` on ``grad``'s device, ``(grad, *scalars, param, *state)`` in place, on
    ``stream`` (see :func:`as_stream`; default: CuPy's current stream)."""
    stream = as_stream(stream)
    with device_of(grad), stream if stream is not None else contextlib.nullcontext():
        elementwise_kernel(source)(grad, *arguments)


def _check_array(cupy, optimizer: str, what: str, array, *, device, shape=None, dtype=None) -> None:
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"{optimizer}: {what} must be a cupy.ndarray, got {type(array).__name__}")
    if array.dtype.kind != "f" and array.dtype.name != "bfloat16":
        raise TypeError(f"{optimizer}: {what} must have a floating dtype, got {array.dtype}")
    if device is not None and array.device.id != device:
        raise ValueError(f"{optimizer}: {what} is on device {array.device.id}, expected {device} (the param's)")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{optimizer}: {what} has shape {array.shape}, expected {shape} (the param's shape)")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{optimizer}: {what} has dtype {array.dtype}, expected {dtype}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{optimizer}: {what} must be C-contiguous (use cupy.ascontiguousarray)")


def check_arrays(optimizer: str, param, grad, state: dict, array_state: tuple, scalar_state: tuple) -> numpy.dtype:
    """Validate param, grad and state (type, device, dtype, shape, contiguity, aliasing); return the
    arithmetic dtype, which is also the state dtype (float32 for float16/bfloat16 parameters)."""
    cupy = cupy_module()
    _check_array(cupy, optimizer, "param", param, device=None)
    dtype = _runtime.compute_dtype(optimizer, param.dtype)
    device = param.device.id
    _check_array(cupy, optimizer, "grad", grad, device=device, shape=param.shape)
    if not isinstance(state, dict):
        raise TypeError(f"{optimizer}: state must be the dict returned by init_state, got {type(state).__name__}")
    missing = sorted(set(array_state + scalar_state) - set(state))
    if missing:
        raise KeyError(f"{optimizer}: state is missing {', '.join(missing)} (create it with init_state)")
    arrays = [param, grad]
    for name in array_state:
        _check_array(cupy, optimizer, f"state[{name!r}]", state[name], device=device, shape=param.shape, dtype=dtype)
        if any(cupy.may_share_memory(state[name], other) for other in arrays):
            raise ValueError(f"{optimizer}: state[{name!r}] shares memory with param, grad or other state")
        arrays.append(state[name])
    if cupy.may_share_memory(param, grad):
        raise ValueError(f"{optimizer}: param and grad share memory")
    for name in scalar_state:
        if not isinstance(state[name], numbers.Real):
            raise TypeError(f"{optimizer}: state[{name!r}] must be a real number, got {state[name]!r}")
    return dtype
