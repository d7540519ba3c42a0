"""Worker for ``test_torch_distributed.py``: one process of a 2-process gloo group on the CPU.

Every rank builds the same model (same seed) and the same full batch, trains on its half with DDP or FSDP2
(``fully_shard``: DTensor parameters, sharded along dim 0) and ``optiforge.torch.Optimizer``, and reloads
the optimizer's state dict into a fresh optimizer half way; rank 0 writes the loss curve (mean over ranks)
and the final full parameters for the test to compare with one process on the whole batch.
"""
from __future__ import annotations

import copy
import os

import torch
import torch.distributed as dist

import optiforge.torch as ot

STEPS, RELOAD_AT, SPEC, LR = 16, 8, "adamw_torch", 0.02


def model_and_data():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(16, 6, generator=generator)
    y = torch.randn(16, 3, generator=generator)
    return model, x, y


def make_optimizer(model, flat=False):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return ot.Optimizer([{"params": weights, "weight_decay": 0.05}, {"params": biases, "weight_decay": 0.0, "lr": 2 * LR}],
                        SPEC, lr=LR, flat=flat)


def train(model, x, y, flat=False, reduce=None):
    """The loss curve (averaged by ``reduce``) of STEPS steps, with a state-dict reload at RELOAD_AT."""
    optimizer = make_optimizer(model, flat)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    losses = []
    for step in range(STEPS):
        if step == RELOAD_AT:
            saved = copy.deepcopy(optimizer.state_dict())
            optimizer = make_optimizer(model, flat)
            scheduler_state = scheduler.state_dict()
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
            scheduler.load_state_dict(scheduler_state)
            optimizer.load_state_dict(saved)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(reduce(loss.detach()) if reduce else loss.detach())
    return torch.stack(losses)


def full_parameters(model):
    return [(p.full_tensor() if hasattr(p, "full_tensor") else p).detach().clone() for p in model.parameters()]


def worker(rank: int, world: int, rendezvous: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    from torch.distributed.fsdp import fully_shard
    from torch.nn.parallel import DistributedDataParallel

    def mean_over_ranks(value):
        value = value.clone()
        dist.all_reduce(value)
        return value / world

    results = {}
    for mode in ("ddp", "ddp_flat", "fsdp2"):
        model, x, y = model_and_data()
        shard = slice(rank * len(x) // world, (rank + 1) * len(x) // world)
        if mode.startswith("ddp"):
            wrapped = DistributedDataParallel(model)
        else:
            for layer in (model[0], model[2]):
                fully_shard(layer)
            wrapped = fully_shard(model)
            if rank == 0:
                try:
                    make_optimizer(wrapped, flat=True)
                except ValueError as error:
                    results["fsdp2_flat_error"] = str(error)
        losses = train(wrapped, x[shard], y[shard], flat=mode.endswith("flat"), reduce=mean_over_ranks)
        results[mode] = (losses, full_parameters(model))
        if mode == "fsdp2":
            optimizer = make_optimizer(model)
            model(x[shard]).sum().backward()
            optimizer.step()
            state = optimizer.state[next(model.parameters())]
            results["fsdp2_state_types"] = sorted({type(v).__name__ for k, v in state.items() if k != "step"})
    if rank == 0:
        torch.save(results, out)
    dist.destroy_process_group()


if __name__ == "__main__":  # python tests/torch_distributed.py OUT: run both ranks here (for debugging)
    import sys
    import tempfile

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as directory:
        mp.spawn(worker, args=(2, os.path.join(directory, "rendezvous"), sys.argv[1]), nprocs=2)
