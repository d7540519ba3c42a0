"""optiforge.torch as a drop-in for torch.optim: torch's constructor arguments, schedulers that write
``betas``, torch.optim state dicts in and out, kernel modules, torch.compile, channels_last."""
from __future__ import annotations

import copy
import io
import logging

import pytest

torch = pytest.importorskip("torch")

import optiforge.torch as ot  # noqa: E402
from optiforge.torch import interop  # noqa: E402
from optiforge.torch import optimizer as optimizer_module  # noqa: E402

#: (torch class, spec name, constructor arguments): every PEERS entry reached through torch's flags.
CASES = [
    ("Adam", "adam_torch", {"weight_decay": 0.1}),
    ("Adam", "adam_torch", {"amsgrad": True}),
    ("AdamW", "adamw_torch", {}),
    ("AdamW", "adamw_torch", {"amsgrad": True, "betas": (0.8, 0.99)}),
    ("SGD", "sgd_torch", {"lr": 0.1}),
    ("SGD", "sgd_torch", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", "sgd_torch", {"lr": 0.1, "momentum": 0.9, "dampening": 0, "nesterov": True}),
    ("RMSprop", "rmsprop_torch", {}),
    ("RMSprop", "rmsprop_torch", {"momentum": 0.5, "centered": True}),
    ("Adagrad", "adagrad_torch", {"initial_accumulator_value": 0.1, "lr_decay": 0.01}),
    ("NAdam", "nadam_torch", {}),
    ("NAdam", "nadam_torch", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", "radam_torch", {}),
    ("RAdam", "radam_torch", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("Adamax", "adamax_torch", {}),
    ("Adadelta", "adadelta_torch", {"lr": 0.5}),
]


def small_model(memory_format=None, dtype=torch.float32):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 2), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(12, 1))
    model = model.to(dtype)
    return model.to(memory_format=memory_format) if memory_format else model


def train(model, opt, steps, seed, scheduler=None):
    generator = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    for _ in range(steps):
        x = torch.randn(8, 2, 3, 3, generator=generator, dtype=dtype)
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def relative_difference(model_a, model_b) -> float:
    with torch.no_grad():
        return max(float((a - b).abs().max() / a.abs().max())
                   for a, b in zip(model_a.parameters(), model_b.parameters()))


def through_a_file(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def twin(model):
    other = small_model(dtype=next(model.parameters()).dtype)
    other.load_state_dict(model.state_dict())
    return other


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("torch_class, name, arguments", CASES, ids=lambda c: str(c))
def test_torch_checkpoints_continue_the_same_curve_both_ways(torch_class, name, arguments, flat):
    """In float64, where the kernels compute what torch computes up to round-off (float32 runs agree to
    about 1e-7, and the AdamW loop below checks one at 1e-6)."""
    arguments = {"lr": 0.01, **arguments}
    peer = getattr(torch.optim, torch_class)
    # torch keeps NAdam's mu_product a float32 tensor even for float64 parameters
    tolerance = 1e-9 if torch_class == "NAdam" else 1e-12
    # torch for 5 steps, its state dict (through a file) into optiforge, 5 more steps on both
    model = small_model(dtype=torch.float64)
    torch_opt = peer(model.parameters(), **arguments)
    train(model, torch_opt, 5, 1)
    ours_model = twin(model)
    ours = ot.Optimizer(ours_model.parameters(), name, flat=flat, **arguments)
    ours.load_state_dict(through_a_file(torch_opt.state_dict()))
    assert interop.PEERS[ours.name].torch_class == torch_class
    train(model, torch_opt, 5, 2)
    train(ours_model, ours, 5, 2)
    assert relative_difference(model, ours_model) <= tolerance
    # the reverse: optiforge for 5 steps, exported to torch's layout, 5 more steps on both
    model = small_model(dtype=torch.float64)
    ours = ot.Optimizer(model.parameters(), name, flat=flat, **arguments)
    train(model, ours, 5, 1)
    torch_model = twin(model)
    torch_opt = peer(torch_model.parameters(), **arguments)
    torch_opt.load_state_dict(through_a_file(ours.torch_state_dict()))
    train(model, ours, 5, 2)
    train(torch_model, torch_opt, 5, 2)
    assert relative_difference(torch_model, model) <= tolerance


def test_state_without_a_counterpart_is_refused_before_anything_changes():
    model = small_model()
    torch_opt = torch.optim.Adam(model.parameters(), amsgrad=True)
    train(model, torch_opt, 1, 1)
    saved = torch_opt.state_dict()
    ours = ot.Optimizer(model.parameters(), "adam_torch")
    with pytest.raises(ValueError, match=r"amsgrad=True, this optimizer \(adam_torch\) amsgrad=False"):
        ours.load_state_dict(saved)
    for group in saved["param_groups"]:
        group["amsgrad"] = False
    with pytest.raises(ValueError, match=r"'max_exp_avg_sq', which has no counterpart in this spec"):
        ours.load_state_dict(saved)
    assert not ours.state and ours.param_groups[0]["amsgrad"] is False
    adam = torch.optim.Adam(model.parameters(), weight_decay=0.1)  # coupled decay: not AdamW's update
    with pytest.raises(ValueError, match=r"decoupled_weight_decay=False, this optimizer \(adamw_torch\)"):
        ot.Optimizer(model.parameters(), "adamw_torch").load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="reproduces no torch.optim optimizer"):
        ot.Optimizer(model.parameters(), "adam").torch_state_dict()


def test_torch_flags_select_the_spec_or_are_refused_with_the_reason():
    params = list(small_model().parameters())
    assert ot.Optimizer(params, "adam_torch", amsgrad=True).name == "amsgrad_torch"
    assert ot.Optimizer(params, "amsgrad_torch", amsgrad=False).name == "adam_torch"
    assert ot.Optimizer(params, "adamw_torch", amsgrad=True).name == "adamw_amsgrad_torch"
    assert ot.Optimizer(params, "sgd_torch", momentum=0.9, nesterov=True).name == "sgd_torch_nesterov"
    assert ot.Optimizer(params, "sgd_torch", momentum=0.9, dampening=0, nesterov=True).name == "sgd_torch_nesterov"
    with pytest.raises(ValueError, match="needs dampening=0"):
        ot.Optimizer(params, "sgd_torch", momentum=0.9, dampening=0.1, nesterov=True)
    assert ot.Optimizer(params, "rmsprop_torch", centered=True).name == "rmsprop_torch_centered"
    assert ot.Optimizer(params, "radam_torch", decoupled_weight_decay=True).name == "radamw_torch"
    assert ot.Optimizer(params, "adam_torch", decoupled_weight_decay=True, amsgrad=True).name == "adamw_amsgrad_torch"
    from optiforge.generated.numpy import adam_torch as module

    assert ot.Optimizer(params, module, amsgrad=False)._kernels.cpu is module  # a module keeps its flags
    assert ot.Optimizer(params, module, amsgrad=True).name == "amsgrad_torch"
    opt = ot.Optimizer(params, "adamw_torch", foreach=True, fused=False, capturable=False, differentiable=False)
    assert opt.param_groups[0]["fused"] is False and opt.param_groups[0]["foreach"] is True
    with pytest.raises(ValueError, match="capturable=True is not supported: .*CUDA graph"):
        ot.Optimizer(params, "adamw_torch", capturable=True)
    with pytest.raises(ValueError, match="differentiable=True is not supported: .*autograd"):
        ot.Optimizer(params, "adamw_torch", differentiable=True)
    with pytest.raises(TypeError, match="amsgrad selects a variant .* adam has no such variant"):
        ot.Optimizer(params, "adam", amsgrad=True)
    with pytest.raises(TypeError, match="maximize must be True or False"):
        ot.Optimizer(params, "adam_torch", maximize="yes")
    with pytest.raises(ValueError, match="amsgrad selects the spec"):
        ot.Optimizer([{"params": params[:1], "amsgrad": True}, {"params": params[1:]}], "adam_torch")


@pytest.mark.parametrize("flat", [False, True])
def test_maximize_ascends_as_torch_does(flat):
    model = small_model()
    reference = twin(model)
    train(model, ot.Optimizer(model.parameters(), "adamw_torch", lr=0.01, maximize=True, flat=flat), 4, 3)
    train(reference, torch.optim.AdamW(reference.parameters(), lr=0.01, maximize=True), 4, 3)
    assert relative_difference(reference, model) <= 1e-6


def test_betas_and_beta1_beta2_stay_in_sync():
    opt = ot.Optimizer(small_model().parameters(), "adam_torch", betas=(0.8, 0.9))
    group = opt.param_groups[0]
    assert group["betas"] == (0.8, 0.9) and group["beta1"] == 0.8
    group["betas"] = (0.7, 0.95)
    assert (group["beta1"], group["beta2"]) == (0.7, 0.95)
    group["beta2"] = 0.5
    assert group["betas"] == (0.7, 0.5)
    with pytest.raises(ValueError, match="betas must be a tuple of 2 numbers"):
        group["betas"] = (0.9,)
    assert opt.state_dict()["param_groups"][0]["betas"] == (0.7, 0.5)


@pytest.mark.parametrize("schedule", ["one_cycle", "cyclic"])
def test_momentum_cycling_schedulers_drive_the_same_curve_as_torch(schedule):
    def scheduler(opt):
        if schedule == "one_cycle":  # cycle_momentum=True by default: writes group["betas"]
            return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=12)
        return torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=3,
                                                 base_momentum=0.8, max_momentum=0.95)

    model = small_model()
    reference = twin(model)
    ours = ot.Optimizer(model.parameters(), "adamw_torch", lr=0.01, weight_decay=0.05)
    torch_opt = torch.optim.AdamW(reference.parameters(), lr=0.01, weight_decay=0.05)
    train(model, ours, 12, 4, scheduler(ours))
    train(reference, torch_opt, 12, 4, scheduler(torch_opt))
    assert ours.param_groups[0]["beta1"] == torch_opt.param_groups[0]["betas"][0] != 0.9
    assert relative_difference(reference, model) <= 1e-6


