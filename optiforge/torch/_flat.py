"""Flat mode: a parameter group's tensors of one device and dtype in one buffer, their gradients in a second
and each state variable in a third, so that one kernel call steps them all.

The parameters become views of the buffer (``p.data``) and their ``.grad`` views of the gradient buffer, as
DDP does with ``gradient_as_bucket_view=True``; autograd accumulates into an existing ``.grad`` in place, so
the views survive ``backward``. Per-parameter state entries are views too: ``state[p]["m"]`` of the ``m``
buffer.
"""
from __future__ import annotations

from types import SimpleNamespace

import torch

from optiforge.runtime.flat import FlatLayout

from ._arrays import state_dtype

__all__ = ["FlatPartition"]


class FlatPartition:
    """The parameters ``params`` (one device, one dtype, in order) moved into flat buffers."""

    def __init__(self, params: list[torch.Tensor], positions: list[int], state_names: tuple):
        first = params[0]
        self.params, self.positions = params, positions
        self.device, self.dtype = first.device, first.dtype
        self.layout = FlatLayout(p.shape for p in params)
        self.offsets, total = self.layout.offsets, self.layout.size
        self.param_buffer = torch.empty(total, dtype=self.dtype, device=self.device)
        self.grad_buffer = torch.zeros(total, dtype=self.dtype, device=self.device)
        self.param_views = self._split(self.param_buffer)
        self.grad_views = self._split(self.grad_buffer)
        with torch.no_grad():
            for p, view, grad_view in zip(params, self.param_views, self.grad_views):
                view.copy_(p)
                if p.grad is not None:
                    grad_view.copy_(p.grad)
                p.data = view
                if p.requires_grad:
                    p.grad = grad_view
        arithmetic = state_dtype(self.dtype)
        self.state_buffers = {name: torch.zeros(total, dtype=arithmetic, device=self.device) for name in state_names}
        self.state_views = {name: self._split(buffer) for name, buffer in self.state_buffers.items()}
        self._arrays = None
        #: the spec's inputs besides the gradient: one buffer each, made at the first step that passes it
        self.input_buffers: dict[str, torch.Tensor] = {}

    def arrays(self, convert) -> SimpleNamespace:
        """Kernel arrays of the buffers (``param``, ``grad``, ``state[name]``), made once by ``convert``."""
        if self._arrays is None:
            self._arrays = SimpleNamespace(param=convert(self.param_buffer), grad=convert(self.grad_buffer),
                                           state={name: convert(b) for name, b in self.state_buffers.items()})
        return self._arrays

    def gather_input(self, name: str, tensors: list[torch.Tensor]) -> torch.Tensor:
        """The flat buffer of input ``name`` (in the dtype of ``tensors``, the gradients') holding ``tensors``,
        one per parameter, copied in."""
        buffer = self.input_buffers.get(name)
        if buffer is None or buffer.dtype != tensors[0].dtype:
            buffer = self.input_buffers[name] = torch.empty(self.layout.size, dtype=tensors[0].dtype,
                                                            device=self.device)
        for view, tensor in zip(self._split(buffer), tensors):
            view.copy_(tensor)
        return buffer

    def _split(self, buffer: torch.Tensor) -> list[torch.Tensor]:
        return self.layout.split(buffer)

    def state_of(self, j: int) -> dict:
        """The array state of the partition's ``j``-th parameter: views of the state buffers."""
        return {name: views[j] for name, views in self.state_views.items()}

    def check(self) -> None:
        """Raise (writing nothing) when a parameter's ``.data`` was replaced by one of another shape, dtype or
        device: :meth:`gather` could not bring it back."""
        for p, view in zip(self.params, self.param_views):
            if (p.shape, p.dtype, p.device) != (view.shape, view.dtype, view.device):
                raise RuntimeError(f"a parameter of a flat group changed to shape {tuple(p.shape)}, {p.dtype} "
                                   f"on {p.device} (was {tuple(view.shape)}, {view.dtype} on {view.device}); "
                                   f"build a new optimizer after moving or casting the model")

    def gather(self) -> list[bool]:
        """Bring every parameter and gradient back into the buffers (after :meth:`check`, and with gradients
        checked to have their parameter's shape); return which parameters have a gradient.

        A parameter whose ``.data`` was replaced (same shape, dtype and device) is copied back in and made
        a view again; a ``.grad`` that is not the view (e.g. after ``model.zero_grad()`` and ``backward``)
        is copied into it and replaced by it."""
        present = []
        for p, view, grad_view in zip(self.params, self.param_views, self.grad_views):
            if p.data_ptr() != view.data_ptr() or p.shape != view.shape:
                view.copy_(p)
                p.data = view
            grad = p.grad
            if grad is not None and grad is not grad_view:
                grad_view.copy_(grad)
                p.grad = grad_view
            present.append(grad is not None)
        return present

    def zero_grad(self) -> None:
        """Zero the gradient buffer and make every trainable parameter's ``.grad`` its view again."""
        self.grad_buffer.zero_()
        for p, grad_view in zip(self.params, self.grad_views):
            if p.requires_grad and p.grad is not grad_view:
                p.grad = grad_view
