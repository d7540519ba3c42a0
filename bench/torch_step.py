"""Benchmark ``optiforge.torch.Optimizer`` (Adam, ``adam_torch``) against ``torch.optim.Adam``, in one run.

1. ResNet-50-shaped model (161 tensors, 25.6M float32 parameters): the adapter's flat step (one kernel call),
   its per-tensor step (161 calls), and torch.optim.Adam's default path (CPU: for-loop; CUDA: foreach),
   foreach and fused; on the CPU also the generated kernel called directly on one buffer of that size (the
   adapter's flat step minus this is what the adapter adds). Target: flat step no slower than torch's default (CPU, one thread) and than
   ``fused=True`` (CUDA).
2. Many tiny tensors (2000 × 16 elements): host CPU time per tensor of the adapter's per-tensor step, of the
   generated kernel called directly on NumPy arrays, and their difference: the adapter's per-tensor overhead
   (target <= 15 µs); and of the flat step.

Variants are timed round-robin (one step of each per round) so that background load hits them alike;
medians over the rounds, fastest step in brackets. The ratios come from one run. This is a benchmark, not
a test: targets print PASS/MISS.

Usage (from the repository root)::

    python bench/torch_step.py                         # CPU, one thread (~1 minute)
    python bench/torch_step.py --device cuda --write bench/RESULTS.md
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy  # noqa: E402
import torch  # noqa: E402

import optiforge.torch as ot  # noqa: E402
from cupy_step import publish, resnet50_shapes  # noqa: E402

HP = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
TINY_TENSORS, TINY_SIZE = 2000, 16
OVERHEAD_TARGET_US = 15.0


def parameters(shapes, device, seed=0):
    generator = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(s, generator=generator).to(device)) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=generator).to(device)
    return params


class Timer:
    """Seconds per call: CUDA events on the current stream (``"cuda"``), wall time (``"wall"``), or this
    process's CPU time (``"process"``: host-side work, robust to other processes sharing the cores)."""

    def __init__(self, clock: str):
        self.clock = clock

    def __call__(self, function) -> float:
        if self.clock == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            function()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3
        now = time.process_time if self.clock == "process" else time.perf_counter
        begin = now()
        function()
        return now() - begin


def round_robin(variants: dict, timer: Timer, rounds: int, warmup: int = 2) -> dict:
    times = {name: [] for name in variants}
    for round_index in range(warmup + rounds):
        for name, step in variants.items():
            seconds = timer(step)
            if round_index >= warmup:
                times[name].append(seconds)
    return {name: (statistics.median(values), min(values)) for name, values in times.items()}


