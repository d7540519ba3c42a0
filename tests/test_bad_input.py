"""Bad input raises ValueError/TypeError naming the argument and the allowed range, before any change."""
import numpy as np
import pytest
import torch

from optiforge import generated

kernel = generated.kernel_module("adam")


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
