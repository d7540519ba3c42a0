"""A refused ``optiforge.torch.Optimizer.step`` writes nothing: a property test drives bad gradients, state,
hyperparameters and flags, at any parameter of any group, through both paths (per tensor and ``flat=True``)
and finds every parameter, state tensor and step counter bit-identical afterwards."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import optiforge.torch as ot  # noqa: E402

SHAPES = [(3, 2), (4,), (2, 2, 2, 2), (1,)]


def replace_grad_data(p, data) -> bool:
    p.grad = p.grad.detach().clone()  # a tensor of its own (in flat mode .grad is a view of the buffer)
    p.grad.data = data  # torch refuses `p.grad = data` of another shape or dtype; .data does not check
    return True


def set_item(mapping, key, value) -> bool:
    mapping[key] = value
    return True


def set_state(opt, p, name, value=None) -> bool:
    """``state[p][name] = value`` (None: delete it); False when ``p`` has no state yet."""
    if not opt.state.get(p):
        return False
    if value is None:
        del opt.state[p][name]
    else:
        opt.state[p][name] = value
    return True


def overlapping_grad(p) -> bool:
    """``p`` and its gradient as views of one buffer, one element apart."""
    buffer = torch.cat([p.detach().reshape(-1), torch.zeros(1)])
    p.data = buffer[:-1].view(p.shape)
    return replace_grad_data(p, buffer[1:].view(p.shape))


#: bad input → how to apply it to parameter ``p`` of group ``group`` of ``opt``; False: not applicable here.
#: (A gradient on another device needs a second device: the check is there, untested on the CPU.)
CORRUPTIONS = {
    "grad of another shape": lambda opt, group, p: replace_grad_data(p, torch.ones(p.numel() + 1)),
    "integer grad": lambda opt, group, p: replace_grad_data(p, torch.ones(p.shape, dtype=torch.int64)),
    "sparse grad": lambda opt, group, p: setattr(p, "grad", torch.ones(p.shape).to_sparse()) is None,
    "grad is the state": lambda opt, group, p: not opt.flat and bool(opt.state.get(p)) and setattr(
        p, "grad", opt.state[p]["m"]) is None,
    "grad overlaps the parameter": lambda opt, group, p: not opt.flat and overlapping_grad(p),
    "lr nan": lambda opt, group, p: set_item(group, "lr", float("nan")),
    "lr negative": lambda opt, group, p: set_item(group, "lr", -1.0),
    "beta1 one": lambda opt, group, p: set_item(group, "beta1", 1.0),
    "betas out of range": lambda opt, group, p: set_item(group, "betas", (0.9, 1.5)),
    "eps a string": lambda opt, group, p: set_item(group, "eps", "small"),
    "maximize not a bool": lambda opt, group, p: set_item(group, "maximize", "yes"),
    "capturable": lambda opt, group, p: set_item(group, "capturable", True),
    "amsgrad switched": lambda opt, group, p: "amsgrad" in group and set_item(group, "amsgrad", True),
    "state of another shape": lambda opt, group, p: set_state(opt, p, "m", torch.zeros(7)),
    "state of another dtype": lambda opt, group, p: set_state(opt, p, "v", torch.zeros(p.shape, dtype=torch.float64)),
    "state missing": lambda opt, group, p: set_state(opt, p, "v"),
    "fractional step": lambda opt, group, p: set_state(opt, p, "step", torch.tensor(1.5)),
    "negative step": lambda opt, group, p: set_state(opt, p, "step", torch.tensor(-1.0)),
    # (a parameter without state may change dtype: its state is created at its first step)
    "parameter recast": lambda opt, group, p: bool(opt.flat or opt.state.get(p)) and setattr(
        p, "data", p.data.double()) is None,
}


def snapshot(opt) -> list:
    """Every parameter, state tensor and counter of ``opt``, copied bit for bit (flat buffers included)."""
    tensors = []
    for group in opt.param_groups:
        for p in group["params"]:
            tensors.append(p.detach().clone())
            for name, value in sorted(opt.state.get(p, {}).items()):
                tensors.append((name, value.detach().clone() if isinstance(value, torch.Tensor) else value))
    for counters in opt._counters:
        tensors.append(counters.steps.clone())
        tensors.extend(values.clone() for values in counters.scalars.values())
    for partitions in opt._partitions:
        for partition in partitions:
            tensors.extend(b.clone() for b in (partition.param_buffer, *partition.state_buffers.values()))
    return tensors


def same(a, b) -> bool:
    if isinstance(a, tuple):
        return a[0] == b[0] and same(a[1], b[1])
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype
                and torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)))
    return a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat=st.booleans(), name=st.sampled_from(["adam_torch", "nadam_torch"]), warmup=st.integers(0, 2),
       corruption=st.sampled_from(sorted(CORRUPTIONS)), where=st.integers(0, len(SHAPES) - 1),
       missing=st.booleans(), seed=st.integers(0, 2**16))
def test_a_refused_step_changes_nothing(flat, name, warmup, corruption, where, missing, seed):
    generator = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in SHAPES]
    opt = ot.Optimizer([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], name, backend="numpy",
                       flat=flat, lr=0.1)
    for _ in range(warmup):
        for p in params:
            p.grad = torch.randn(p.shape, generator=generator)
        if missing:
            params[0].grad = None  # a parameter without a gradient: its state and count lag behind
        opt.step()
    for p in params:
        p.grad = torch.randn(p.shape, generator=generator)
    p = params[where]
    group = opt.param_groups[0 if where < 2 else 1]
    hypothesis.assume(CORRUPTIONS[corruption](opt, group, p))
    before = snapshot(opt)
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        opt.step()
    after = snapshot(opt)
    assert len(before) == len(after) and all(same(a, b) for a, b in zip(before, after)), corruption
