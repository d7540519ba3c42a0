"""``optiforge.torch.Optimizer``: a torch optimizer over the generated kernels (CPU; CUDA in test_torch_cuda.py).

The adapter is checked against the generated NumPy kernels called directly on the same values (bit for bit:
same kernel, same elements), for every catalogue spec and for generated cases (random specs, shapes, dtypes,
param groups, hyperparameters inside their domains, missing gradients); against torch.optim in training
loops in ``test_torch_training.py``.
"""
from __future__ import annotations

import copy
import importlib
import io
import math
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import optiforge.torch as ot
from optiforge import specs
from optiforge.runtime import kernel_support as _runtime, optimizer as runtime_optimizer

NAMES = specs.names()


def numpy_module(name):
    return importlib.import_module(f"optiforge.generated.numpy.{name}")


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    if tensor.dtype == torch.bfloat16:
        import ml_dtypes
        return tensor.detach().view(torch.int16).numpy().copy().view(ml_dtypes.bfloat16)
    return tensor.detach().numpy().copy()


class DirectKernels:
    """What the adapter must compute: the NumPy module called per tensor with torch's semantics (a parameter
    without a gradient is skipped and its step count does not advance)."""

    def __init__(self, name, params, groups_of, hyperparameters):
        self.module = numpy_module(name)
        self.params = [as_numpy(p) for p in params]
        self.groups_of, self.hyperparameters = groups_of, hyperparameters
        self.state, self.steps = [None] * len(params), [0] * len(params)

    def step(self, grads, **inputs):
        """``inputs``: the spec's inputs besides the gradient, name → one tensor per parameter."""
        for k, g in enumerate(grads):
            if g is None:
                continue
            hp = self.hyperparameters[self.groups_of[k]]
            if self.state[k] is None:
                self.state[k] = self.module.init_state(self.params[k], **hp)
            self.steps[k] += 1
            extra = {name: as_numpy(values[k]) for name, values in inputs.items()}
            self.module.step(self.params[k], as_numpy(g), self.state[k], self.steps[k], **extra, **hp)


def assert_same(tensor, array):
    np.testing.assert_array_equal(as_numpy(tensor).astype(np.float64), np.asarray(array).astype(np.float64))


