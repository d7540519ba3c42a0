"""A param group's CPU tensors in one compiled call: the numba modules' segment loops (``step_segments``) over a
table of the tensors' addresses, as torch's fused optimizers take lists of tensors.

The table (one row per parameter: the addresses of the parameter, its gradient and its state tensors) is built
once and reused while the parameters and state tensors stay the same; a step writes only the gradients'
addresses. A tensor joins when its storage is what the loop reads as a flat array of the arithmetic dtype: a
plain (not DTensor) CPU float32/float64 parameter, dense, with its gradient and state of its dtype and strides
(channels-last included: an elementwise step reads parameter, gradient and state in one memory order), and a
gradient that overlaps none of them. Others are stepped one tensor at a time.
"""
from __future__ import annotations

import numpy
import torch

from . import _arrays

__all__ = ["SEGMENT_DTYPES", "SegmentTable", "joins"]

#: Parameter dtypes the segment loops take (their arithmetic dtype; float16/bfloat16 go one tensor at a time).
SEGMENT_DTYPES = (torch.float32, torch.float64)


def joins(p: torch.Tensor) -> bool:
    """Can parameter ``p`` be stepped by a segment loop (given gradients :meth:`SegmentTable.accepts`)?"""
    return p.dtype in SEGMENT_DTYPES and p.device.type == "cpu" and not _arrays.is_dtensor(p)


class SegmentTable:
    """The addresses of ``params`` and their ``states[k][name]`` tensors (``names``, the spec's array state), and
    the segments that cover them (``optiforge.runtime.numba_support.segments``)."""

    __slots__ = ("params", "states", "steps", "tensors", "shapes", "ends", "strides", "dtype", "table", "segments")

    def __init__(self, params: list, states: list, names: tuple):
        from optiforge.runtime.numba_support import segments

        self.params = list(params)
        self.states = list(states)
        self.steps = [state["step"] for state in states]
        self.tensors = [tuple(state[name] for name in names) for state in states]
        self.dtype = numpy.dtype("float64" if params[0].dtype == torch.float64 else "float32")
        self.shapes = [p.shape for p in params]
        self.strides = [p.stride() for p in params]
        # every byte range the kernel writes, per parameter: a gradient must overlap none of them
        self.ends = [[(t.data_ptr(), t.data_ptr() + t.numel() * t.element_size()) for t in (p, *tensors)]
                     for p, tensors in zip(params, self.tensors)]
        self.table = numpy.array([[p.data_ptr(), 0, *(t.data_ptr() for t in tensors)]
                                  for p, tensors in zip(params, self.tensors)], dtype=numpy.int64)
        self.segments = segments([p.numel() for p in params])

    def current(self, params: list, states: list, names: tuple) -> bool:
        """Does the table still hold ``params``, their state tensors and step counters, where they were?"""
        if len(params) != len(self.params):
            return False
        for p, cached, state, step, tensors, ends in zip(params, self.params, states, self.steps, self.tensors,
                                                         self.ends):
            if p is not cached or p.data_ptr() != ends[0][0] or state.get("step") is not step:
                return False
            for name, tensor, (start, _) in zip(names, tensors, ends[1:]):
                if state.get(name) is not tensor or tensor.data_ptr() != start:
                    return False
        return True

    def holds(self, params: list, states: dict, names: tuple) -> bool:
        """:meth:`current` for a whole param group (``states``: the optimizer's state by parameter), also
        checking that every state entry is the dict the table was built from."""
        return (all(states.get(p) is state for p, state in zip(params, self.states))
                and self.current(params, self.states, names))

    def accepts(self, grads: list) -> bool:
        """Can every row read its gradient: a plain CPU tensor of the parameter's shape, dtype and strides, apart
        from everything the step writes (the parameter and its state)?"""
        for grad, p, shape, stride, ends in zip(grads, self.params, self.shapes, self.strides, self.ends):
            if (type(grad) is not torch.Tensor or grad.dtype != p.dtype or grad.shape != shape
                    or grad.stride() != stride or not grad.is_cpu):
                return False
            lo = grad.data_ptr()
            hi = lo + ends[0][1] - ends[0][0]  # the parameter's bytes: same shape, dtype and strides
            for start, end in ends:
                if lo < end and start < hi:
                    return False
        return True

    def set_gradients(self, grads: list) -> None:
        """Write the addresses of ``grads`` (one per row, which :meth:`accepts`) into the table."""
        self.table[:, 1] = [g.data_ptr() for g in grads]
