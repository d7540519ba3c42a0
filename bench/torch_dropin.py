"""``optiforge.torch.Optimizer(..., "adamw_torch")`` against ``torch.optim.AdamW(fused=True)`` on real
parameter sets: ``opt.step()`` only, one process, the CPU.

Parameter sets (float32): a tiny transformer (28 tensors, ~108k elements), GPT-2-small shapes (148 tensors,
~124M) and ResNet-50's shapes (161 tensors, ~25.6M). Rows: torch fused (the
reference, 1.00), torch foreach, DeepSpeed's CPUAdam (``adamw_mode=True``) when ``deepspeed`` is installed,
optiforge's default path (``flat=False``: storage untouched) and ``flat=True``. Each at 1 and 2 threads
(``torch.set_num_threads`` and ``numba.set_num_threads``).

Variants are timed round-robin (one step of each per round) so that background load hits them alike; the
table shows medians and ratios to torch fused from the same run. Also printed: the default path's overhead
per tensor (its median minus the flat step's, over the tensor count). The issue's targets (default path
<= 0.9 x torch fused and <= 1.0 x CPUAdam, <= 3 µs per tensor; flat <= 0.8 x torch fused) print PASS/MISS:
this is a benchmark, not a test.

Usage (from the repository root)::

    python bench/torch_dropin.py                      # all three sets (GPT-2-small needs ~3 GB, minutes)
    python bench/torch_dropin.py --only tiny resnet --rounds 15
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import optiforge.torch as ot  # noqa: E402
from cupy_step import resnet50_shapes  # noqa: E402

ARGUMENTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def transformer_shapes(layers: int, width: int, vocab: int, context: int) -> list[tuple[int, ...]]:
    """A GPT-2-style decoder's parameter shapes: embeddings, per layer two LayerNorms, attention (fused qkv)
    and MLP with biases, a final LayerNorm."""
    shapes = [(vocab, width), (context, width)]
    for _ in range(layers):
        shapes += [(width,), (width,), (3 * width, width), (3 * width,), (width, width), (width,),
                   (width,), (width,), (4 * width, width), (4 * width,), (width, 4 * width), (width,)]
    return shapes + [(width,), (width,)]


PARAMETER_SETS = {
    "tiny": ("tiny transformer", lambda: transformer_shapes(2, 48, 1000, 64)),
    "gpt2": ("GPT-2-small shapes", lambda: transformer_shapes(12, 768, 50257, 1024)),
    "resnet": ("ResNet-50 shapes", resnet50_shapes),
}


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass


def parameters(shapes, seed: int = 0) -> list[torch.nn.Parameter]:
    generator = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(shape, generator=generator) * 0.02) for shape in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=generator) * 1e-3
    return params


def variants(shapes) -> dict:
    """name -> a step function over its own copy of the parameters (gradients fixed)."""
    steps = {}
    steps["torch fused"] = torch.optim.AdamW(parameters(shapes), fused=True, **ARGUMENTS).step
    steps["torch foreach"] = torch.optim.AdamW(parameters(shapes), foreach=True, **ARGUMENTS).step
    try:
        from deepspeed.ops.adam import DeepSpeedCPUAdam

        steps["DeepSpeed CPUAdam"] = DeepSpeedCPUAdam(parameters(shapes), adamw_mode=True, **ARGUMENTS).step
    except Exception as error:  # not installed, or its CPU op did not build
        print(f"(DeepSpeed CPUAdam left out: {type(error).__name__}: {str(error)[:80]})")
    steps["optiforge default"] = ot.Optimizer(parameters(shapes), "adamw_torch", **ARGUMENTS).step
    steps["optiforge flat=True"] = ot.Optimizer(parameters(shapes), "adamw_torch", flat=True, **ARGUMENTS).step
    return steps


def round_robin(steps: dict, rounds: int, warmup: int = 2) -> dict:
    times = {name: [] for name in steps}
    for round_ in range(warmup + rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(PARAMETER_SETS), default=list(PARAMETER_SETS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    for key in args.only:
        title, make_shapes = PARAMETER_SETS[key]
        shapes = make_shapes()
        elements = sum(torch.Size(s).numel() for s in shapes)
        steps = variants(shapes)
        for threads in args.threads:
            set_threads(threads)
            medians = round_robin(steps, args.rounds)
            reference = medians["torch fused"]
            print(f"\n{title}: {len(shapes)} tensors, {elements / 1e6:.3g}M elements, {threads} thread(s)")
            for name, median in medians.items():
                print(f"  {name:22s} {median * 1e3:9.3f} ms  {median / reference:5.2f} x torch fused")
            overhead = (medians["optiforge default"] - medians["optiforge flat=True"]) / len(shapes) * 1e6
            print(f"  default path overhead per tensor: {overhead:.1f} µs")
            default, flat = medians["optiforge default"] / reference, medians["optiforge flat=True"] / reference
            checks = [("default <= 0.9 x torch fused", default <= 0.9), ("flat <= 0.8 x torch fused", flat <= 0.8),
                      ("overhead <= 3 µs per tensor", overhead <= 3)]
            if "DeepSpeed CPUAdam" in medians:
                checks.append(("default <= 1.0 x CPUAdam",
                               medians["optiforge default"] <= medians["DeepSpeed CPUAdam"]))
            for label, ok in checks:
                print(f"  {'PASS' if ok else 'MISS'} {label}")


if __name__ == "__main__":
    main()