# ---------------------------------------------------------------------------------------------------------
# every spec of the catalogue
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flat", [False, True], ids=["per-tensor", "flat"])
@pytest.mark.parametrize("name", NAMES)
def test_every_catalogue_spec_steps_like_its_kernel(name, flat):
    gen = torch.Generator().manual_seed(sum(map(ord, name)))
    params = [torch.nn.Parameter(torch.randn(3, 4, generator=gen, dtype=torch.float64)),
              torch.nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64))]
    direct = DirectKernels(name, params, [0, 0], [{}])
    opt = ot.Optimizer(params, name, flat=flat)
    for _ in range(4):
        grads = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        inputs = {name: [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
                  for name in opt.input_names}
        opt.step(**inputs)
        direct.step(grads, **inputs)
    for k, p in enumerate(params):
        assert_same(p, direct.params[k])
        state = opt.state[p]
        assert int(state["step"]) == 4 and state["step"].dtype == torch.float32
        for s in direct.module.STATE:
            assert_same(state[s], direct.state[k][s])
        for s in direct.module.SCALAR_STATE:
            assert float(state[s]) == direct.state[k][s]


# ---------------------------------------------------------------------------------------------------------
# generated cases
# ---------------------------------------------------------------------------------------------------------
def domain_values(domain, default):
    """A few values inside ``domain`` (a generated module's DOMAINS entry), the default first."""
    candidates = [default]
    if isinstance(domain, _runtime.OneOf):
        candidates += list(domain.values)
    elif isinstance(domain, _runtime.Integers):
        candidates += [domain.lo, min(domain.hi, domain.lo + 3)]
    else:
        lo, hi = domain.lo, domain.hi
        if math.isfinite(lo) and math.isfinite(hi):
            candidates += [lo + f * (hi - lo) for f in (0.1, 0.5, 0.9)]
        base = lo if math.isfinite(lo) else 0.0
        candidates += [base + x for x in (1e-3, 0.05, 0.3)] + [default * f for f in (0.5, 2.0)]
    return [float(v) for v in candidates if v in domain]


@st.composite
def cases(draw):
    name = draw(st.sampled_from(NAMES))
    module = numpy_module(name)
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16]))
    shapes = draw(st.lists(st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple), min_size=1, max_size=5))
    groups = draw(st.integers(1, min(3, len(shapes))))
    groups_of = [draw(st.integers(0, groups - 1)) for _ in shapes]
    hyperparameters = [{h: draw(st.sampled_from(domain_values(module.DOMAINS[h], d)))
                        for h, d in module.HYPERPARAMETERS.items() if draw(st.booleans())} for _ in range(groups)]
    present = [[draw(st.booleans()) for _ in shapes] for _ in range(3)]  # which parameters get a gradient
    return name, dtype, shapes, groups_of, hyperparameters, present, draw(st.booleans()), draw(st.integers(0, 99))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_cases_step_like_the_kernels(case):
    name, dtype, shapes, groups_of, hyperparameters, present, flat, seed = case
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(s, generator=gen).to(dtype)) for s in shapes]
    groups = [{"params": [p for p, g in zip(params, groups_of) if g == k], **hp} for k, hp in enumerate(hyperparameters)]
    groups = [g for g in groups if g["params"]]
    order = [p for g in groups for p in g["params"]]
    index_of = {id(p): k for k, p in enumerate(params)}
    group_of_param = {id(p): k for k, g in enumerate(groups) for p in g["params"]}
    resolved = [_runtime.resolve_hyperparameters(name, numpy_module(name).HYPERPARAMETERS, numpy_module(name).DOMAINS,
                                                 {k: v for k, v in g.items() if k != "params"}) for g in groups]
    direct = DirectKernels(name, order, [group_of_param[id(p)] for p in order], resolved)
    opt = ot.Optimizer(groups, name, flat=flat)
    for mask in present:
        grads = [torch.randn(p.shape, generator=gen).to(dtype) if mask[index_of[id(p)]] else None for p in order]
        for p, g in zip(order, grads):
            p.grad = None if g is None else g.clone()
        opt.step()
        direct.step(grads)
    for k, p in enumerate(order):
        assert_same(p, direct.params[k])
        if direct.state[k] is not None:
            assert int(opt.state[p]["step"]) == direct.steps[k]
            for s in direct.module.STATE:
                assert opt.state[p][s].dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
                assert_same(opt.state[p][s], direct.state[k][s])
        elif not flat:
            assert not opt.state[p]  # never had a gradient: no state, as in torch


# ---------------------------------------------------------------------------------------------------------
# hyperparameters, groups, schedulers
# ---------------------------------------------------------------------------------------------------------
def two_groups(dtype=torch.float32):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(4, 3, dtype=dtype))
    bias = torch.nn.Parameter(torch.randn(4, dtype=dtype))
    return weight, bias


def test_groups_carry_the_specs_hyperparameters_and_torch_spellings():
    weight, bias = two_groups()
    opt = ot.Optimizer([{"params": [weight], "weight_decay": 0.1}, {"params": [bias], "lr": 0.05}],
                       "adam_torch", lr=0.01, betas=(0.8, 0.95))
    assert opt.defaults == {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.0,
                            "betas": (0.8, 0.95), "amsgrad": False, "decoupled_weight_decay": False,
                            "maximize": False, "foreach": None, "fused": None, "capturable": False,
                            "differentiable": False}
    assert opt.param_groups[0]["weight_decay"] == 0.1 and opt.param_groups[0]["lr"] == 0.01
    assert opt.param_groups[1]["lr"] == 0.05 and opt.param_groups[1]["beta1"] == 0.8
    assert isinstance(opt, torch.optim.Optimizer) and opt.name == "adam_torch"
    with pytest.raises(TypeError, match="unknown hyperparameter.*momentum"):
        ot.Optimizer([weight], "adam_torch", momentum=0.9)
    with pytest.raises(TypeError, match="both betas and beta1"):
        ot.Optimizer([weight], "adam_torch", betas=(0.8, 0.9), beta1=0.7)
    with pytest.raises(TypeError, match="betas"):
        ot.Optimizer([weight], "sgd_torch", betas=(0.8, 0.9))
    with pytest.raises(ValueError, match=r"betas must be a tuple of 2 numbers"):
        ot.Optimizer([weight], "adam_torch", betas=(0.9,))  # torch refuses it too
    with pytest.raises(ValueError, match=r"beta2=1.0 is outside its allowed range \[0, 1\)"):
        ot.Optimizer([weight], "adam_torch", beta2=1.0)
    with pytest.raises(TypeError, match="did you mean 'weight_decay'"):
        ot.Optimizer([{"params": [weight], "weight_dacay": 0.1}], "adam_torch")
    # keys that are not near a hyperparameter travel along, as in torch (user schedulers use them)
    assert ot.Optimizer([{"params": [weight], "lr_scale": 2.0}], "adam_torch").param_groups[0]["lr_scale"] == 2.0


