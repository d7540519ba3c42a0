"""Benchmark the generated CuPy Adam step on one GPU (issue 4). Needs cupy and a CUDA device; torch with
CUDA for the comparisons (reported as unavailable otherwise).

1. Adam on 2**28 float32 elements: time per step, achieved bandwidth (28 bytes per element: read
   param, grad, m, v; write param, m, v) against a measured device-to-device copy (target >= 90 %),
   and against ``torch.optim.Adam(fused=True)`` and a ``torch.compile``d ``Adam.step`` (target: not slower).
2. Multi-tensor: ResNet-50's 161 parameter tensors (25.6M parameters): one launch over the flat buffer
   (``optiforge.runtime.flat.MultiTensor``) vs one launch per tensor vs torch fused Adam over the tensor list
   (target: flat not slower than torch fused).

Usage: ``python bench/cupy_step.py [--elements-log2 28] [--repeats 50] [--write bench/RESULTS.md]``
"""
from __future__ import annotations

import argparse
import datetime
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy  # noqa: E402

ADAM_BYTES_PER_ELEMENT = 7 * 4  # float32: 4 reads + 3 writes


def resnet50_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of torchvision's resnet50 (conv weights, BatchNorm weight/bias, fc), in order."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    in_channels = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for block in range(blocks):
            shapes += [(width, in_channels, 1, 1), (width,), (width,),
                       (width, width, 3, 3), (width,), (width,),
                       (4 * width, width, 1, 1), (4 * width,), (4 * width,)]
            if block == 0:  # projection shortcut
                shapes += [(4 * width, in_channels, 1, 1), (4 * width,), (4 * width,)]
            in_channels = 4 * width
    return shapes + [(1000, 2048), (1000,)]


def gpu_time(function, repeats: int, warmup: int = 3) -> float:
    """Median seconds per call, timed with CUDA events on the current stream."""
    import cupy
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        function()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) / 1e3)
    return statistics.median(times)


def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def torch_time(step, repeats: int, warmup: int = 3) -> float:
    torch = torch_cuda()
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def bench_single(log2: int, repeats: int) -> list[str]:
    import cupy

    from optiforge.generated.cupy import adam
    n = 2 ** log2
    rows = []
    source, target = cupy.empty(n, cupy.float32), cupy.empty(n, cupy.float32)
    copy = gpu_time(lambda: cupy.copyto(target, source), repeats)
    copy_bandwidth = 2 * 4 * n / copy
    del source, target
    rows.append(f"| device-to-device copy, 2^{log2} float32 | {copy * 1e3:.3f} ms | {copy_bandwidth / 1e9:.0f} GB/s | reference |")

    rng = cupy.random.default_rng(0)
    param, grad = rng.standard_normal(n, dtype=cupy.float32), rng.standard_normal(n, dtype=cupy.float32)
    state = adam.init_state(param)
    t = [0]

    def ours():
        t[0] += 1
        adam.step(param, grad, state, t[0], lr=1e-3)
    ours_time = gpu_time(ours, repeats)
    bandwidth = ADAM_BYTES_PER_ELEMENT * n / ours_time
    rows.append(f"| optiforge cupy Adam, 2^{log2} float32 | {ours_time * 1e3:.3f} ms | {bandwidth / 1e9:.0f} GB/s "
                f"| {bandwidth / copy_bandwidth:.1%} of copy (target >= 90 %) |")
    del param, grad, state
    cupy.get_default_memory_pool().free_all_blocks()

    torch = torch_cuda()
    if torch is None:
        rows.append("| torch fused / torch.compile Adam | unavailable | | torch with CUDA not installed |")
        return rows
    for label, make in (("torch.optim.Adam(fused=True)", lambda p: torch.optim.Adam([p], lr=1e-3, fused=True)),
                        ("torch.compile(Adam.step)", None)):
        p = torch.randn(n, device="cuda")
        p.grad = torch.randn(n, device="cuda")
        if make is not None:
            optimizer = make(p)
            step = optimizer.step
        else:
            optimizer = torch.optim.Adam([p], lr=torch.tensor(1e-3), foreach=False)
            step = torch.compile(optimizer.step, fullgraph=False)
        seconds = torch_time(step, repeats)
        rows.append(f"| {label}, 2^{log2} float32 | {seconds * 1e3:.3f} ms | "
                    f"{ADAM_BYTES_PER_ELEMENT * n / seconds / 1e9:.0f} GB/s | optiforge is {seconds / ours_time:.2f}x its speed |")
        del p, optimizer, step
        torch.cuda.empty_cache()
    return rows


