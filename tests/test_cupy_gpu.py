"""The generated CuPy modules on a real device: CuPy vs NumPy vs reference for every optimizer and dtype,
argument checks, and the multi-tensor path. Skipped (with the reason) where there is no CUDA device.

Tolerances are those of ``tests/cupy_trajectories.py``; they already allow for what separates a GPU
from the host emulation (FMA contraction: within the K roundings; flush-to-zero: no subnormal states
in 50 steps of N(0, 1) gradients).
"""
from __future__ import annotations

import importlib

import numpy
import pytest

from cupy_trajectories import DTYPES, NAMES, check
from optiforge.generated._flat import MultiTensor


def _device_count() -> int:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # ImportError, or CUDARuntimeError (no driver) on GPU-less machines
        return 0


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_device_count() == 0, reason="no CUDA device (or no cupy)")]


class OnDevice:
    """A generated CuPy module driven with NumPy arrays: copies in, one ``step`` on the device, copies out."""

    def __init__(self, module):
        import cupy
        self.cupy, self.module = cupy, module

    def _to_device(self, value):
        return self.cupy.asarray(value) if isinstance(value, numpy.ndarray) else value

    def _to_host(self, value):
        return self.cupy.asnumpy(value) if isinstance(value, self.cupy.ndarray) else value

    def init_state(self, param, **hp):
        return {k: self._to_host(v) for k, v in self.module.init_state(self._to_device(param), **hp).items()}

    def step(self, param, grad, state, t, **hp):
        device_param = self._to_device(param)
        device_state = {k: self._to_device(v) for k, v in state.items()}
        self.module.step(device_param, self._to_device(grad), device_state, t, **hp)
        param[...] = self._to_host(device_param)
        state.update({k: self._to_host(v) for k, v in device_state.items()})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_cupy_matches_numpy_and_reference(name, dtype):
    import cupy
    if dtype == "bfloat16":
        import ml_dtypes
        try:
            cupy.asarray(numpy.zeros(2, ml_dtypes.bfloat16))
        except (TypeError, ValueError) as error:
            pytest.skip(f"this CuPy cannot hold bfloat16 arrays ({error}); bfloat16 is compile-checked only")
    check(name, dtype, OnDevice(importlib.import_module(f"optiforge.generated.cupy.{name}")), "cupy")


def test_argument_checks_reject_before_launch():
    import cupy
    adam = importlib.import_module("optiforge.generated.cupy.adam")
    param = cupy.ones(16, cupy.float32)
    state = adam.init_state(param)
    before = param.copy()
    with pytest.raises(TypeError, match="cupy.ndarray"):
        adam.step(numpy.ones(16, numpy.float32), param, state, 1)
    with pytest.raises(ValueError, match="shape"):
        adam.step(param, cupy.ones(8, cupy.float32), state, 1)
    with pytest.raises(TypeError, match="dtype"):
        adam.step(param, param.copy(), {"m": state["m"].astype(cupy.float64), "v": state["v"]}, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        adam.step(param, cupy.ones(32, cupy.float32)[::2], state, 1)
    cupy.testing.assert_array_equal(param, before)


def test_half_parameters_keep_float32_state():
    import cupy
    adam = importlib.import_module("optiforge.generated.cupy.adam")
    param = cupy.ones(16, cupy.float16)
    state = adam.init_state(param)
    assert state["m"].dtype == cupy.float32 and state["v"].dtype == cupy.float32
    adam.step(param, cupy.full(16, 0.5, cupy.float16), state, 1)
    assert param.dtype == cupy.float16


def test_multi_tensor_matches_per_tensor_steps():
    import cupy
    adam = importlib.import_module("optiforge.generated.cupy.adam")
    rng = numpy.random.default_rng(0)
    shapes = [(64, 3, 7, 7), (64,), (1000, 64)]
    params = [cupy.asarray(rng.standard_normal(s).astype(numpy.float32)) for s in shapes]
    separate = [p.copy() for p in params]
    states = [adam.init_state(p) for p in separate]
    flat = MultiTensor(adam, params)
    for t in range(1, 4):
        grads = [cupy.asarray(rng.standard_normal(s).astype(numpy.float32)) for s in shapes]
        for view, g in zip(flat.grads, grads):
            view[...] = g
        flat.step(t)
        for p, g, s in zip(separate, grads, states):
            adam.step(p, g, s, t)
    for k, p in enumerate(separate):
        cupy.testing.assert_array_equal(flat.params[k], p)  # same kernel, same elements: bit-identical
