"""Bad input raises ValueError/TypeError naming the argument and the allowed range, before any change."""
import numpy as np
import pytest
import torch

from optiforge import runtime

kernel = runtime.kernel_module("adam")


@pytest.fixture
def arrays(rng):
    param = rng.standard_normal(64).astype(np.float32)
    grad = rng.standard_normal(64).astype(np.float32)
    state = kernel.init_state(param)
    kernel.step(param, grad, state, 1)  # non-trivial state
    return param, grad, state


def _unchanged_after(arrays, call, error, match):
    param, grad, state = arrays
    before = (param.copy(), {k: v.copy() for k, v in state.items()})
    with pytest.raises(error, match=match):
        call(param, grad, state)
    np.testing.assert_array_equal(param, before[0])
    for key, value in before[1].items():
        np.testing.assert_array_equal(state[key], value)


@pytest.mark.parametrize("call, error, match", [
    (lambda p, g, s: kernel.step(p, g[:10], s, 2), ValueError, r"grad has shape \(10,\), expected \(64,\)"),
    (lambda p, g, s: kernel.step(p, g.astype(np.int32), s, 2), TypeError, "grad dtype must be one of float16, bfloat16, float32, float64, got int32"),
    (lambda p, g, s: kernel.step(p, g, {**s, "m": s["m"].astype(np.float64)}, 2), TypeError,
     r"state\['m'\] has dtype float64, expected float32"),
    (lambda p, g, s: kernel.step(p, np.repeat(g, 2)[::2], s, 2), ValueError, "grad must be C-contiguous"),
    (lambda p, g, s: kernel.step(p, g, s, 0), ValueError, r"t must be in \[1, 2\*\*53\]"),
    (lambda p, g, s: kernel.step(p, g, s, 1.5), TypeError, "t must be an integer"),
    (lambda p, g, s: kernel.step(p, g, s, 2, beta1=1.0), ValueError,
     r"beta1=1.0 is outside its allowed range \[0, 1\)"),
    (lambda p, g, s: kernel.step(p, g, s, 2, lr=-0.1), ValueError, r"lr=-0.1 is outside its allowed range \[0, ∞\)"),
    (lambda p, g, s: kernel.step(p, g, s, 2, eps=float("nan")), ValueError, "eps=nan is outside"),
    (lambda p, g, s: kernel.step(p, g, s, 2, betas=(0.9, 0.99)), TypeError,
     "unknown hyperparameter.*betas; valid: lr, beta1, beta2, eps"),
    (lambda p, g, s: kernel.step(p, g, {"m": s["m"]}, 2), ValueError, "state lacks 'v'"),
    (lambda p, g, s: kernel.step(p, g, {"m": s["m"], "v": s["m"]}, 2), ValueError, "shares memory"),
])
def test_rejected_before_any_array_is_modified(arrays, call, error, match):
    _unchanged_after(arrays, call, error, match)


def test_read_only_and_non_contiguous_param(arrays):
    param, grad, state = arrays
    frozen = param.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="param is read-only"):
        kernel.step(frozen, grad, state, 2)
    with pytest.raises(ValueError, match="param must be C-contiguous"):
        kernel.step(np.repeat(param, 2)[::2], grad, state, 2)
    with pytest.raises(TypeError, match="param dtype must be one of"):
        kernel.step(param.astype(np.int64), grad, state, 2)
    with pytest.raises(TypeError, match="param must be a numpy.ndarray"):
        kernel.step(list(param), grad, state, 2)


def test_nan_and_inf_gradients_propagate_like_torch(rng):
    """No crash, no warning; non-finite values appear exactly where torch puts them."""
    grads = [rng.standard_normal(8) for _ in range(3)]
    grads[1][2], grads[1][5] = np.nan, np.inf
    param = rng.standard_normal(8)
    ours, state = param.copy(), kernel.init_state(param)
    theirs = torch.tensor(param, requires_grad=True)
    optimizer = torch.optim.Adam([theirs], foreach=False, fused=False)
    with np.errstate(all="raise"):
        for t, g in enumerate(grads, start=1):
            kernel.step(ours, g, state, t)
            theirs.grad = torch.tensor(g)
            optimizer.step()
    expected = theirs.detach().numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    finite = np.isfinite(expected)
    assert not finite[2] and not finite[5]
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Every entry point, every kind of bad argument (tests/bad_input_cases.py), across the catalogue
# ---------------------------------------------------------------------------------------------------------
import hypothesis.strategies as st  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

import bad_input_cases  # noqa: E402
from optiforge.codegen.cupy_backend.host_emulation import HostRuntime  # noqa: E402

#: scalar state, array state initialised with θ (Lookahead), an integer domain (k), a step-dependent branch,
#: flags and momentum switches, several scalar states
CAMPAIGN = ["adam", "nadam_torch", "lookahead_adam_torch", "sgd_torch", "rmsprop_torch_centered", "qhadam"]


