"""Multi-tensor optimizer state: every parameter in one contiguous buffer, one buffer per state variable.

A generated module's ``step`` is elementwise, so stepping the flat buffers updates every parameter of a
model in one call — one kernel launch on the CuPy backend instead of one per tensor (what apex's and
torch's fused multi-tensor optimizers achieve by chunking lists of pointers). The per-parameter arrays
are views into the buffers: train with ``flat.params[k]`` and write gradients into ``flat.grads[k]``.

Works with any generated module (NumPy or CuPy) and either array library::

    flat = MultiTensor(optiforge.generated.cupy.adam, [w1, b1, w2], lr=1e-3)
    w1, b1, w2 = flat.params          # views: the model now reads its weights from the buffer
    ...  # backward pass writes into flat.grads[0], flat.grads[1], flat.grads[2]
    flat.step(t, lr=1e-3)             # one launch for the whole model

:class:`FlatLayout` (offsets and views) is the one flat-buffer layout: the torch adapter's flat mode
(``optiforge.torch``) lays its tensors out with it too.
"""
from __future__ import annotations

import contextlib
import math

import numpy

from optiforge.runtime import kernel_support

__all__ = ["FlatLayout", "FlatBuffer", "MultiTensor", "same_memory"]


def _array_module(array):
    if isinstance(array, numpy.ndarray):
        return numpy
    from optiforge.runtime.cupy_support import cupy_module
    return cupy_module()


def _on_device_of(array):
    """Context making ``array``'s device current (CuPy allocates and launches on the current device)."""
    if isinstance(array, numpy.ndarray):
        return contextlib.nullcontext()
    from optiforge.runtime.cupy_support import device_of
    return device_of(array)


def _address(array) -> int:
    return array.ctypes.data if isinstance(array, numpy.ndarray) else array.data.ptr


def same_memory(a, b) -> bool:
    """Are ``a`` and ``b`` the same array memory (same address, shape, strides and dtype)?"""
    return a is b or (type(a) is type(b) and a.shape == b.shape and a.strides == b.strides
                      and a.dtype == b.dtype and _address(a) == _address(b))


class FlatLayout:
    """Where each of a list of shapes lies in one flat buffer: shape ``k`` holds elements
    ``offsets[k]:offsets[k + 1]``, in order, C-contiguous. :meth:`split` works on any array library whose 1-D
    slices and ``reshape`` are views (NumPy, CuPy, torch): the NumPy :class:`MultiTensor` and the torch adapter's
    flat mode share it."""

    def __init__(self, shapes):
        self.shapes = [tuple(s) for s in shapes]
        self.offsets = [0]
        for shape in self.shapes:
            self.offsets.append(self.offsets[-1] + math.prod(shape))

    @property
    def size(self) -> int:
        """Elements of the whole buffer."""
        return self.offsets[-1]

    def split(self, buffer) -> list:
        """Views of the 1-D contiguous ``buffer`` (``size`` elements), one per shape."""
        return [buffer[lo:hi].reshape(shape) for lo, hi, shape in zip(self.offsets, self.offsets[1:], self.shapes)]


class FlatBuffer:
    """One contiguous 1-D ``buffer`` (NumPy or CuPy) with a C-contiguous view of each shape (``views[k]``), in
    order."""

    def __init__(self, buffer, shapes):
        self.buffer = buffer
        self.layout = FlatLayout(shapes)
        self.shapes, self.offsets = self.layout.shapes, self.layout.offsets
        if self.layout.size != buffer.size or buffer.ndim != 1 or not buffer.flags.c_contiguous:
            raise ValueError(f"buffer must be 1-D, contiguous, with {self.layout.size} elements; got {buffer.shape}")
        self.views = self.layout.split(buffer)

    @classmethod
    def empty_like(cls, arrays, dtype=None, xp=None) -> "FlatBuffer":
        """A new buffer on the device of ``arrays[0]`` (not the current device)."""
        xp = xp or _array_module(arrays[0])
        size = sum(a.size for a in arrays)
        with _on_device_of(arrays[0]):
            return cls(xp.empty(size, dtype or arrays[0].dtype), [a.shape for a in arrays])

    @classmethod
    def copy_of(cls, arrays, dtype=None) -> "FlatBuffer":
        """A new buffer holding the values of ``arrays`` (all from one array library and device)."""
        flat = cls.empty_like(arrays, dtype)
        with _on_device_of(flat.buffer):
            for view, array in zip(flat.views, arrays):
                view[...] = array
        return flat

    def split(self, buffer) -> list:
        """Views of another buffer with this layout (e.g. a state buffer)."""
        return FlatBuffer(buffer, self.shapes).views