def test_add_param_group_checks_before_adding():
    weight, bias = two_groups()
    opt = ot.Optimizer([weight], "sgd_torch", lr=0.1)
    with pytest.raises(ValueError, match=r"momentum=-0.5 is outside .* \(in param group 1\)"):
        opt.add_param_group({"params": [bias], "momentum": -0.5})
    with pytest.raises(TypeError, match="dtype torch.int64"):
        opt.add_param_group({"params": [torch.zeros(3, dtype=torch.int64)]})
    with pytest.raises(TypeError, match="dtype torch.complex64"):
        opt.add_param_group({"params": [torch.zeros(3, dtype=torch.complex64, requires_grad=True)]})
    with pytest.raises(TypeError, match="is on meta"):
        opt.add_param_group({"params": [torch.zeros(3, device="meta", requires_grad=True)]})
    with pytest.raises(ValueError, match="does not cover its memory densely"):
        opt.add_param_group({"params": [torch.zeros(4, 4)[:, :2].requires_grad_()]})
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [weight]})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [bias], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


def test_bad_hyperparameters_at_step_change_nothing():
    weight, bias = two_groups()
    opt = ot.Optimizer([{"params": [weight]}, {"params": [bias]}], "adam_torch", lr=0.1)
    for p in (weight, bias):
        p.grad = torch.ones_like(p)
    opt.step()
    before = [weight.detach().clone(), bias.detach().clone(), opt.state[weight]["m"].clone()]
    opt.param_groups[1]["lr"] = float("nan")  # e.g. a scheduler gone wrong
    with pytest.raises(ValueError, match=r"lr=nan is outside .* \(in param group 1\)"):
        opt.step()
    opt.param_groups[1]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"lr=-1.0 is outside .* \(in param group 1\)"):
        opt.step()
    for tensor, expected in zip([weight, bias, opt.state[weight]["m"]], before):
        assert torch.equal(tensor, expected)  # group 0 was not stepped either
    assert int(opt.state[weight]["step"]) == 1
    opt.param_groups[1]["lr"] = torch.tensor(0.01)  # a one-element tensor is a number
    opt.step()
    assert int(opt.state[bias]["step"]) == 2


