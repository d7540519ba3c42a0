"""The multi-tensor default path of ``optiforge.torch.Optimizer``: a param group's CPU float32/float64 tensors in
one numba segment-loop call (``step_segments``, ``optiforge/torch/_segments.py``), bit for bit what one call per
tensor computes, with storage and layouts untouched and every way out of the fast path taken where it must be."""
from __future__ import annotations

import numpy
import pytest
import torch

pytest.importorskip("numba")

import optiforge.torch as ot  # noqa: E402
from optiforge.runtime import kernel_support, numba_support  # noqa: E402
from optiforge.runtime.optimizer import available, kernel_module  # noqa: E402

#: Specs whose segment loops CI compiles (each costs a second or two); every catalogue spec with
#: ``SEGMENT_SPECS=all python -m pytest tests/test_torch_segments.py``.
SAMPLE = ("adamw_torch", "sgd_torch", "adabelief", "amsgrad", "lion", "nadam_torch", "radam_torch", "yogi")


def _specs():
    import os

    names = [n for n in available() if hasattr(kernel_module(n, "numba"), "step_segments")]
    return names if os.environ.get("SEGMENT_SPECS") == "all" else [n for n in SAMPLE if n in names]


def _assert_segments_equal_per_tensor(module, name, params, grads, what):
    """Three steps of ``module``'s segment loop over ``params``/``grads`` and of one ``step`` per tensor on copies:
    every parameter and state element bit-identical (NaN included)."""
    sizes = [p.size for p in params]
    dtype = params[0].dtype
    states = [module.init_state(p) for p in params]
    params_alone = [p.copy() for p in params]
    states_alone = [{k: v.copy() for k, v in s.items()} for s in states]
    hp = kernel_support.resolve_hyperparameters(name, module.HYPERPARAMETERS, module.DOMAINS, {})
    table = numpy.array([[p.ctypes.data, g.ctypes.data, *(s[k].ctypes.data for k in module.STATE)]
                         for p, g, s in zip(params, grads, states)], dtype=numpy.int64)
    for t in (1, 2, 3):
        module.step_segments(table, numba_support.segments(sizes), t, hp, dtype)
        for p, g, s in zip(params_alone, grads, states_alone):
            module.step(p, g, s, t)
    for got, alone in zip(params + [v for s in states for v in s.values()],
                          params_alone + [v for s in states_alone for v in s.values()]):
        assert numpy.array_equal(got, alone, equal_nan=True), what


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("name", _specs())
def test_segment_loops_equal_one_call_per_tensor(name, dtype):
    """Sizes around the segment length (one tensor in several segments, an empty one, one element), three steps,
    inputs with zeros, tiny and huge values: every parameter and state element bit-identical."""
    module = kernel_module(name, "numba")
    rng = numpy.random.default_rng(7)
    sizes = [1, 0, 5, numba_support.SEGMENT_ELEMENTS + 3, 2 * numba_support.SEGMENT_ELEMENTS]
    special = numpy.array([0.0, -0.0, 1e-30, -1e30, 1.0], dtype=dtype)
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    grads = [rng.standard_normal(n).astype(dtype) for n in sizes]
    for g in grads:
        g[:len(special)] = special[:len(g)]
    _assert_segments_equal_per_tensor(module, name, params, grads, (name, dtype))


def test_segments_cover_every_element_once():
    sizes = [0, 1, numba_support.SEGMENT_ELEMENTS, numba_support.SEGMENT_ELEMENTS + 1, 3]
    covered = [numpy.zeros(n, int) for n in sizes]
    for k, lo, hi in numba_support.segments(sizes):
        assert 0 <= lo < hi <= sizes[k] and hi - lo <= numba_support.SEGMENT_ELEMENTS
        covered[k][lo:hi] += 1
    assert all((c == 1).all() for c in covered)
    assert numba_support.segments([]).shape == (0, 3)


