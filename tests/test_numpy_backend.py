"""Generated NumPy kernels against the reference interpreter, dtypes and blocking."""
import numpy as np
import pytest

from optiforge import runtime
from optiforge import specs
from optiforge.codegen.selfcheck import compare_with_reference, random_gradients, sample_hyperparameters
from optiforge.runtime import kernel_support as _runtime
from optiforge.specs import reference
from catalog_support import check_grad_may_be_param

STEPS = 50


@pytest.mark.parametrize("name", specs.names())
def test_float64_matches_reference(name):
    error = compare_with_reference(specs.get(name), runtime.kernel_module(name), steps=STEPS, dtype=np.float64)
    assert error <= 1e-12


@pytest.mark.parametrize("name", specs.names())
def test_float32_matches_float64_reference(name):
    # Each float32 step rounds θ once (≤ ½ ulp of max|θ|) and computes the update with a relative error of a
    # few ulp on a step much smaller than |θ|; errors add at most linearly: ≤ 1 ulp per step in all.
    error = compare_with_reference(specs.get(name), runtime.kernel_module(name), steps=STEPS, dtype=np.float32)
    assert error <= STEPS * np.finfo(np.float32).eps


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name", specs.names())
def test_grad_may_be_the_param_array(name, dtype):
    """Decision: ``step(w, w, …)`` is allowed and means ``step(w, w.copy(), …)`` (issue 10)."""
    check_grad_may_be_param(runtime.kernel_module(name), specs.get(name), dtype)