def test_schedulers_drive_group_lr():
    weight, bias = two_groups(torch.float64)
    opt = ot.Optimizer([{"params": [weight]}, {"params": [bias], "lr": 0.2}], "sgd_torch", lr=0.1, momentum=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    direct = DirectKernels("sgd_torch", [weight, bias], [0, 1], [{"lr": 0.1, "momentum": 0.5}, {"lr": 0.2, "momentum": 0.5}])
    seen = []
    for step in range(5):
        grads = [torch.full_like(weight, 0.5), torch.full_like(bias, -1.0)]
        weight.grad, bias.grad = grads[0].clone(), grads[1].clone()
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        direct.hyperparameters = [{"lr": lr, "momentum": 0.5} for lr in seen[-1]]
        direct.step(grads)
        scheduler.step()
    assert seen == [[0.1, 0.2], [0.1, 0.2], [0.05, 0.1], [0.05, 0.1], [0.025, 0.05]]
    assert_same(weight, direct.params[0])
    assert_same(bias, direct.params[1])


def test_closure_and_parameters_without_a_gradient():
    weight, bias = two_groups()
    frozen = torch.nn.Parameter(torch.ones(2))
    opt = ot.Optimizer([weight, bias, frozen], "adamw_torch", lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (weight.sum() - 1) ** 2 + bias.square().sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert isinstance(loss, torch.Tensor) and loss.requires_grad
    assert frozen.grad is None and not opt.state[frozen] and torch.equal(frozen, torch.ones(2))
    assert int(opt.state[weight]["step"]) == 1
    opt.zero_grad()
    assert weight.grad is None  # set_to_none, as torch
    with torch.no_grad():
        bias.grad = torch.ones_like(bias)
    opt.step()
    assert int(opt.state[weight]["step"]) == 1 and int(opt.state[bias]["step"]) == 2


def test_sparse_gradients_are_rejected_before_any_update():
    weight, bias = two_groups()
    opt = ot.Optimizer([weight, bias], "sgd_torch", lr=0.1)
    weight.grad = torch.ones_like(weight)
    bias.grad = torch.ones_like(bias).to_sparse()
    before = weight.detach().clone()
    with pytest.raises(TypeError, match="sparse gradient"):
        opt.step()
    assert torch.equal(weight, before)


# ---------------------------------------------------------------------------------------------------------
# state dict
# ---------------------------------------------------------------------------------------------------------
def train(opt, params, gen, steps):
    for _ in range(steps):
        for p in params:
            if p.requires_grad:
                g = torch.randn(p.shape, generator=gen, dtype=p.dtype)
                if p.grad is None:
                    p.grad = g
                else:
                    p.grad.copy_(g)  # keep the flat views
        opt.step()


@pytest.mark.parametrize("save_flat, load_flat", [(False, False), (True, True), (False, True), (True, False)])
def test_state_dict_in_torch_layout_resumes_exactly(save_flat, load_flat):
    def fresh():
        weight, bias = two_groups()
        return [weight, bias]

    groups = lambda ps: [{"params": [ps[0]], "weight_decay": 0.01}, {"params": [ps[1]], "lr": 0.02}]  # noqa: E731
    straight = fresh()
    opt = ot.Optimizer(groups(straight), "nadam_torch", lr=0.01, flat=save_flat)
    train(opt, straight, torch.Generator().manual_seed(1), 6)

    params = fresh()
    gen = torch.Generator().manual_seed(1)
    first = ot.Optimizer(groups(params), "nadam_torch", lr=0.01, flat=save_flat)
    train(first, params, gen, 3)
    saved = first.state_dict()
    assert sorted(saved) == ["param_groups", "state"] and sorted(saved["state"]) == [0, 1]
    assert sorted(saved["state"][0]) == ["m", "mu_product", "step", "v"]
    assert saved["state"][0]["step"].dtype == torch.float32 and float(saved["state"][0]["step"]) == 3
    assert saved["param_groups"][1]["params"] == [1] and saved["param_groups"][1]["lr"] == 0.02
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    saved_bytes = buffer.getvalue()
    train(first, params, gen, 1)  # training on must not leak into the saved bytes

    params_after_three = [p.detach().clone() for p in fresh()]
    replay = fresh()
    gen = torch.Generator().manual_seed(1)
    replay_opt = ot.Optimizer(groups(replay), "nadam_torch", lr=0.01)
    train(replay_opt, replay, gen, 3)
    params_after_three = [p.detach().clone() for p in replay]

    resumed = [torch.nn.Parameter(p.clone()) for p in params_after_three]
    opt2 = ot.Optimizer(groups(resumed), "nadam_torch", lr=0.5, weight_decay=0.3, flat=load_flat)
    opt2.load_state_dict(torch.load(io.BytesIO(saved_bytes)))
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["weight_decay"] == 0.01
    train(opt2, resumed, gen, 3)
    for a, b in zip(resumed, straight):
        assert torch.equal(a, b)
    assert float(opt2.state[resumed[0]]["step"]) == 6


def test_load_state_dict_rejects_mismatches_and_changes_nothing():
    weight, bias = two_groups()
    opt = ot.Optimizer([{"params": [weight]}, {"params": [bias]}], "adam_torch", lr=0.1)
    train(opt, [weight, bias], torch.Generator().manual_seed(0), 2)
    good = copy.deepcopy(opt.state_dict())
    before = copy.deepcopy(opt.state_dict())

    def broken(change):
        state_dict = copy.deepcopy(good)
        change(state_dict)
        return state_dict

    cases = [
        (lambda sd: sd["param_groups"].pop(), ValueError, "1 param groups"),
        (lambda sd: sd["param_groups"][0]["params"].append(7), ValueError, "has 2 parameters"),
        (lambda sd: sd["param_groups"][1].update(beta1=1.5), ValueError, r"beta1=1.5 .*\(in param group 1\)"),
        (lambda sd: sd["state"][1].pop("v"), ValueError, "keys"),
        (lambda sd: sd["state"][1].update(max_exp_avg_sq=sd["state"][1]["m"]), ValueError, "no counterpart"),
        (lambda sd: sd["state"][1].update(exp_avg=sd["state"][1].pop("v")), ValueError, "both torch's and the spec's"),
        (lambda sd: sd["state"][1].update(m=torch.zeros(5)), ValueError, r"shape \(5,\)"),
        (lambda sd: sd["state"][1].update(step=torch.tensor(-1.0)), ValueError, "integer >= 0"),
        (lambda sd: sd["state"][1].update(step=torch.tensor(1.5)), ValueError, "integer >= 0"),
        (lambda sd: sd["state"].update({5: sd["state"][0]}), ValueError, "no param group lists"),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            opt.load_state_dict(broken(change))
        now = opt.state_dict()
        assert [g["lr"] for g in now["param_groups"]] == [g["lr"] for g in before["param_groups"]]
        for k in (0, 1):
            for key in ("m", "v", "step"):
                assert torch.equal(now["state"][k][key], before["state"][k][key])
    # a state dict without state for a parameter starts that parameter afresh (as a new optimizer would)
    partial = copy.deepcopy(good)
    del partial["state"][1]
    opt.load_state_dict(partial)
    assert not opt.state[bias] and int(opt.state[weight]["step"]) == 2


# ---------------------------------------------------------------------------------------------------------
# dtypes and layouts
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_parameters_keep_float32_state(dtype):
    gen = torch.Generator().manual_seed(3)
    params = [torch.nn.Parameter(torch.randn(6, 5, generator=gen).to(dtype))]
    direct = DirectKernels("adam_torch", params, [0], [{"lr": 0.01, "weight_decay": 0.1}])
    opt = ot.Optimizer(params, "adam_torch", lr=0.01, weight_decay=0.1)
    for _ in range(5):
        g = torch.randn(6, 5, generator=gen).to(dtype)
        params[0].grad = g.clone()
        opt.step()
        direct.step([g])
    assert params[0].dtype == dtype and opt.state[params[0]]["m"].dtype == torch.float32
    assert_same(params[0], direct.params[0])
    assert_same(opt.state[params[0]]["v"], direct.state[0]["v"])


def test_channels_last_parameters_step_in_their_own_layout():
    gen = torch.Generator().manual_seed(4)
    values = torch.randn(3, 4, 2, 5, generator=gen)
    grads = [torch.randn(3, 4, 2, 5, generator=gen) for _ in range(3)]
    results = []
    for memory_format in (torch.contiguous_format, torch.channels_last):
        p = torch.nn.Parameter(values.clone().to(memory_format=memory_format))
        opt = ot.Optimizer([p], "rmsprop_torch_centered", lr=0.01, momentum=0.9)
        for g in grads:
            p.grad = g.clone().to(memory_format=memory_format)
            opt.step()
        p.grad = grads[0].clone().contiguous()  # a gradient laid out unlike its parameter
        opt.step()
        assert p.is_contiguous(memory_format=memory_format)
        assert opt.state[p]["v"].is_contiguous(memory_format=memory_format)
        results.append(p.detach().clone())
    assert torch.equal(results[0], results[1])


# ---------------------------------------------------------------------------------------------------------
# flat mode
# ---------------------------------------------------------------------------------------------------------
class CountingModule(types.ModuleType):
    """A kernel module that counts ``step`` calls and the elements they cover."""

    def __init__(self, module):
        super().__init__(module.__name__)
        self.__dict__.update({k: v for k, v in vars(module).items() if k.isupper()})
        self.init_state, self._step, self.calls = module.init_state, module.step, []

    def step(self, param, grad, state, t, **hyperparameters):
        self.calls.append(param.size)
        self._step(param, grad, state, t, **hyperparameters)


def test_flat_mode_one_call_per_group_and_dtype_with_views_that_survive_backward():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    model[2].double()
    frozen = torch.nn.Parameter(torch.ones(3), requires_grad=False)
    reference_model = copy.deepcopy(model)
    params = list(model.parameters())
    opt = ot.Optimizer([{"params": params[:2] + [frozen]}, {"params": params[2:], "lr": 0.05}], "adam_torch",
                       lr=0.01, flat=True)
    reference = ot.Optimizer([{"params": list(reference_model.parameters())[:2]},
                              {"params": list(reference_model.parameters())[2:], "lr": 0.05}], "adam_torch", lr=0.01)
    counting = CountingModule(opt._bridges["cpu"].module)
    opt._bridges["cpu"].module = counting
    buffers = {p.data_ptr() - (p.storage_offset() * p.element_size()) for p in params + [frozen]}
    assert len(buffers) == 3  # group 0: float32 (the frozen one apart), group 1: float64
    grad_views = [p.grad for p in params]
    assert all(g is not None and torch.equal(g, torch.zeros_like(g)) for g in grad_views) and frozen.grad is None
    x = torch.randn(5, 3)
    for step in range(4):
        for m, o in ((model, opt), (reference_model, reference)):
            o.zero_grad()
            m[2](m[1](m[0](x)).double()).square().sum().backward()
            o.step()
        assert all(p.grad is g for p, g in zip(params, grad_views))  # accumulated in place
    assert counting.calls == [12 + 4, 8 + 2] * 4 and frozen.grad is None and torch.equal(frozen, torch.ones(3))
    for p, q in zip(model.parameters(), reference_model.parameters()):
        assert torch.equal(p, q)
    opt.zero_grad()
    assert all(p.grad is g and not g.any() for p, g in zip(params, grad_views))
    # model.zero_grad() sets .grad to None: backward allocates new gradients, which are copied back in
    for m, o in ((model, opt), (reference_model, reference)):
        m.zero_grad()
        m[2](m[1](m[0](x)).double()).sum().backward()
        o.step()
    assert all(p.grad is g for p, g in zip(params, grad_views))
    for p, q in zip(model.parameters(), reference_model.parameters()):
        assert torch.equal(p, q)
    # a parameter replaced through .data (same shape and dtype) is copied back into the buffer
    with torch.no_grad():
        params[0].data = torch.zeros(4, 3)
        reference_model[0].weight.data = torch.zeros(4, 3)
    for m, o in ((model, opt), (reference_model, reference)):
        m[2](m[1](m[0](x)).double()).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), reference_model.parameters()):
        assert torch.equal(p, q)
    with torch.no_grad():
        params[0].data = torch.zeros(4, 3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="build a new optimizer"):
        opt.step()


def test_flat_mode_with_missing_gradients_steps_the_others_per_tensor():
    weight, bias = two_groups()
    other_w, other_b = (torch.nn.Parameter(p.detach().clone()) for p in (weight, bias))
    flat = ot.Optimizer([weight, bias], "sgd_torch", lr=0.1, momentum=0.9, flat=True)
    plain = ot.Optimizer([other_w, other_b], "sgd_torch", lr=0.1, momentum=0.9)
    for step in range(3):
        for w, b, o in ((weight, bias, flat), (other_w, other_b, plain)):
            w.grad = torch.full_like(w, 0.1 * step + 0.1)
            b.grad = None if step == 1 else torch.full_like(b, -0.2)
            o.step()
    assert torch.equal(weight, other_w) and torch.equal(bias, other_b)
    assert [int(flat.state[p]["step"]) for p in (weight, bias)] == [3, 2]


# ---------------------------------------------------------------------------------------------------------
# AMP
# ---------------------------------------------------------------------------------------------------------
def test_grad_scaler_skips_the_step_on_inf_and_unscales_otherwise():
    for flat in (False, True):
        weight, bias = two_groups()
        twin = [torch.nn.Parameter(p.detach().clone()) for p in (weight, bias)]
        opt = ot.Optimizer([weight, bias], "adam_torch", lr=0.1, flat=flat)
        plain = ot.Optimizer(twin, "adam_torch", lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
        loss = weight.sum() * 2 + bias.square().sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        (twin[0].sum() * 2 + twin[1].square().sum()).backward()
        plain.step()
        for p, q in zip((weight, bias), twin):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-7)
        before = [weight.detach().clone(), bias.detach().clone()]
        opt.zero_grad()
        scaler.scale(weight.sum() * float("inf")).backward()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == 512.0
        assert torch.equal(weight, before[0]) and torch.equal(bias, before[1])
        assert int(opt.state[weight]["step"]) == 1


# ---------------------------------------------------------------------------------------------------------
# kernels: user specs, backend choice, the CuPy modules' API (host-emulated)
# ---------------------------------------------------------------------------------------------------------
def user_spec(name="adam_eps_inside_torch_test"):
    import sympy as sp

    from optiforge import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

    spec = SpecBuilder(name, "Adam, ε inside the square root", reference="test")
    lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
    beta1 = spec.hyper("beta1", 0.9, r"\beta_1", UNIT_HALF_OPEN)
    beta2 = spec.hyper("beta2", 0.999, r"\beta_2", UNIT_HALF_OPEN)
    eps = spec.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
    m, v = spec.state("m", 0), spec.state("v", 0)
    spec.update(m, beta1 * m + (1 - beta1) * g)
    spec.update(v, beta2 * v + (1 - beta2) * g**2)
    spec.update(theta, theta - lr * (m / (1 - beta1**t)) / sp.sqrt(v / (1 - beta2**t) + eps))
    return spec.build()


def test_user_specs_are_built_in_memory_once():
    from optiforge.codegen.generate import load_module

    spec = user_spec()
    weight, bias = two_groups(torch.float64)
    opt = ot.Optimizer([weight, bias], spec, lr=0.1, betas=(0.5, 0.9))
    assert ot.Optimizer([torch.nn.Parameter(torch.ones(2))], spec)._kernels.cpu is opt._kernels.cpu  # cached
    kernel = load_module(spec)
    expected = [as_numpy(p) for p in (weight, bias)]
    states = [kernel.init_state(e) for e in expected]
    for t in range(1, 4):
        weight.grad, bias.grad = torch.full_like(weight, 0.3 * t), torch.full_like(bias, -0.1)
        opt.step()
        for e, s, g in zip(expected, states, (0.3 * t, -0.1)):
            kernel.step(e, np.full_like(e, g), s, t, lr=0.1, beta1=0.5, beta2=0.9)
    assert_same(weight, expected[0])
    assert_same(bias, expected[1])
    registered = specs.register(user_spec("registered_torch_test"), replace=True)
    assert ot.Optimizer([torch.nn.Parameter(torch.ones(2))], "registered_torch_test").name == registered.name
    with pytest.raises(KeyError, match="did you mean 'adam_torch'"):
        ot.Optimizer([weight], "adam_torc")
    with pytest.raises(TypeError, match="name_or_spec"):
        ot.Optimizer([weight], 3)


def test_cpu_backend_numba_when_available_else_numpy(monkeypatch):
    """backend='auto' takes the compiled backend's module when it is generated and imports; else NumPy."""
    numpy_adam = numpy_module("adam_torch")
    fake = CountingModule(numpy_adam)
    package = types.ModuleType("optiforge.generated.numba")
    package.__path__ = []
    monkeypatch.setattr(runtime_optimizer, "BACKENDS", runtime_optimizer.BACKENDS + ("numba",))
    monkeypatch.setattr(runtime_optimizer, "available", lambda backend="numpy": ["adam_torch", "sgd_torch"])
    monkeypatch.setitem(sys.modules, "optiforge.generated.numba", package)
    monkeypatch.setitem(sys.modules, "optiforge.generated.numba.adam_torch", fake)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "numba" else real_find_spec(name, *a))
    weight = torch.nn.Parameter(torch.ones(3))
    opt = ot.Optimizer([weight], "adam_torch", lr=0.1)
    assert opt._kernels.cpu_backend == "numba"
    weight.grad = torch.ones(3)
    opt.step()
    assert fake.calls == [3]
    # a backend module that fails to import (e.g. numba broken): NumPy; insisting on it: ImportError
    monkeypatch.setitem(sys.modules, "optiforge.generated.numba.sgd_torch", None)
    assert ot.Optimizer([weight], "sgd_torch")._kernels.cpu_backend == "numpy"
    with pytest.raises(ImportError, match="'numba' CPU backend is not available"):
        ot.Optimizer([weight], "sgd_torch", backend="numba")
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba" else real_find_spec(name, *a))
    assert ot.Optimizer([weight], "adam_torch")._kernels.cpu_backend == "numpy"  # numba not installed
    assert ot.Optimizer([weight], "adam_torch", backend="numpy")._kernels.cpu_backend == "numpy"
    with pytest.raises(ValueError, match="backend must be"):
        ot.Optimizer([weight], "adam_torch", backend="cupy")


