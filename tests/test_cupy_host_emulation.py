"""Host emulation: every generated CuPy module's own ``step`` with its kernels compiled by g++ (see
``codegen/cupy_backend/host_emulation.py``), 50 steps on random data, against the NumPy backend and the
float64 reference; the bounds are derived in ``tests/cupy_trajectories.py``.
"""
from __future__ import annotations

import importlib

import numpy
import pytest

from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, emulate, gxx, host_arrays
from optiforge import specs
from catalog_support import check_grad_may_be_param
from cupy_trajectories import DTYPES, NAMES, check, hyperparameters

pytestmark = pytest.mark.skipif(gxx() is None, reason="g++ not on PATH: cannot host-emulate the kernels")


@pytest.fixture(scope="module")
def runtime():
    modules = [importlib.import_module(f"optiforge.generated.cupy.{name}") for name in NAMES]
    return HostRuntime({p: [m.KERNELS[p] for m in modules] for p in ("float32", "float64")})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_host_emulation_matches_numpy_and_reference(name, dtype, runtime):
    check(name, dtype, emulate(importlib.import_module(f"optiforge.generated.cupy.{name}"), runtime), "host")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_grad_may_be_the_param_array(name, dtype, runtime):
    """``step(w, w, …)`` equals ``step(w, w.copy(), …)`` on the kernels a GPU runs (they read both first)."""
    module = emulate(importlib.import_module(f"optiforge.generated.cupy.{name}"), runtime)
    check_grad_may_be_param(module, specs.get(name), dtype, host_arrays)


def test_half_scalars_travel_in_float32(runtime):
    """β₂ = 0.999 must reach the kernel as float32, not float16 (which rounds it to 0.99902)."""
    adam = emulate(importlib.import_module("optiforge.generated.cupy.adam"), runtime)
    param = host_arrays("float16", numpy.ones(8))
    runtime.launches.clear()
    adam.step(param, param.copy(), adam.init_state(param), 1)
    (source, scalars, size), = runtime.launches
    assert source.precision == "float32" and size == 8
    assert scalars["beta2"].dtype == numpy.float32 and scalars["beta2"] == numpy.float32(0.999)
    assert scalars["c1"] == numpy.float32(1 - 0.999)  # 1 - β₂ computed in float64 on the host (c1 = 1 - beta2)


def test_multi_tensor_step_on_the_cupy_module(runtime):
    """The flat-buffer path through the CuPy module (host-emulated): one launch equals per-tensor launches."""
    from optiforge.runtime.flat import MultiTensor

    adam = emulate(importlib.import_module("optiforge.generated.cupy.adam"), runtime)
    rng = numpy.random.default_rng(0)
    shapes = [(64, 3, 3), (64,), (10, 64)]
    params = [rng.standard_normal(s).astype(numpy.float32) for s in shapes]
    separate = [p.copy() for p in params]
    states = [adam.init_state(p) for p in separate]
    flat = MultiTensor(adam, params)
    grads = [rng.standard_normal(s).astype(numpy.float32) for s in shapes]
    for view, g in zip(flat.grads, grads):
        view[...] = g
    runtime.launches.clear()
    flat.step(1)
    assert [size for _, _, size in runtime.launches] == [sum(p.size for p in params)]
    for p, g, s in zip(separate, grads, states):
        adam.step(p, g, s, 1)
    for k, p in enumerate(separate):
        numpy.testing.assert_array_equal(flat.params[k], p)


@pytest.mark.parametrize("name", ["adam_torch", "sgd_torch", "adamax_torch"])
@pytest.mark.parametrize("param_dtype, grad_dtype", [("float32", "float16"), ("float16", "float32"), ("float64", "float32")])
def test_gradient_with_its_own_dtype(name, param_dtype, grad_dtype, runtime):
    """The gradient is loaded from its own storage dtype (G) and converted like the NumPy backend does."""
    cupy_module = emulate(importlib.import_module(f"optiforge.generated.cupy.{name}"), runtime)
    numpy_module = importlib.import_module(f"optiforge.generated.numpy.{name}")
    hp = hyperparameters(specs.get(name))
    rng = numpy.random.default_rng(3)
    param = host_arrays(param_dtype, rng.standard_normal(512))
    expected = param.copy()
    state, expected_state = cupy_module.init_state(param), numpy_module.init_state(expected)
    for t in range(1, 6):
        grad = host_arrays(grad_dtype, rng.standard_normal(512))
        cupy_module.step(param, grad, state, t, **hp)
        numpy_module.step(expected, grad, expected_state, t, **hp)
    assert param.dtype == numpy.dtype(param_dtype)
    # same arithmetic type, same expression order for these three: bit-identical
    numpy.testing.assert_array_equal(param, expected)
    for s in numpy_module.STATE:
        numpy.testing.assert_array_equal(state[s], expected_state[s])
