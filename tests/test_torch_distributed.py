"""torch.distributed on the CPU (gloo, 2 processes started here): DDP (per tensor and flat) and FSDP2
(``fully_shard``, DTensor parameters updated through their local shards) with ``optiforge.torch.Optimizer``
give the single-process trajectory (loss curve and final parameters) to 1e-6, through a state-dict reload
half way. The processes run ``tests/torch_distributed.py``."""
from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import torch_distributed

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="this torch has no gloo backend")


@pytest.fixture(scope="module")
def distributed_results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("distributed")
    out = directory / "results.pt"
    mp.spawn(torch_distributed.worker, args=(2, str(directory / "rendezvous"), str(out)), nprocs=2)
    return torch.load(out)


@pytest.fixture(scope="module")
def single_process():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model, x, y = torch_distributed.model_and_data()
    losses = torch_distributed.train(model, x, y)
    torch.set_num_threads(threads)
    return losses, torch_distributed.full_parameters(model)


def relative(a, b) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


@pytest.mark.parametrize("mode", ["ddp", "ddp_flat", "fsdp2"])
def test_distributed_training_matches_one_process(mode, distributed_results, single_process):
    losses, params = distributed_results[mode]
    expected_losses, expected_params = single_process
    loss_difference = relative(losses, expected_losses)
    param_difference = max(relative(p, q) for p, q in zip(params, expected_params))
    print(f"{mode}: loss curve {loss_difference:.2e}, parameters {param_difference:.2e} (max relative difference)")
    assert expected_losses[-1] < 0.9 * expected_losses[0]
    assert loss_difference <= 1e-6 and param_difference <= 1e-6


def test_fsdp2_state_is_sharded_and_flat_mode_refuses_dtensors(distributed_results):
    assert distributed_results["fsdp2_state_types"] == ["DTensor"]
    assert "is a DTensor; flat=True needs plain tensors" in distributed_results["fsdp2_flat_error"]