class MultiTensor:
    """Parameters, gradients and state of many tensors in flat buffers, stepped by one module call.

    ``params``/``grads``: per-tensor views (grads start at zero, dtype ``grad_dtype`` or the param dtype);
    ``state[name]``: per-tensor views of each array state; ``scalar_state``: the shared scalar state
    (the same for every tensor, as it depends only on the step). All parameters share one dtype; they are
    checked like ``Optimizer``'s (writeable, C-contiguous, no two sharing memory) before anything is copied.
    """

    def __init__(self, module, params, *, grad_dtype=None, **hyperparameters):
        library = module.array_library()
        params = kernel_support.check_params(module.NAME, params, library)
        if len({p.dtype for p in params}) != 1:
            raise TypeError(f"{module.NAME}: all parameters must share one dtype with flat=True, got "
                            f"{', '.join(sorted({str(p.dtype) for p in params}))}")
        devices = {str(getattr(p, "device", "cpu")) for p in params}
        if len(devices) != 1:
            raise ValueError(f"{module.NAME}: all parameters must be on one device with flat=True, got "
                             f"{', '.join(sorted(devices))}")
        if grad_dtype is not None:
            kernel_support.compute_dtype(module.NAME, grad_dtype, "grad_dtype")
        self.module = module
        self._params = FlatBuffer.copy_of(params)
        self._grads = FlatBuffer.empty_like(params, grad_dtype)
        # the spec's inputs besides the gradient (kernel_support.check_inputs: in the gradient's dtype)
        self._inputs = {name: FlatBuffer.empty_like(params, grad_dtype) for name in getattr(module, "INPUTS", ())}
        with _on_device_of(self._grads.buffer):
            for flat in (self._grads, *self._inputs.values()):
                flat.buffer[...] = 0
        # New buffers only: a rejected hyperparameter leaves nothing behind.
        self._state = module.init_state(self._params.buffer, **hyperparameters)

    @property
    def params(self) -> list:
        return self._params.views

    @property
    def grads(self) -> list:
        return self._grads.views

    @property
    def inputs(self) -> dict:
        """The spec's inputs besides the gradient (``module.INPUTS``): name → per-tensor views of its flat
        buffer, to write each step's values into (they start at zero)."""
        return {name: flat.views for name, flat in self._inputs.items()}

    @property
    def state(self) -> dict:
        return {name: self._params.split(self._state[name]) for name in self.module.STATE}

    @property
    def scalar_state(self) -> dict:
        return {name: self._state[name] for name in self.module.SCALAR_STATE}

    def load_scalar_state(self, values: dict) -> None:
        """Replace the shared scalar state by ``values`` (checked by the caller: ``Optimizer.load_state_dict``)."""
        self._state.update(values)

    @property
    def buffers(self) -> dict:
        """Every flat buffer, by what error messages call it."""
        return {"the flat param buffer": self._params.buffer, "the flat grad buffer": self._grads.buffer,
                **{f"the flat {name} buffer": flat.buffer for name, flat in self._inputs.items()},
                **{f"the flat state[{name!r}] buffer": self._state[name] for name in self.module.STATE}}

    def _input_buffers(self) -> dict:
        return {name: flat.buffer for name, flat in self._inputs.items()}

    def step(self, t: int, **hyperparameters) -> None:
        """One update of every parameter (one kernel launch on the CuPy backend), reading the gradients and the
        inputs from their flat buffers."""
        self.module.step(self._params.buffer, self._grads.buffer, self._state, t, **self._input_buffers(),
                         **hyperparameters)

    def step_unchecked(self, t: int, hyperparameters: dict) -> None:
        """:meth:`step` for a caller that has checked ``t`` and ``hyperparameters`` (as ``Optimizer`` does); the
        buffers are this object's own."""
        dtype = kernel_support.compute_dtype(self.module.NAME, self._params.buffer.dtype)
        self.module.step_unchecked(self._params.buffer, self._grads.buffer, self._state, t, hyperparameters, dtype,
                                   **self._input_buffers())
