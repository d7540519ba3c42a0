"""The elementary functions every backend has (``specs.validate.ELEMENTARY_FUNCTIONS``): evaluated by the reference
with NumPy's ufuncs and computed by the NumPy, numba and (host-emulated) CuPy kernels alike."""
from __future__ import annotations

import types

import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, emulate, gxx
from optiforge.codegen.generate import BACKENDS, __version__
from optiforge.specs import GRAD as g, PARAM as theta, POSITIVE, STEP as t, SpecBuilder, reference
from optiforge.specs.validate import ELEMENTARY_FUNCTIONS


def _spec():
    b = SpecBuilder("elementary", "Every elementary function", reference="tests/test_elementary_functions.py")
    lr = b.hyper("lr", 0.1, r"\eta", POSITIVE)
    total = b.hyper("T", 100.0, "T", POSITIVE)
    m = b.state("m", 0)
    b.update(m, sp.sin(g) + sp.cos(theta) * sp.atan(g) + sp.tan(g / 10) + sp.asin(sp.tanh(g))
             + sp.acos(sp.tanh(theta)))
    rate = b.let("rate", lr * (1 + sp.cos(sp.pi * sp.Min(t, total) / total)) / 2)  # a host scalar
    b.update(theta, theta - rate * (m + sp.sinh(sp.tanh(g)) + sp.cosh(sp.tanh(g)) + sp.asinh(g)
                                    + sp.acosh(1 + g**2) + sp.atanh(sp.tanh(g) / 2) + log1p(sp.Abs(g))
                                    + expm1(-sp.Abs(g))))
    return b.build()


def test_the_spec_uses_every_elementary_function():
    spec = _spec()
    used = {type(node) for a in spec.assignments for node in sp.preorder_traversal(a.value)}
    assert set(ELEMENTARY_FUNCTIONS) <= used, set(ELEMENTARY_FUNCTIONS) - used


@pytest.mark.parametrize("backend", ["numpy", "numba", "cupy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_backend_computes_them_like_the_reference(backend, dtype):
    if backend == "cupy" and gxx() is None:
        pytest.skip("g++ not on PATH: cannot host-emulate the CuPy kernels")
    spec, rng = _spec(), np.random.default_rng(0)
    module = types.ModuleType(f"elementary_{backend}")
    exec(compile(BACKENDS[backend](spec, __version__), module.__name__, "exec"), module.__dict__)
    if backend == "cupy":
        module = emulate(module, HostRuntime(module.KERNELS))
    param = rng.standard_normal(64)
    ours, state = param.astype(dtype), module.init_state(param.astype(dtype))
    ref_state = reference.init_state(spec, param)
    for step in range(1, 4):
        grad = (rng.standard_normal(64) * 2).astype(dtype)
        module.step(ours, grad, state, step)
        param, ref_state = reference.step(spec, param, grad, ref_state, step)
    tolerance = 1e-14 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(ours, param, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(state["m"], ref_state["m"], rtol=tolerance, atol=tolerance)