def test_bad_input_campaign_rejects_every_case_before_writing():
    """A few thousand bad calls (NumPy and host-emulated CuPy modules, Optimizer in both flat modes): each one a
    ValueError/TypeError that leaves every array bit-identical and t, hyperparameters, scalar state unchanged."""
    counts, failures = bad_input_cases.campaign(CAMPAIGN, (np.float32,), HostRuntime({}))
    assert not failures, "\n".join(" | ".join(f) for f in failures[:20])
    assert counts["rejected"] > 2000


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(runtime.available()), flat=st.booleans(),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]), pick=st.integers(0, 10 ** 6))
def test_any_bad_case_on_any_optimizer_is_rejected_before_writing(name, flat, dtype, pick):
    cases = bad_input_cases.module_cases(runtime.kernel_module(name), dtype, name) + \
        bad_input_cases.optimizer_cases(name, flat, dtype)
    case = cases[pick % len(cases)]
    result, detail = bad_input_cases.outcome(case)
    assert result == "rejected", (case.entry, case.kind, result, detail)


# Random argument values: a call succeeds exactly when every value is valid; otherwise it is rejected before
# anything is written.
_STEPS = st.one_of(st.integers(1, 100), st.integers(-3, 2 ** 60), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.none(), st.text(max_size=3), st.just(10 ** 400), st.integers(1, 50).map(np.int64))
_NUMBERS = st.one_of(st.floats(0, 1), st.floats(-2, 2), st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                     st.just(10 ** 400), st.booleans(), st.none(), st.text(max_size=2), st.complex_numbers(max_magnitude=2))
_GRAD_DTYPES = st.sampled_from(["float32", "float64", "float16", "float32", "int32", "bool", "complex64", "object", ">f8"])


def _valid_step(t) -> bool:
    return isinstance(t, (int, np.integer)) and not isinstance(t, bool) and 1 <= t <= 2 ** 53


def _valid_number(value, domain) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or isinstance(value, complex):
        return False
    try:
        value = float(value)
    except OverflowError:
        return False
    return value == value and value in domain


@settings(max_examples=150, deadline=None, derandomize=True)
@given(name=st.sampled_from(runtime.available()), t=_STEPS, value=_NUMBERS, which=st.integers(0, 10),
       grad_dtype=_GRAD_DTYPES, shape_delta=st.sampled_from([0, 0, 0, 1, -1]))
def test_random_arguments_succeed_exactly_when_valid_and_fail_cleanly_otherwise(name, t, value, which, grad_dtype,
                                                                                shape_delta):
    module = runtime.kernel_module(name)
    hyper = list(module.HYPERPARAMETERS)[which % len(module.HYPERPARAMETERS)]
    param, grad, state = bad_input_cases._module_world(module, np.float32)
    grad = grad.reshape(-1)[: grad.size + shape_delta] if shape_delta < 0 else np.resize(grad, (3, 5 + shape_delta))
    grad = grad.astype(grad_dtype)
    before = [a.tobytes() for a in (param, *(v for v in state.values() if isinstance(v, np.ndarray)))]
    valid = (_valid_step(t) and _valid_number(value, module.DOMAINS[hyper]) and shape_delta == 0
             and grad_dtype in ("float16", "float32", "float64"))
    inputs = {name: grad.copy() for name in getattr(module, "INPUTS", ())}  # as valid as the gradient
    try:
        module.step(param, grad, state, t, **inputs, **{hyper: value})
    except (ValueError, TypeError):
        assert not valid
        assert [a.tobytes() for a in (param, *(v for v in state.values() if isinstance(v, np.ndarray)))] == before
    else:
        assert valid


def test_cupy_module_checks_scalars_before_importing_cupy_and_rejects_host_arrays():
    """Without CuPy importable, a CuPy module's step still rejects bad hyperparameters and steps with
    ValueError/TypeError (they are checked before any CuPy call); with CuPy, NumPy arrays are rejected by type."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['cupy'] = None\n"
        "import numpy as np\n"
        "import optiforge.generated.cupy.adam as adam\n"
        "p = np.ones(3, np.float32)\n"
        "for t, hp in ((1, {'lr': -1.0}), (1, {'lr': 10**400}), (1, {'betas': 1}), (2.7, {}), ('3', {}), (10**400, {})):\n"
        "    try:\n        adam.step(p, p, {}, t, **hp)\n"
        "    except (ValueError, TypeError) as e:\n        print(type(e).__name__)\n"
        "    except ImportError:\n        print('ImportError')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["ValueError", "ValueError", "TypeError", "TypeError", "TypeError", "ValueError"]
    cupy_adam = runtime.kernel_module("adam", "cupy")
    param = np.ones(3, np.float32)
    wrong = r"adam: the cupy backend takes cupy.ndarray arrays on a CUDA device, got numpy.ndarray .* for param$"
    with pytest.raises(TypeError, match=wrong):
        cupy_adam.step(param, param.copy(), {}, 1)
    with pytest.raises(TypeError, match=wrong):
        cupy_adam.init_state(param)