def torch_adam(params, **options):
    return torch.optim.Adam(params, lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"], **options)


def bench_resnet(device: str, rounds: int) -> tuple[list[str], dict]:
    shapes = resnet50_shapes()
    total = sum(int(numpy.prod(s)) for s in shapes)
    variants = {
        "optiforge flat (1 call)": ot.Optimizer(parameters(shapes, device), "adam_torch", flat=True, **HP).step,
        f"optiforge per tensor ({len(shapes)} calls)": ot.Optimizer(parameters(shapes, device), "adam_torch", **HP).step,
        "torch.optim.Adam default": torch_adam(parameters(shapes, device)).step,
        "torch.optim.Adam(foreach=True)": torch_adam(parameters(shapes, device), foreach=True).step,
        "torch.optim.Adam(fused=True)": torch_adam(parameters(shapes, device), fused=True).step,
    }
    if device == "cpu":  # the kernel alone on one buffer of the same size: what the adapter adds to it
        from optiforge.generated.numpy import adam_torch as kernel

        buffer = numpy.random.default_rng(0).standard_normal(total, dtype=numpy.float32)
        grad, state, t = buffer.copy(), kernel.init_state(buffer, **HP), [0]

        def direct():
            t[0] += 1
            kernel.step(buffer, grad, state, t[0], **HP)
        variants["generated NumPy kernel on one buffer, called directly"] = direct
        try:
            numba_step = ot.Optimizer(parameters(shapes, device), "adam_torch", flat=True, backend="numba", **HP).step
            variants["optiforge flat, numba backend"] = numba_step
        except ImportError as error:
            print(f"(no numba row: {error})")
    results = round_robin(variants, Timer("cuda" if device == "cuda" else "wall"), rounds)
    default = results["torch.optim.Adam default"][0]
    rows = [f"ResNet-50 shapes: {len(shapes)} tensors, {total / 1e6:.1f}M float32 parameters, Adam; "
            f"GB/s at 28 B/element", "",
            "| variant | ms/step (min) | GB/s | x torch default |", "|---|---:|---:|---:|"]
    for name, (median, fastest) in results.items():
        rows.append(f"| {name} | {median * 1e3:.2f} ({fastest * 1e3:.2f}) | {28 * total / median / 1e9:.1f} "
                    f"| {median / default:.2f} |")
    return rows, results


def bench_tiny(device: str, rounds: int) -> tuple[list[str], dict]:
    shapes = [(TINY_SIZE,)] * TINY_TENSORS
    variants = {
        "optiforge per tensor": ot.Optimizer(parameters(shapes, device), "adam_torch", **HP).step,
        "optiforge flat": ot.Optimizer(parameters(shapes, device), "adam_torch", flat=True, **HP).step,
        "torch.optim.Adam default": torch_adam(parameters(shapes, device)).step,
    }
    if device == "cpu":
        from optiforge.generated.numpy import adam_torch as kernel

        arrays = [(p.detach().numpy().copy(), p.grad.numpy().copy()) for p in parameters(shapes, device)]
        states = [kernel.init_state(p, **HP) for p, _ in arrays]
        t = [0]

        def direct():
            t[0] += 1
            for (p, g), s in zip(arrays, states):
                kernel.step(p, g, s, t[0], **HP)
        variants["generated kernel, called directly"] = direct
    # the per-call cost is host work: this process's CPU time (one torch thread)
    results = round_robin(variants, Timer("process"), rounds)
    rows = [f"{TINY_TENSORS} tensors of {TINY_SIZE} float32 elements, Adam: host CPU time per tensor", "",
            "| variant | µs per tensor (min) |", "|---|---:|"]
    for name, (median, fastest) in results.items():
        rows.append(f"| {name} | {median / TINY_TENSORS * 1e6:.2f} ({fastest / TINY_TENSORS * 1e6:.2f}) |")
    return rows, results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU (default 1)")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--write", type=Path, help="append the tables to this markdown file")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch_step.py --device cuda needs a CUDA torch and a device", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    where = (torch.cuda.get_device_name() if args.device == "cuda"
             else f"CPU, {args.threads} torch thread(s), {os.cpu_count()} cores")
    header = [f"### {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: `bench/torch_step.py "
              f"--device {args.device}`, {where}, torch {torch.__version__}, load average {load:.2f}", ""]
    resnet_rows, resnet = bench_resnet(args.device, args.rounds)
    tiny_rows, tiny = bench_tiny(args.device, args.rounds)
    flat, default = resnet["optiforge flat (1 call)"][0], resnet["torch.optim.Adam default"][0]
    fused = resnet["torch.optim.Adam(fused=True)"][0]
    targets = [f"target: flat step <= torch.optim.Adam default: {flat * 1e3:.2f} vs {default * 1e3:.2f} ms "
               f"(ratio {flat / default:.2f}) -> {'PASS' if flat <= default else 'MISS'}"]
    if args.device == "cuda":
        targets.append(f"target: flat step <= torch fused: ratio {flat / fused:.2f} -> "
                       f"{'PASS' if flat <= fused else 'MISS'}")
    per_tensor = tiny["optiforge per tensor"][0] / TINY_TENSORS * 1e6
    flat_tiny = tiny["optiforge flat"][0] / TINY_TENSORS * 1e6
    if "generated kernel, called directly" in tiny:
        direct = tiny["generated kernel, called directly"][0] / TINY_TENSORS * 1e6
        overhead = per_tensor - direct
        targets.append(f"target: adapter overhead per tensor <= {OVERHEAD_TARGET_US:g} µs: per tensor "
                       f"{per_tensor:.2f} − kernel alone {direct:.2f} = {overhead:.2f} µs -> "
                       f"{'PASS' if overhead <= OVERHEAD_TARGET_US else 'MISS'}; flat step {flat_tiny:.2f} µs per tensor")
    else:
        targets.append(f"adapter per-tensor host time {per_tensor:.2f} µs (launch included); flat {flat_tiny:.2f} µs")
    publish("\n".join(header + resnet_rows + [""] + tiny_rows + [""] + targets
                       + ["", f"load average at end {os.getloadavg()[0]:.2f}"]) + "\n", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