@pytest.mark.parametrize("name", ["adam", "sgd_torch", "nadam_torch", "rmsprop_torch_centered", "adadelta"])
def test_float16_param_steps_like_a_dtype_faithful_emulation(name, rng):
    """float16 params: float32 arithmetic and state, one rounding to float16 per step."""
    spec, kernel = specs.get(name), runtime.kernel_module(name)
    hp = sample_hyperparameters(spec, rng)
    param = rng.standard_normal(999).astype(np.float16)
    state = kernel.init_state(param, **hp)
    assert param.dtype == np.float16 and all(state[s].dtype == np.float32 for s in kernel.STATE)
    for t, grad in enumerate(random_gradients(rng, 20, param.size), start=1):
        grad = grad.astype(np.float16)
        ref_param, ref_state = reference.step(spec, param.astype(np.float64), grad.astype(np.float64),
                                              {k: np.array(v, dtype=np.float64) if k in kernel.STATE else v
                                               for k, v in state.items()}, t, **hp)
        kernel.step(param, grad, state, t, **hp)
        assert param.dtype == np.float16
        # One float16 rounding of a float32-accurate result: within 1 ulp of float16 of the exact value.
        ulp16 = np.spacing(np.abs(ref_param).astype(np.float16)).astype(np.float64)
        assert np.all(np.abs(param.astype(np.float64) - ref_param) <= ulp16 + 1e-6 * np.abs(ref_param))
        for key in kernel.STATE:
            # float32 state: a few ulp of the largest term (EMAs can cancel, so not relative per element).
            scale = np.max(np.abs(ref_state[key]))
            np.testing.assert_allclose(state[key], ref_state[key], rtol=0, atol=8 * np.finfo(np.float32).eps * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_and_state_matches(dtype, rng):
    kernel = runtime.kernel_module("adam")
    param = rng.standard_normal((7, 5)).astype(dtype)
    state = kernel.init_state(param)
    kernel.step(param, rng.standard_normal((7, 5)).astype(dtype), state, 1)
    assert param.dtype == dtype and param.shape == (7, 5)
    assert all(state[k].dtype == dtype and state[k].shape == (7, 5) for k in kernel.STATE)


def test_gradient_may_have_its_own_dtype(rng):
    kernel = runtime.kernel_module("adam")
    param = rng.standard_normal(100).astype(np.float32)
    expected = param.astype(np.float64)
    grad = rng.standard_normal(100)
    state, ref_state = kernel.init_state(param), reference.init_state(specs.get("adam"), expected)
    kernel.step(param, grad, state, 1)  # float64 gradient, float32 parameter
    expected, _ = reference.step(specs.get("adam"), expected, grad.astype(np.float32), ref_state, 1)
    np.testing.assert_allclose(param, expected, rtol=1e-6)


def test_blocks_cover_sizes_around_the_block_boundary(rng):
    kernel, spec = runtime.kernel_module("nadam_torch"), specs.get("nadam_torch")
    block = _runtime.block_size(np.float64)
    for size in (1, block - 1, block, block + 1, 2 * block + 3):
        param = rng.standard_normal(size)
        ref_param, ref_state = param.copy(), reference.init_state(spec, param)
        state = kernel.init_state(param)
        for t in (1, 2):
            grad = rng.standard_normal(size)
            kernel.step(param, grad, state, t)
            ref_param, ref_state = reference.step(spec, ref_param, grad, ref_state, t)
        np.testing.assert_allclose(param, ref_param, rtol=1e-13, atol=1e-15)


def test_first_gradient_initialisation_of_the_torch_sgd_buffer(rng):
    kernel = runtime.kernel_module("sgd_torch")
    param = rng.standard_normal(10)
    state = kernel.init_state(param)
    g1 = rng.standard_normal(10)
    kernel.step(param, g1, state, 1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(state["b"], g1)  # no dampening on the first step


def test_scalar_state_is_updated_on_the_host(rng):
    kernel = runtime.kernel_module("nadam_torch")
    param = rng.standard_normal(4)
    state = kernel.init_state(param)
    assert state["mu_product"] == 1.0
    kernel.step(param, rng.standard_normal(4), state, 1)
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** (1 * 0.004))
    assert state["mu_product"] == pytest.approx(mu1, rel=1e-15)


def test_no_allocation_proportional_to_size():
    """Only the fixed, block-sized scratch set is used: peak traced memory is independent of the size."""
    import tracemalloc

    kernel = runtime.kernel_module("adam")
    peaks = []
    for size in (4 * _runtime.block_size(np.float32), 64 * _runtime.block_size(np.float32)):
        param, grad = np.ones(size, np.float32), np.full(size, 0.5, np.float32)
        state = kernel.init_state(param)
        kernel.step(param, grad, state, 1)  # warm the scratch cache
        tracemalloc.start()
        kernel.step(param, grad, state, 2)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 4096 and peaks[0] < 4096, peaks


def test_scratch_buffers_follow_the_block_size_of_their_dtype(monkeypatch):
    assert _runtime.block_size(np.float32) == 2 * _runtime.block_size(np.float64)
    for dtype in (np.float32, np.float64):
        buffers, masks = _runtime.scratch(dtype, 2, 1)
        assert all(b.dtype == dtype and b.size == _runtime.block_size(dtype) for b in buffers)
        assert masks[0].size == _runtime.block_size(dtype)
    monkeypatch.setattr(_runtime, "BLOCK_BYTES", 4096)
    assert _runtime.scratch(np.float32, 2, 1)[0][0].size == 1024  # not the cached, larger buffers


def test_state_arrays_double_as_scratch_between_old_read_and_new_write():
    """Adam's ``v = β₂v + ((1-β₂)g)g`` is computed in v itself and ``m = m + (1-β₁)(g - m)`` (torch's lerp) ends in
    m; the parameter is never scratch (its storage dtype may be float16), and Adam needs two scratch buffers in
    all."""
    from optiforge.codegen.driver import lower_and_optimize
    from optiforge.codegen.numpy_backend.program import build_program

    program = build_program(lower_and_optimize(specs.get("adam")).ir)
    writes = [(call.ufunc, [str(a) for a in call.args], str(call.out)) for call in program.calls]
    assert ("add", ["m", "_buf0"], "m") in writes and ("multiply", ["v", "beta2"], "v") in writes
    assert [out for _, _, out in writes].count("_theta_out") == 1 and writes[-1][2] == "_theta_out"
    assert program.float_buffers == 2 and not program.copies


def test_select_writing_over_its_own_then_branch(rng):
    """A state kept where an elementwise condition holds: the selection writes into the array it keeps."""
    import sympy as sp

    from optiforge.codegen.generate import load_module
    from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, SpecBuilder

    builder = SpecBuilder("keep_positive", "test", reference="test")
    lr = builder.hyper("lr", 0.1, r"\eta", NONNEGATIVE)
    s = builder.state("s", 0)
    builder.update(s, sp.Piecewise((s, g > 0), (2 * g, True)))
    builder.update(theta, theta - lr * s)
    spec = builder.build()
    assert compare_with_reference(spec, load_module(spec), steps=10) <= 1e-15


def test_host_scalars_stay_finite_late_in_training(rng):
    """NAdam's schedule (24/25)^{ψ(t+1)} must not be computed as 24^x·25^{-x} (inf·0 = NaN by t ≈ 56 000)."""
    spec, kernel = specs.get("nadam_torch"), runtime.kernel_module("nadam_torch")
    param = rng.standard_normal(16)
    state = kernel.init_state(param)
    state["mu_product"] = 1e-300
    ref_param, ref_state = reference.step(spec, param, param * 0.1, dict(state), 100_000)
    kernel.step(param, param * 0.1, state, 100_000)
    assert np.all(np.isfinite(param))
    np.testing.assert_allclose(param, ref_param, rtol=1e-12)