@pytest.fixture(scope="module")
def host_runtime():
    from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, gxx

    if gxx() is None:
        pytest.skip("g++ not on PATH: cannot host-emulate the CuPy kernels")
    modules = [importlib.import_module(f"optiforge.generated.cupy.{n}") for n in ("adam_torch", "nadam_torch")]
    return HostRuntime({p: [m.KERNELS[p] for m in modules] for p in ("float32", "float64")})


@pytest.mark.parametrize("name", ["adam_torch", "nadam_torch"])
def test_the_cupy_modules_api_through_the_adapter(name, host_runtime):
    """The adapter drives a generated CuPy module as it does on a GPU (arrays, stream=, scalar state), here
    with the kernels compiled for the host, and gets the NumPy path's results."""
    from optiforge.codegen.cupy_backend.host_emulation import emulate

    emulated = emulate(importlib.import_module(f"optiforge.generated.cupy.{name}"), host_runtime)
    stream = object()

    class OnStream:
        def __enter__(self):
            return stream

        def __exit__(self, *exc):
            return False

    results = {}
    for flat in (False, True):
        for kernel in ("numpy", "cupy"):
            weight, bias = two_groups()
            opt = ot.Optimizer([weight, bias], name, lr=0.05, weight_decay=0.01, flat=flat)
            if kernel == "cupy":
                opt._bridges["cpu"] = ot.optimizer._Bridge(emulated, opt._bridges["cpu"].array, lambda device: OnStream())
                host_runtime.streams.clear()
            train(opt, [weight, bias], torch.Generator().manual_seed(5), 4)
            results[flat, kernel] = (weight.detach().clone(), bias.detach().clone())
            if kernel == "cupy":
                assert host_runtime.streams == [stream] * (4 if flat else 8)
    for kernel in ("numpy", "cupy"):  # same kernel: flat and per tensor agree bit for bit
        assert all(torch.equal(a, b) for a, b in zip(results[True, kernel], results[False, kernel]))
    # the two backends may order a few operations differently (tests/cupy_trajectories.py bounds that)
    for a, b in zip(results[False, "cupy"], results[False, "numpy"]):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    if name == "adam_torch":  # same expression order: bit-identical
        assert all(torch.equal(a, b) for a, b in zip(results[False, "cupy"], results[False, "numpy"]))