def test_a_torch_adamw_training_loop_runs_unchanged():
    """The issue's bar: constructor arguments, OneCycleLR and a checkpoint saved by torch, with only the
    optimizer's class swapped, continue torch's curve."""

    def loop(make_optimizer, checkpoint=None, steps=8):
        model = small_model(torch.channels_last)
        opt = make_optimizer(model.parameters(), lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05,
                             amsgrad=False, foreach=None, maximize=False, capturable=False, differentiable=False,
                             fused=None)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=16)
        if checkpoint is not None:
            model.load_state_dict(checkpoint["model"])
            opt.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
        train(model, opt, steps, 5 if checkpoint is None else 6, scheduler)
        return model, through_a_file({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                      "scheduler": scheduler.state_dict()})

    _, checkpoint = loop(torch.optim.AdamW)
    # (torch's load_state_dict adopts the checkpoint's tensors and steps them: a copy for each run)
    reference, _ = loop(torch.optim.AdamW, copy.deepcopy(checkpoint))
    model, _ = loop(lambda params, **kw: ot.Optimizer(params, "adamw_torch", **kw), copy.deepcopy(checkpoint))
    assert relative_difference(reference, model) <= 1e-6
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("flat", [False, True])
def test_channels_last_parameters_and_state_keep_their_layout(flat):
    model = small_model(torch.channels_last)
    opt = ot.Optimizer(model.parameters(), "adamw_torch", flat=flat)
    train(model, opt, 2, 1)
    if not flat:  # flat=True moves parameters into one buffer (docs/torch.md)
        assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
        assert opt.state[model[0].weight]["m"].is_contiguous(memory_format=torch.channels_last)


