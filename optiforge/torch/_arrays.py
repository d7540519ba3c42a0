"""Torch tensors as the arrays the generated kernels take, without copies.

A kernel is elementwise, so it can run on any dense tensor through a view of it permuted to memory
order (contiguous), provided the parameter, its gradient and its state share one layout (:func:`memory_order`).
CPU tensors become NumPy views (``Tensor.numpy``; bfloat16 through ``ml_dtypes``), CUDA tensors CuPy
views (DLPack), launched on torch's current stream (:func:`cuda_launch`). DTensor parameters (FSDP2)
are updated through their local shards (:func:`local`).
"""
from __future__ import annotations

import contextlib
import sys

import numpy
import torch

__all__ = ["SUPPORTED_DTYPES", "local", "is_dtensor", "memory_order", "numpy_array", "cupy_array",
           "cuda_launch", "state_dtype", "ParameterArrays"]

#: Parameter dtypes the generated kernels take (float16/bfloat16 compute in float32, with float32 state).
SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def state_dtype(dtype: torch.dtype) -> torch.dtype:
    """Arithmetic and state dtype for a parameter dtype (as ``optiforge.runtime.kernel_support.compute_dtype``)."""
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


def numpy_array(tensor: torch.Tensor) -> numpy.ndarray:
    """A NumPy view of a CPU tensor (bfloat16 as ``ml_dtypes.bfloat16``, the dtype the kernels take)."""
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes  # checked when the parameter is added

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def cupy_array(tensor: torch.Tensor):
    """A CuPy view of a CUDA tensor through DLPack. No stream synchronisation: every kernel runs on torch's
    current stream (see :func:`cuda_launch`)."""
    from optiforge.runtime.cupy_support import cupy_module

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
    from optiforge.runtime.cupy_support import cupy_module

    cupy = cupy_module()
    device = cupy.cuda.Device().id
    block = torch.empty(size, dtype=torch.uint8, device=f"cuda:{device}")
    return cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(block.data_ptr(), size, block, device), 0)


_STREAMS: dict[tuple[int, int], object] = {}


@contextlib.contextmanager
def cuda_launch(device: torch.device):
    """Make ``device`` current for torch and CuPy, CuPy's current stream torch's current stream on it, and
    CuPy allocate from torch; yields that (CuPy) stream."""
    from optiforge.runtime.cupy_support import cupy_module

    cupy = cupy_module()
    index = device.index if device.index is not None else torch.cuda.current_device()
    current = torch.cuda.current_stream(index)
    key = (index, current.cuda_stream)
    if key not in _STREAMS:
        _STREAMS[key] = cupy.cuda.Stream.from_external(current)  # the CUDA stream protocol
    stream = _STREAMS[key]
    with torch.cuda.device(index), cupy.cuda.Device(index), stream, cupy.cuda.using_allocator(_torch_allocation):
        yield stream


class ParameterArrays:
    """The kernel arrays of one parameter (or its local shard) and its state tensors, reused while they
    stay the same tensors: ``param`` and ``state[name]``, permuted by ``order`` to memory order (None:
    already contiguous)."""

    __slots__ = ("pointer", "shape", "stride", "tensors", "order", "param", "state", "convert", "checked",
                 "storages")

    def __init__(self, shard: torch.Tensor, state: dict, names: tuple, convert):
        self.pointer, self.shape, self.stride = shard.data_ptr(), shard.shape, shard.stride()
        self.tensors = tuple(state[name] for name in names)
        order = memory_order(shard)
        if order is None:
            raise ValueError(f"a parameter does not cover its memory densely (strides {shard.stride()})")
        self.order = None if order == tuple(range(shard.ndim)) else order
        self.convert = convert
        self.param = convert(self._in_order(shard))
        self.state = {name: convert(self._in_order(local(tensor))) for name, tensor in zip(names, self.tensors)}
        #: the compute dtype once a checked kernel call passed on these arrays (then a call may skip the
        #: kernel's own checks of them: see :meth:`apart_from`)
        self.checked = None
        self.storages = frozenset(local(t).untyped_storage().data_ptr() for t in (shard, *self.tensors))

    def _in_order(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.detach()
        return tensor if self.order is None else tensor.permute(self.order)

    def current(self, shard: torch.Tensor, state: dict, names: tuple) -> bool:
        """Do these arrays still view ``shard`` and ``state``?"""
        if shard.data_ptr() != self.pointer or shard.stride() != self.stride or shard.shape != self.shape:
            return False
        for name, tensor in zip(names, self.tensors):
            if state.get(name) is not tensor:
                return False
        return True

    def apart_from(self, grad: torch.Tensor) -> bool:
        """Does ``grad`` (a local tensor) use memory of none of these arrays? (What the kernel's aliasing check
        would find of a gradient; one that shares a storage goes through that check.)"""
        return grad.untyped_storage().data_ptr() not in self.storages

    def gradient(self, grad: torch.Tensor):
        """The kernel array of a gradient (its local shard), in the parameter's memory order; a gradient
        laid out unlike the parameter is copied into the parameter's layout first."""
        in_order = self._in_order(grad)
        if not in_order.is_contiguous():
            copy = torch.empty_strided(self.shape, self.stride, dtype=grad.dtype, device=grad.device)
            in_order = self._in_order(copy.copy_(grad))
        return self.convert(in_order)