def test_import_optiforge_stays_free_of_torch_and_sympy():
    code = ("import sys, numpy, optiforge\n"
            "w = numpy.ones(3, numpy.float32)\n"
            "optiforge.Optimizer([w], 'adam').step([w.copy()])\n"
            "assert 'torch' not in sys.modules and 'sympy' not in sys.modules, 'optiforge'\n"
            "import optiforge.torch, torch\n"
            "assert 'sympy' not in sys.modules, 'optiforge.torch imported sympy'\n"
            "optiforge.torch.Optimizer([torch.nn.Parameter(torch.ones(2))], 'adam_torch')\n"
            "# (torch's own Optimizer base imports SymPy through torch._dynamo; a catalogue name needs no spec)\n"
            "assert not [m for m in sys.modules if m.startswith(('optiforge.specs', 'optiforge.codegen'))]\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pickling_points_to_the_state_dict():
    opt = ot.Optimizer([torch.nn.Parameter(torch.ones(2))], "adam_torch")
    with pytest.raises(TypeError, match="state_dict"):
        copy.deepcopy(opt)


@pytest.mark.parametrize("flat", [False, True])
def test_a_step_between_forward_and_backward_is_detected_by_autograd(flat):
    """The kernels write through NumPy views, invisible to autograd: the adapter bumps the version counters."""
    weight = torch.nn.Parameter(torch.ones(3))
    opt = ot.Optimizer([weight], "sgd_torch", lr=0.1, flat=flat)
    weight.grad = torch.ones(3)
    loss = (weight * weight).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
