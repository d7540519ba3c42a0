"""Multi-tensor flat buffers: one step over the buffers equals one step per tensor, and views alias."""
from __future__ import annotations

import importlib

import numpy
import pytest

from optiforge import specs
from optiforge.runtime.flat import FlatBuffer, MultiTensor
from catalog_support import step_inputs

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]


def test_views_alias_the_buffer():
    flat = FlatBuffer(numpy.zeros(sum(numpy.prod(s) for s in SHAPES)), SHAPES)
    flat.views[2][1, 2, 1] = 7.0
    assert flat.buffer[12 + 5 + 1 * 6 + 2 * 2 + 1] == 7.0
    assert [v.shape for v in flat.views] == SHAPES and all(v.flags.c_contiguous for v in flat.views)
    with pytest.raises(ValueError):
        FlatBuffer(numpy.zeros(3), SHAPES)


@pytest.mark.parametrize("name", specs.names())
def test_one_flat_step_equals_per_tensor_steps(name):
    module = importlib.import_module(f"optiforge.generated.numpy.{name}")
    rng = numpy.random.default_rng(0)
    params = [rng.standard_normal(s).astype(numpy.float32) for s in SHAPES]
    separate = [p.copy() for p in params]
    states = [module.init_state(p) for p in separate]
    flat = MultiTensor(module, params)
    for t in range(1, 4):
        grads = [rng.standard_normal(s).astype(numpy.float32) for s in SHAPES]
        for view, g in zip(flat.grads, grads):
            view[...] = g
        inputs = step_inputs(module, lambda: [rng.standard_normal(s).astype(numpy.float32) for s in SHAPES])
        for name_, values in inputs.items():
            for view, value in zip(flat.inputs[name_], values):
                view[...] = value
        flat.step(t)
        for k, (p, g, s) in enumerate(zip(separate, grads, states)):
            module.step(p, g, s, t, **{name_: values[k] for name_, values in inputs.items()})
    for k, p in enumerate(separate):
        numpy.testing.assert_array_equal(flat.params[k], p)
        for state_name in module.STATE:
            numpy.testing.assert_array_equal(flat.state[state_name][k], states[k][state_name])
    for state_name in module.SCALAR_STATE:
        assert flat.scalar_state[state_name] == states[0][state_name]