def bench_multi_tensor(repeats: int) -> list[str]:
    import cupy

    from optiforge.runtime.flat import MultiTensor
    from optiforge.generated.cupy import adam
    shapes = resnet50_shapes()
    total = sum(int(numpy.prod(s)) for s in shapes)
    rng = cupy.random.default_rng(0)
    params = [rng.standard_normal(s, dtype=cupy.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=cupy.float32) for s in shapes]
    label = f"ResNet-50 ({len(shapes)} tensors, {total / 1e6:.1f}M params)"
    rows = []

    flat = MultiTensor(adam, params)
    for view, g in zip(flat.grads, grads):
        view[...] = g
    t = [0]

    def one_launch():
        t[0] += 1
        flat.step(t[0], lr=1e-3)
    flat_time = gpu_time(one_launch, repeats)
    rows.append(f"| {label}: flat buffer, 1 launch | {flat_time * 1e3:.3f} ms | "
                f"{ADAM_BYTES_PER_ELEMENT * total / flat_time / 1e9:.0f} GB/s | |")

    states = [adam.init_state(p) for p in params]

    def per_tensor():
        t[0] += 1
        for p, g, s in zip(params, grads, states):
            adam.step(p, g, s, t[0], lr=1e-3)
    per_tensor_time = gpu_time(per_tensor, repeats)
    rows.append(f"| {label}: {len(shapes)} launches | {per_tensor_time * 1e3:.3f} ms | "
                f"{ADAM_BYTES_PER_ELEMENT * total / per_tensor_time / 1e9:.0f} GB/s | flat is {per_tensor_time / flat_time:.1f}x faster |")

    torch = torch_cuda()
    if torch is None:
        rows.append(f"| {label}: torch fused Adam | unavailable | | torch with CUDA not installed |")
        return rows
    torch_params = [torch.randn(s, device="cuda") for s in shapes]
    for p in torch_params:
        p.grad = torch.randn_like(p)
    optimizer = torch.optim.Adam(torch_params, lr=1e-3, fused=True)
    seconds = torch_time(optimizer.step, repeats)
    rows.append(f"| {label}: torch.optim.Adam(fused=True) | {seconds * 1e3:.3f} ms | "
                f"{ADAM_BYTES_PER_ELEMENT * total / seconds / 1e9:.0f} GB/s | optiforge flat is {seconds / flat_time:.2f}x its speed (target >= 1) |")
    return rows


def publish(text: str, path: Path | None) -> None:
    """Print a results table and, with ``--write``, append it to ``path`` (e.g. bench/RESULTS.md)."""
    print(text)
    if path:
        with path.open("a") as results:
            results.write("\n" + text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements-log2", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--write", type=Path, help="append the results table to this markdown file")
    args = parser.parse_args(argv)
    try:
        import cupy
        device = cupy.cuda.Device()
        name = cupy.cuda.runtime.getDeviceProperties(device.id)["name"].decode()
    except Exception as error:  # no cupy, no driver, no device
        print(f"cupy_step.py needs cupy and a CUDA device: {error}", file=sys.stderr)
        return 2
    header = [f"### {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {name}, "
              f"CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}", "",
              "| case | time per step | bandwidth | note |", "|---|---:|---:|---|"]
    rows = bench_single(args.elements_log2, args.repeats) + bench_multi_tensor(args.repeats)
    publish("\n".join(header + rows) + "\n", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
