"""Independent optimizers stepping in different threads at once give bit-identical results to stepping them
one after the other (scratch buffers are per thread; nothing else is shared).

The arrays span several blocks (``_runtime.block_size``) and NumPy releases the GIL inside ufunc loops, so the
threads' blocks interleave; on main, where the scratch buffers were shared, Adam + Adam in float32 corrupted
nearly every element.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from optiforge.runtime import Optimizer, kernel_module, kernel_support as _runtime

PAIRS = [("adam", "adam"), ("adam", "sgd_torch"), ("rmsprop_torch_centered", "nadam_torch")]
STEPS = 12


def _sizes(dtype) -> list[int]:
    block = _runtime.block_size(_runtime.compute_dtype("test", dtype))
    return [2 * block + 123, 1000]  # three blocks, and a small tensor


def _setup(name, dtype, flat, seed):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(dtype) for n in _sizes(dtype)]
    grads = [[rng.standard_normal(n).astype(dtype) for n in _sizes(dtype)] for _ in range(STEPS)]
    return Optimizer(params, name, flat=flat, lr=0.01), grads


def _run(opt, grads, start: threading.Barrier | None = None):
    if start is not None:
        start.wait()
    for g in grads:
        opt.step(g)


def _results(opt):
    return [p.tobytes() for p in opt.params] + [a.tobytes() for s in opt.state for a in s.values()
                                                 if isinstance(a, np.ndarray)]


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("names", PAIRS, ids="+".join)
def test_concurrent_optimizers_match_sequential_ones_bit_for_bit(names, dtype, flat):
    sequential = [_setup(name, dtype, flat, seed) for seed, name in enumerate(names)]
    for opt, grads in sequential:
        _run(opt, grads)
    concurrent = [_setup(name, dtype, flat, seed) for seed, name in enumerate(names)]
    start = threading.Barrier(len(concurrent))
    threads = [threading.Thread(target=_run, args=(opt, grads, start)) for opt, grads in concurrent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (expected, _), (actual, _) in zip(sequential, concurrent):
        assert actual.t == expected.t == STEPS
        assert _results(actual) == _results(expected)


def test_concurrent_module_steps_on_different_arrays():
    """The generated module's own step (no Optimizer) from four threads at once."""
    adam = kernel_module("adam")
    rng = np.random.default_rng(7)
    n = 3 * _runtime.block_size(np.float32) + 5
    starts = [rng.standard_normal(n).astype(np.float32) for _ in range(4)]
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(4)]

    def run(param, grad, start=None):
        state = adam.init_state(param)
        if start is not None:
            start.wait()
        for t in range(1, STEPS + 1):
            adam.step(param, grad * t, state, t)
        return state

    expected = [p.copy() for p in starts]
    for p, g in zip(expected, grads):
        run(p, g)
    actual = [p.copy() for p in starts]
    start = threading.Barrier(4)
    threads = [threading.Thread(target=run, args=(p, g, start)) for p, g in zip(actual, grads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)
