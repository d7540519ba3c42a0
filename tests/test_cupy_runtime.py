"""``generated/_cupy_runtime.py`` and ``Optimizer(backend="cupy")`` without a GPU: the argument checks that need
no device, stream conversion, and the runtime's flat path driving a generated CuPy module (its kernels
host-emulated, see ``codegen/cupy_backend/host_emulation.py``). On a device: ``test_cupy_gpu.py``."""
from __future__ import annotations

import importlib
import types

import numpy
import pytest

from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, emulate, gxx
from optiforge.runtime import Optimizer, cupy_support as _cupy_runtime
from optiforge.runtime.flat import MultiTensor, same_memory


def test_numpy_arrays_on_the_cupy_backend_are_a_clear_type_error():
    params = [numpy.ones(3, numpy.float32), numpy.ones(2, numpy.float32)]
    for flat in (False, True):
        with pytest.raises(TypeError, match=r"adam: the cupy backend takes cupy.ndarray arrays on a CUDA "
                                            r"device, got numpy.ndarray \(NumPy arrays: backend='numpy'\)"):
            Optimizer(params, "adam", backend="cupy", flat=flat)
    assert all((p == 1).all() for p in params)
    with pytest.raises(TypeError, match="cupy backend takes cupy.ndarray"):
        _cupy_runtime.device_of([1.0, 2.0])


def test_streams_are_cupy_streams_or_torch_streams():
    import cupy

    class TorchLikeStream:  # the CUDA stream protocol, as torch.cuda.Stream implements it
        def __cuda_stream__(self):
            return (0, 4243)

    assert _cupy_runtime.as_stream(None) is None
    converted = _cupy_runtime.as_stream(TorchLikeStream())
    assert isinstance(converted, cupy.cuda.Stream) and converted.ptr == 4243
    assert _cupy_runtime.as_stream(converted) is converted
    with pytest.raises(TypeError, match="stream must be"):
        _cupy_runtime.as_stream("default")


def test_same_memory():
    buffer = numpy.zeros(10, numpy.float32)
    view = buffer[2:6].reshape(2, 2)
    assert same_memory(view, view) and same_memory(view, buffer[2:6].reshape(2, 2))
    assert not same_memory(view, buffer[2:6]) and not same_memory(view, view.copy())
    assert not same_memory(view, buffer[3:7].reshape(2, 2)) and not same_memory(view, view.astype(numpy.float64))


@pytest.fixture(scope="module")
def emulated_adam():
    if gxx() is None:
        pytest.skip("g++ not on PATH: cannot host-emulate the kernels")
    module = importlib.import_module("optiforge.generated.cupy.adam")
    runtime = HostRuntime({p: [module.KERNELS[p]] for p in ("float32", "float64")})
    return emulate(module, runtime), runtime


def test_flat_optimizer_on_the_cupy_module_launches_once_and_copies_no_view(emulated_adam):
    adam, runtime = emulated_adam
    rng = numpy.random.default_rng(0)
    shapes = [(4, 3), (5,), (2, 2, 2)]
    params = [rng.standard_normal(s).astype(numpy.float32) for s in shapes]
    expected = [p.copy() for p in params]
    expected_state = [adam.init_state(p) for p in expected]
    opt = Optimizer(params, adam, backend="cupy", flat=True, lr=0.01)
    for view in opt.grads:
        view.flags.writeable = False  # a copy into a view would raise
    for t in range(1, 4):
        grads = [rng.standard_normal(s).astype(numpy.float32) for s in shapes]
        for view, g in zip(opt.grads, grads):
            view.flags.writeable = True
            view[...] = g
            view.flags.writeable = False
        runtime.launches.clear()
        opt.step(opt.grads)  # the buffer's own views: used where they are
        assert [size for _, _, size in runtime.launches] == [sum(p.size for p in params)]
        for p, g, s in zip(expected, grads, expected_state):
            adam.step(p, g, s, t, lr=0.01)
    for view, p in zip(opt.params, expected):
        numpy.testing.assert_array_equal(view, p)
    with pytest.raises(ValueError, match="read-only"):  # other gradients are copied in
        opt.step([g.copy() for g in opt.grads])


def test_step_passes_the_stream_to_the_launch(emulated_adam):
    adam, runtime = emulated_adam
    param = numpy.ones(8, numpy.float32)
    state = adam.init_state(param)
    stream = object()
    runtime.streams.clear()
    adam.step(param, param.copy(), state, 1, stream=stream)
    adam.step(param, param.copy(), state, 2)
    assert runtime.streams == [stream, None]


def test_multi_tensor_needs_one_device():
    class OnDevice(numpy.ndarray):
        device = "elsewhere"

    arrays = [numpy.ones(3, numpy.float32), numpy.ones(2, numpy.float32).view(OnDevice)]
    with pytest.raises(ValueError, match="one device"):
        MultiTensor(importlib.import_module("optiforge.generated.numpy.adam"), arrays)
