"""Torch tensors as the arrays the generated kernels take, without copies.

A kernel is elementwise, so it can run on any dense tensor through a 1-D view of its elements in memory
order, provided the parameter, its gradient and its state share one layout (:func:`memory_order`).
CPU tensors become NumPy views (``Tensor.numpy``; bfloat16 through ``ml_dtypes``), CUDA tensors CuPy
views (DLPack), launched on torch's current stream (:func:`cuda_launch`). DTensor parameters (FSDP2)
are updated through their local shards (:func:`local`).
"""
from __future__ import annotations

import contextlib
import sys

import numpy
import torch

__all__ = ["SUPPORTED_DTYPES", "local", "is_dtensor", "memory_order", "elements", "numpy_array", "cupy_array",
           "cuda_launch", "state_dtype", "ParameterArrays"]

#: Parameter dtypes the generated kernels take (float16/bfloat16 compute in float32, with float32 state).
SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def state_dtype(dtype: torch.dtype) -> torch.dtype:
    """Arithmetic and state dtype for a parameter dtype (as ``optiforge.generated._runtime.compute_dtype``)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def is_dtensor(tensor) -> bool:
    # No DTensor exists before torch.distributed.tensor is imported (importing it costs torch.fx and SymPy).
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(tensor, module.DTensor)


def local(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor whose memory holds this process's elements: a DTensor's local shard, else the tensor."""
    return tensor._local_tensor if is_dtensor(tensor) else tensor


def memory_order(tensor: torch.Tensor) -> tuple[int, ...] | None:
    """Dimensions ordered so that ``tensor.permute(order)`` is contiguous (channels-last and other dense
    layouts), or None when the tensor does not cover its memory densely."""
    if tensor.is_contiguous():
        return tuple(range(tensor.ndim))
    order = tuple(sorted(range(tensor.ndim), key=lambda d: -tensor.stride(d)))
    return order if tensor.permute(order).is_contiguous() else None


def elements(tensor: torch.Tensor, order: tuple[int, ...]) -> torch.Tensor | None:
    """``tensor`` permuted to the memory order ``order``, contiguous (its elements in memory order), or None
    when its layout differs from the one ``order`` describes."""
    permuted = tensor.detach()
    if order != tuple(range(tensor.ndim)):
        permuted = permuted.permute(order)
    return permuted if permuted.is_contiguous() else None


def numpy_array(tensor: torch.Tensor) -> numpy.ndarray:
    """A NumPy view of a CPU tensor (bfloat16 as ``ml_dtypes.bfloat16``, the dtype the kernels take)."""
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes  # checked when the parameter is added

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def cupy_array(tensor: torch.Tensor):
    """A CuPy view of a CUDA tensor through DLPack. No stream synchronisation: every kernel runs on torch's
    current stream (see :func:`cuda_launch`)."""
    from optiforge.generated._cupy_runtime import cupy_module

    cupy = cupy_module()
    try:
        return cupy.from_dlpack(tensor.__dlpack__(stream=-1))
    except (TypeError, ValueError, BufferError, RuntimeError):
        if tensor.dtype != torch.bfloat16:
            raise
    import ml_dtypes  # a CuPy whose DLPack import does not know bfloat16: the same bits as int16

    return cupy.from_dlpack(tensor.view(torch.int16).__dlpack__(stream=-1)).view(ml_dtypes.bfloat16)


def _torch_allocation(size: int):
    """CuPy memory from torch's caching allocator, so that state created by a kernel module's ``init_state``
    is ordinary torch memory on torch's stream."""
    from optiforge.generated._cupy_runtime import cupy_module

    cupy = cupy_module()
    device = cupy.cuda.Device().id
    block = torch.empty(size, dtype=torch.uint8, device=f"cuda:{device}")
    return cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(block.data_ptr(), size, block, device), 0)


_STREAMS: dict[tuple[int, int], object] = {}


@contextlib.contextmanager
def cuda_launch(device: torch.device):
    """Make ``device`` current for torch and CuPy, CuPy's current stream torch's current stream on it, and
    CuPy allocate from torch; yields that (CuPy) stream."""
    from optiforge.generated._cupy_runtime import cupy_module

    cupy = cupy_module()
    index = device.index if device.index is not None else torch.cuda.current_device()
    pointer = torch.cuda.current_stream(index).cuda_stream
    key = (index, pointer)
    if key not in _STREAMS:
        _STREAMS[key] = cupy.cuda.ExternalStream(pointer, index)
    stream = _STREAMS[key]
    with torch.cuda.device(index), cupy.cuda.Device(index), stream, cupy.cuda.using_allocator(_torch_allocation):
        yield stream


class ParameterArrays:
    """The kernel arrays of one parameter (or its local shard) and its state tensors, reused while they
    stay the same tensors: ``param`` and ``state[name]`` in the memory order ``order``."""

    __slots__ = ("pointer", "shape", "stride", "tensors", "order", "param", "state")

    def __init__(self, shard: torch.Tensor, state: dict, names: tuple, convert):
        self.pointer, self.shape, self.stride = shard.data_ptr(), shard.shape, shard.stride()
        self.tensors = tuple(state[name] for name in names)
        self.order = memory_order(shard)
        if self.order is None:
            raise ValueError(f"a parameter does not cover its memory densely (strides {shard.stride()})")
        self.param = convert(elements(shard, self.order))
        self.state = {name: convert(elements(local(tensor), self.order)) for name, tensor in zip(names, self.tensors)}

    def current(self, shard: torch.Tensor, state: dict, names: tuple) -> bool:
        """Do these arrays still view ``shard`` and ``state``?"""
        return (shard.data_ptr() == self.pointer and shard.shape == self.shape and shard.stride() == self.stride
                and all(state[name] is tensor for name, tensor in zip(names, self.tensors)))