def test_kernel_modules_are_accepted():
    from optiforge.generated.numba import adamw_torch as numba_module
    from optiforge.generated.numpy import adamw_torch as numpy_module

    params = list(small_model().parameters())
    assert ot.Optimizer(params, numpy_module)._kernels.cpu is numpy_module
    assert ot.Optimizer(params, numba_module)._kernels.cpu is numba_module
    assert ot.Optimizer(params, numpy_module, backend="numba")._kernels.cpu is numba_module
    model = small_model()
    reference = twin(model)
    train(model, ot.Optimizer(model.parameters(), numpy_module, lr=0.01), 3, 1)
    train(reference, torch.optim.AdamW(reference.parameters(), lr=0.01), 3, 1)
    assert relative_difference(reference, model) <= 1e-6


def test_a_slow_first_kernel_call_is_reported_once(monkeypatch, caplog):
    monkeypatch.setattr(optimizer_module, "SLOW_FIRST_CALL_S", 0.0)
    monkeypatch.setattr(optimizer_module, "_FIRST_CALLS", set())
    model = small_model()
    opt = ot.Optimizer(model.parameters(), "adam_torch", backend="numpy")
    with caplog.at_level(logging.WARNING, logger="optiforge.torch.optimizer"):
        train(model, opt, 3, 1)
    messages = [r.getMessage() for r in caplog.records if "compiling the" in r.getMessage()]
    assert len(messages) == 1 and "adam_torch" in messages[0] and "numpy" in messages[0]


@pytest.mark.slow
def test_torch_compile_of_step_and_of_the_model():
    """torch.compile(opt.step) runs (the update is one opaque call) and a compiled model trains as torch's
    AdamW trains it. Small: compiling takes seconds on two cores."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    reference = torch.nn.Linear(4, 2)
    reference.load_state_dict(model.state_dict())
    opt = ot.Optimizer(model.parameters(), "adamw_torch", lr=0.01)
    torch_opt = torch.optim.AdamW(reference.parameters(), lr=0.01)
    compiled_step, compiled_model = torch.compile(opt.step), torch.compile(model)
    generator = torch.Generator().manual_seed(7)
    for _ in range(3):
        x = torch.randn(8, 4, generator=generator)
        for net, optimizer, step in ((compiled_model, opt, compiled_step), (reference, torch_opt, torch_opt.step)):
            optimizer.zero_grad()
            net(x).square().mean().backward()
            step()
    assert relative_difference(reference, model) <= 1e-6
    assert int(opt.state[model.weight]["step"]) == 3