def _model(dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    conv = torch.nn.Parameter(torch.randn(4, 3, 3, 3, dtype=dtype).to(memory_format=torch.channels_last))
    return [conv, torch.nn.Parameter(torch.randn(40000, dtype=dtype)), torch.nn.Parameter(torch.randn(5, 2, dtype=dtype))]


def _train(opt, params, steps, seed=1, fresh=True):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        for p in params:
            g = torch.randn(p.shape, generator=gen, dtype=p.dtype)
            p.grad = g.contiguous(memory_format=torch.channels_last) if p.ndim == 4 else g
        opt.step()
        if fresh:
            opt.zero_grad()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_group_path_equals_one_call_per_tensor_and_keeps_layouts(dtype, monkeypatch):
    one_call, per_tensor = _model(dtype), _model(dtype)
    pointers = [p.data_ptr() for p in one_call]
    opt = ot.Optimizer(one_call, "adamw_torch", backend="numba", lr=0.01)
    _train(opt, one_call, 6)
    assert (0, (0, 1, 2)) in opt._segment_tables
    reference = ot.Optimizer(per_tensor, "adamw_torch", backend="numba", lr=0.01)
    monkeypatch.setattr(type(reference), "_segment_loops", property(lambda self: False))
    _train(reference, per_tensor, 6)
    for a, b in zip(one_call, per_tensor):
        assert torch.equal(a, b)
        assert torch.equal(opt.state[a]["m"], reference.state[b]["m"])
        assert float(opt.state[a]["step"]) == 6
    assert [p.data_ptr() for p in one_call] == pointers
    assert one_call[0].is_contiguous(memory_format=torch.channels_last)
    assert opt.state[one_call[0]]["v"].is_contiguous(memory_format=torch.channels_last)


def test_ways_out_of_the_group_call_step_the_same_values(monkeypatch):
    """A parameter without a gradient, a gradient that is the parameter, a float64 parameter in a float32
    group, a replaced state tensor and ``maximize``: each steps as the per-tensor path does."""
    def run(segments: bool):
        params = _model() + [torch.nn.Parameter(torch.randn(7, dtype=torch.float64))]
        opt = ot.Optimizer(params, "adam_torch", backend="numba", lr=0.01)
        if not segments:
            monkeypatch.setattr(type(opt), "_segment_loops", property(lambda self: False))
        _train(opt, params, 2, fresh=False)
        params[1].grad = None  # no gradient: not stepped
        opt.step()
        params[2].grad = params[2].detach()  # the parameter itself (allowed; read from a copy)
        opt.step()
        opt.state[params[0]]["m"] = opt.state[params[0]]["m"].clone()  # a state tensor replaced
        _train(opt, params, 2, seed=3, fresh=False)
        opt.param_groups[0]["maximize"] = True
        _train(opt, params, 1, seed=4, fresh=False)
        monkeypatch.undo()
        return params, opt

    (got, opt), (want, reference) = run(True), run(False)
    for a, b in zip(got, want):
        assert torch.equal(a, b)
        assert torch.equal(opt.state[a]["v"], reference.state[b]["v"])
        assert float(opt.state[a]["step"]) == float(reference.state[b]["step"])


def test_a_state_tensor_moved_to_new_memory_rebuilds_the_table():
    """The same tensor object over new memory (``Tensor.set_``): the table must not write the old memory."""
    params = _model()
    opt = ot.Optimizer(params, "adamw_torch", backend="numba")
    _train(opt, params, 2)
    table = opt._segment_tables[(0, (0, 1, 2))]
    state = opt.state[params[1]]["m"]
    old = state.clone()
    state.set_(old.clone())
    _train(opt, params, 1)
    assert opt._segment_tables[(0, (0, 1, 2))] is not table
    assert opt._segment_tables[(0, (0, 1, 2))].table[1, 2] == state.data_ptr()
    assert not torch.equal(state, old)  # stepped where it now lives


@pytest.mark.parametrize("index", range(4))
def test_segment_loops_of_random_specs_equal_one_call_per_tensor(index):
    """Random specs of the differential test's grammar (seeded): the generated numba module's segment loop and
    its per-tensor loop leave identical bits (NaN/inf included) in float32 and float64."""
    from optiforge.codegen.generate import load_module
    from optiforge.specs import SpecError
    from tests.differential import SpecGenerator

    try:
        spec = SpecGenerator(20261207).recipe(index).build()
    except SpecError:
        pytest.skip("the recipe is rejected by validation")
    module = load_module(spec, "numba")
    if not hasattr(module, "step_segments"):  # scalar state: one call per tensor
        return
    rng = numpy.random.default_rng(index)
    sizes = [3, 40, 9]
    for dtype in (numpy.float64, numpy.float32):
        params = [(rng.standard_normal(n) * 2).astype(dtype) for n in sizes]
        grads = [rng.standard_normal(n).astype(dtype) for n in sizes]
        grads[1][:6] = [0.0, -0.0, 1e-30, 50.0, numpy.nan, numpy.inf]
        _assert_segments_equal_per_tensor(module, spec.name, params, grads, (spec.name, dtype))
