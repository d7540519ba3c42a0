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
from optiforge.runtime.flat import MultiTensor


def _device_count() -> int:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # ImportError, or CUDARuntimeError (no driver) on GPU-less machines
        return 0


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_device_count() == 0, reason="no CUDA device (or no cupy)")]


class OnDevice:
    """A generated CuPy module run on the device for ``cupy_trajectories.run``: the parameter and the state
    are copied to the device once, by ``init_state``, and stay there (each step copies only the gradient
    in); ``sync_to_host`` copies them back into the host arrays ``run`` reads."""

    def __init__(self, module):
        import cupy
        self.cupy, self.module = cupy, module
        self.host = self.device = None

    def init_state(self, param, **hp):
        device_param = self.cupy.asarray(param)
        device_state = self.module.init_state(device_param, **hp)
        host_state = {k: self.cupy.asnumpy(v) if isinstance(v, self.cupy.ndarray) else v for k, v in device_state.items()}
        self.host, self.device = (param, host_state), (device_param, device_state)
        return host_state

    def step(self, param, grad, state, t, **hp):
        assert param is self.host[0] and state is self.host[1], "one trajectory per OnDevice"
        self.module.step(self.device[0], self.cupy.asarray(grad), self.device[1], t, **hp)

    def sync_to_host(self):
        (param, state), (device_param, device_state) = self.host, self.device
        param[...] = self.cupy.asnumpy(device_param)
        for k, v in device_state.items():
            if isinstance(v, self.cupy.ndarray):
                state[k][...] = self.cupy.asnumpy(v)
            else:
                state[k] = v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_cupy_matches_numpy_and_reference(name, dtype):
    # bfloat16 included: CuPy 14 holds ml_dtypes.bfloat16 arrays; if this one cannot, that is a failure
    check(name, dtype, OnDevice(importlib.import_module(f"optiforge.generated.cupy.{name}")), "cupy")


def test_launch_on_a_given_stream_and_on_the_arrays_device():
    import cupy
    adam = importlib.import_module("optiforge.generated.cupy.adam")
    param = cupy.ones(1 << 20, cupy.float32)
    state = adam.init_state(param)
    stream = cupy.cuda.Stream(non_blocking=True)
    adam.step(param, cupy.ones_like(param), state, 1, stream=stream, lr=0.5)
    stream.synchronize()
    assert float(param[0]) == 0.5
    if cupy.cuda.runtime.getDeviceCount() > 1:
        with cupy.cuda.Device(1):
            others = [cupy.ones(8, cupy.float32), cupy.ones(3, cupy.float32)]
        flat = MultiTensor(adam, others)  # current device 0: buffers and launches on device 1
        assert flat._params.buffer.device.id == 1 and flat._grads.buffer.device.id == 1
        with cupy.cuda.Device(1):
            flat.grads[0][...] = 1
        flat.step(1, lr=0.5)
        assert float(flat.params[0][0]) == 0.5


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


def test_numpy_arrays_are_refused_clearly():
    import numpy as np
    from optiforge.runtime import Optimizer
    with pytest.raises(TypeError, match="cupy backend takes cupy.ndarray"):
        Optimizer([np.ones(3, np.float32)], "adam", backend="cupy")


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
