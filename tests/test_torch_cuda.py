"""``optiforge.torch.Optimizer`` on a CUDA device: CuPy kernels through DLPack on torch's current stream.
Skipped (with the reason) where there is no CUDA device, CUDA torch or CuPy; run by ``bench/gpu_all.sh``.

* the training-loop conformance of ``test_torch_training.py`` on CUDA (torch's default CUDA path: foreach);
* no host synchronisation inside ``step`` (torch's sync debug mode and CuPy's ``allow_synchronize(False)``);
* kernels run on torch's current stream, including a non-default one, and on the parameters' device;
* flat mode: one launch per group and dtype, ``.grad`` views survive ``backward``;
* float16/bfloat16 parameters (float32 state), against the CPU adapter;
* nothing is copied: parameters and state keep their storage across steps.
"""
from __future__ import annotations

import pytest
import torch

import optiforge.torch as ot
from test_torch_training import MODELS, OPTIMIZERS, check_against_torch


def _cuda_ready() -> str | None:
    if not torch.cuda.is_available():
        return "torch has no CUDA device"
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # ImportError, or no driver
        return f"no usable CuPy ({error})"
    return None


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_cuda_ready() is not None, reason=str(_cuda_ready()))]


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
def test_loss_curve_equals_torch_optim_on_cuda(optimizer_name, model_name):
    check_against_torch(optimizer_name, model_name, "cuda")


def model_on(device, dtype=torch.float32):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 8)).to(device, dtype)


@pytest.mark.parametrize("flat", [False, True])
def test_step_never_synchronises_and_copies_nothing(flat):
    import cupyx

    model = model_on("cuda")
    opt = ot.Optimizer(model.parameters(), "adamw_torch", lr=1e-3, flat=flat)
    x = torch.randn(16, 32, device="cuda")
    for _ in range(2):  # state created, kernels compiled
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    storage = {id(p): p.data_ptr() for p in model.parameters()}
    state = {id(p): opt.state[p]["m"].data_ptr() for p in model.parameters()}
    opt.zero_grad()
    model(x).square().mean().backward()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with cupyx.allow_synchronize(False):
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
    assert {id(p): p.data_ptr() for p in model.parameters()} == storage
    assert {id(p): opt.state[p]["m"].data_ptr() for p in model.parameters()} == state


@pytest.mark.parametrize("flat", [False, True])
def test_kernels_run_on_torchs_current_stream(flat):
    model = model_on("cuda")
    opt = ot.Optimizer(model.parameters(), "sgd_torch", lr=0.5, flat=flat)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt.step()  # compile
    torch.cuda.synchronize()
    weight = model[0].weight
    before = weight.detach().clone()
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        torch.cuda._sleep(int(2e9))  # keeps ``side`` busy for about a second
        opt.step()
    on_default_stream = weight.detach().clone()  # the default stream does not wait for ``side``
    side.synchronize()
    assert torch.equal(on_default_stream, before), "the update ran before the work queued on its stream"
    torch.testing.assert_close(weight.detach(), before - 0.5)


def test_flat_mode_one_launch_per_group_and_dtype():
    model = model_on("cuda")
    model[2].double()
    params = list(model.parameters())
    opt = ot.Optimizer([{"params": params[:2]}, {"params": params[2:]}], "adam_torch", lr=1e-3, flat=True)
    bridge = opt._bridges["cuda"]
    calls = []
    step = bridge.module.step

    def counting(param, grad, state, t, **kwargs):
        calls.append(param.size)
        return step(param, grad, state, t, **kwargs)

    bridge.module = type("Counting", (), {"step": staticmethod(counting), "init_state": bridge.module.init_state})
    views = [p.grad for p in params]
    x = torch.randn(4, 32, device="cuda")
    opt.zero_grad()
    model[2](model[1](model[0](x)).double()).sum().backward()
    opt.step()
    assert calls == [32 * 64 + 64, 64 * 8 + 8]
    assert all(p.grad is v for p, v in zip(params, views))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_precision_and_double_parameters_match_the_cpu_adapter(dtype):
    results = []
    for device in ("cpu", "cuda"):
        model = model_on(device, dtype)
        opt = ot.Optimizer(model.parameters(), "adam_torch", lr=1e-2, weight_decay=0.01)
        generator = torch.Generator().manual_seed(0)
        for _ in range(5):
            for p in model.parameters():
                p.grad = torch.randn(p.shape, generator=generator).to(device, dtype)
            opt.step()
        state = opt.state[model[0].weight]
        assert state["m"].dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
        assert state["m"].device.type == device and state["step"].device.type == "cpu"
        results.append([p.detach().double().cpu() for p in model.parameters()])
    ulp = {torch.float16: 2.0 ** -10, torch.bfloat16: 2.0 ** -7, torch.float64: 2.0 ** -50}[dtype]
    for a, b in zip(*results):  # FMA contraction on the GPU: at most a storage ulp or so apart
        torch.testing.assert_close(a, b, rtol=2 * ulp, atol=2 * ulp)


def test_parameters_on_a_second_device_stay_there():
    if torch.cuda.device_count() < 2:
        pytest.skip("one CUDA device")
    model = model_on("cuda:1")
    opt = ot.Optimizer(model.parameters(), "adam_torch", lr=1e-3, flat=True)
    model(torch.randn(2, 32, device="cuda:1")).sum().backward()
    opt.step()
    assert all(p.device.index == 1 and opt.state[p]["m"].device.index == 1 for p in model.parameters())
