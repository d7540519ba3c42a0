"""CPU benchmark: one Adam step with the generated numba loop, against the generated NumPy kernel, torch's
three CPU paths and a measured bandwidth floor, at one and at two threads.

Two problems:

1. Adam on 2**24 float32 elements (one tensor).
2. ResNet-50's 161 parameter tensors (25.6M float32 parameters): the generated kernels step the flat buffer
   (``Optimizer(..., flat=True)``: one call), torch steps its list of tensors; "numba per tensor" is the
   generated numba module called once per tensor.

Rows, each at 1 and 2 threads (``numba.set_num_threads``, ``torch.set_num_threads``; the NumPy kernel is
single-threaded and timed once):

| row | what |
|---|---|
| numba | ``optiforge.generated.numba.adam.step``: one parallel ``prange`` loop |
| NumPy | ``optiforge.generated.numpy.adam.step``: blocked ufunc program |
| torch fused / foreach / for-loop | ``torch.optim.Adam(fused=True)``, ``(foreach=True)``, ``(foreach=False)`` |
| floor | a numba ``prange`` loop with exactly Adam's traffic (reads θ, g, m, v; writes θ, m, v) and trivial
  arithmetic (``θ += 0·g; m = a·m + g; v = b·v + g``): the practical memory-bandwidth floor |

All variants of a group run round-robin, one step each per round, so background load on a shared machine
hits them alike; the variants that allocate temporaries every step (torch foreach and for-loop) form their own
group, as their page churn slows their neighbours. Ratios are of medians taken in the same run.

Targets: numba Adam <= 1.1 x torch fused at one thread and at two, <= 1.15 x the floor; the ResNet-50 flat
step <= 1.0 x torch fused. This is a benchmark, not a test: targets print PASS/MISS and never fail.

Run from the repository root::

    python bench/cpu_step.py                   # both problems and short arrays, 3 warm-up + 20 rounds (~2 min)
    python bench/cpu_step.py --steps 40 --only adam
    python bench/cpu_step.py --only small      # the loop on short arrays, 1 vs 2 threads (~10 s)
"""
from __future__ import annotations

import argparse
import gc
import inspect
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cupy_step import ADAM_BYTES_PER_ELEMENT, resnet50_shapes  # noqa: E402
from optiforge.runtime import Optimizer, numba_support as _numba_runtime  # noqa: E402
from optiforge.generated.numba import adam as numba_adam  # noqa: E402
from optiforge.generated.numpy import adam as numpy_adam  # noqa: E402

HP = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
THREADS = (1, 2)
TARGETS = {"fused": 1.1, "floor": 1.15, "resnet_fused": 1.0}


@numba.njit(parallel=True, error_model="numpy")
def _floor_loop(p, g, m, v, a, b):
    for i in numba.prange(p.size):
        gi = g[i]
        p[i] += gi * np.float32(0.0)
        m[i] = m[i] * a + gi
        v[i] = v[i] * b + gi


def set_threads(threads: int | None) -> None:
    if threads is not None:
        numba.set_num_threads(threads)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


# --------------------------------------------------------------------------- variants: label -> step(t)

def generated_step(module, params, grads, flat: bool):
    """The generated module through ``Optimizer``: one call over the flat buffer, or one per tensor."""
    optimizer = Optimizer(params, module, backend=module.__name__.split(".")[-2], flat=flat, **HP)
    if flat:
        for view, grad in zip(optimizer.grads, grads):
            view[...] = grad
        return lambda t: optimizer.step()
    return lambda t: optimizer.step(grads)


def torch_step(params, grads, **path):
    tensors = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    for tensor, grad in zip(tensors, grads):
        tensor.grad = torch.from_numpy(grad)
    optimizer = torch.optim.Adam(tensors, lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"], **path)
    return lambda t: optimizer.step()


def floor_step(size: int):
    p, g = np.zeros(size, np.float32), np.ones(size, np.float32)
    m, v = np.zeros(size, np.float32), np.zeros(size, np.float32)
    a, b = np.float32(HP["beta1"]), np.float32(HP["beta2"])
    return lambda t: _floor_loop(p, g, m, v, a, b)


def variants(params, grads):
    """(group, label, threads, step): the 1- and 2-thread rows of one implementation share its arrays."""
    flat = len(params) > 1
    rows = []
    numba_flat = generated_step(numba_adam, [p.copy() for p in params], grads, flat=flat)
    numpy_flat = generated_step(numpy_adam, [p.copy() for p in params], grads, flat=flat)
    fused = torch_step(params, grads, fused=True)
    foreach = torch_step(params, grads, foreach=True)
    loop = torch_step(params, grads, foreach=False)
    floor = floor_step(sum(p.size for p in params))
    for threads in THREADS:
        rows.append(("in-place", f"numba{' (flat)' if flat else ''}", threads, numba_flat))
        if flat:
            rows.append(("in-place", "numba per tensor", threads,
                         generated_step(numba_adam, [p.copy() for p in params], grads, flat=False)))
        rows += [("in-place", "torch fused", threads, fused), ("in-place", "floor", threads, floor),
                 ("allocating", "torch foreach", threads, foreach), ("allocating", "torch for-loop", threads, loop)]
    rows.insert(1, ("in-place", f"NumPy{' (flat)' if flat else ''}", None, numpy_flat))
    return rows


def time_round_robin(rows, warmup: int, steps: int) -> dict:
    """Per-step seconds of every row, one step of each per round; thread counts change twice per round."""
    order = sorted(rows, key=lambda row: row[2] or 1)
    times = {(label, threads): [] for _, label, threads, _ in rows}
    for round_ in range(warmup + steps):
        for _, label, threads, step in order:
            set_threads(threads)
            start = time.perf_counter()
            step(round_ + 1)
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                times[(label, threads)].append(elapsed)
    return times


def run_problem(title: str, params, grads, args) -> dict:
    size = sum(p.size for p in params)
    rows = variants(params, grads)
    times = {}
    for group in ("in-place", "allocating"):
        times |= time_round_robin([row for row in rows if row[0] == group], args.warmup, args.steps)
        gc.collect()
    ms = {key: 1e3 * statistics.median(ts) for key, ts in times.items()}
    fastest = {key: 1e3 * min(ts) for key, ts in times.items()}
    print(f"\n{title}: median of {args.steps} rounds after {args.warmup} warm-up; GB/s at "
          f"{ADAM_BYTES_PER_ELEMENT} B/element; x fused and x floor against the same thread count")
    header = f"{'variant':<22s} {'threads':>7s} {'ms/step':>9s} {'(min)':>8s} {'GB/s':>7s} {'x fused':>8s} {'x floor':>8s}"
    print(header + "\n" + "-" * len(header))
    for (label, threads), value in ms.items():
        reference_threads = threads or 1
        gbs = ADAM_BYTES_PER_ELEMENT * size / (value * 1e-3) / 1e9
        print(f"{label:<22s} {threads or 1:>7d} {value:9.2f} {fastest[(label, threads)]:8.2f} {gbs:7.2f} "
              f"{value / ms[('torch fused', reference_threads)]:8.2f} {value / ms[('floor', reference_threads)]:8.2f}")
    return {"ms": ms, "min": fastest}


def report_targets(adam: dict | None, resnet: dict | None, size_log2: int) -> None:
    print()
    checks = []
    for threads in THREADS:
        if adam:
            checks.append((f"Adam 2^{size_log2}: numba <= {TARGETS['fused']} x torch fused ({threads} thread{'s' * (threads > 1)})",
                           adam, ("numba", threads), ("torch fused", threads), TARGETS["fused"]))
            checks.append((f"Adam 2^{size_log2}: numba <= {TARGETS['floor']} x floor ({threads} thread{'s' * (threads > 1)})",
                           adam, ("numba", threads), ("floor", threads), TARGETS["floor"]))
        if resnet:
            checks.append((f"ResNet-50: numba flat <= {TARGETS['resnet_fused']} x torch fused "
                           f"({threads} thread{'s' * (threads > 1)})",
                           resnet, ("numba (flat)", threads), ("torch fused", threads), TARGETS["resnet_fused"]))
    for text, result, ours, theirs, bound in checks:
        ratio = result["ms"][ours] / result["ms"][theirs]
        fastest = result["min"][ours] / result["min"][theirs]
        print(f"target {text}: ratio {ratio:.2f} -> {'PASS' if ratio <= bound else 'MISS'}"
              f"   [fastest steps: {fastest:.2f}]")
    print("(targets use the medians; the fastest-step ratios help read a noisy run)")


def check_correctness(n: int = 1 << 20, steps: int = 3) -> None:
    """The numba step against torch's for-loop Adam, float32, same data."""
    rng = np.random.default_rng(1)
    param = rng.standard_normal(n, dtype=np.float32)
    grads = [rng.standard_normal(n, dtype=np.float32) for _ in range(steps)]
    ours, state = param.copy(), numba_adam.init_state(param, **HP)
    tensor = torch.nn.Parameter(torch.from_numpy(param.copy()))
    optimizer = torch.optim.Adam([tensor], lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"],
                                 foreach=False)
    for t, grad in enumerate(grads, start=1):
        numba_adam.step(ours, grad, state, t, **HP)
        tensor.grad = torch.from_numpy(grad)
        optimizer.step()
    theirs = tensor.detach().numpy()
    print(f"correctness (numba vs torch for-loop, float32, {steps} steps, n=2^{n.bit_length() - 1}): "
          f"max |diff| / max |ref| = {np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)):.2e}")


def small_arrays(rounds: int = 7) -> None:
    """Per-call time of the generated Adam loop itself on short arrays, on one thread and on two: where a
    second thread starts to pay (``_numba_runtime.PARALLEL_MIN_ELEMENTS``, below which ``run`` uses one)."""
    loop = numba_adam.LOOPS["float32"]
    kernel = _numba_runtime.compiled(loop)
    # param, grad, m, v, then the host scalars (their number follows the generated loop); small values, the
    # timing does not depend on them
    count = len(inspect.signature(loop.function).parameters) - 4
    scalars = tuple(np.float32(x) for x in (0.9, 0.999, 1e-3, 0.1, 1e-8, -1e-3, 0.5, 0.25)[:count])
    print(f"\nshort arrays: the float32 loop called directly, µs per call (min of {rounds} repeats); "
          f"PARALLEL_MIN_ELEMENTS = {_numba_runtime.PARALLEL_MIN_ELEMENTS}")
    print(f"{'elements':>9s} {'1 thread':>9s} {'2 threads':>10s} {'2 / 1':>6s}")
    for log2 in range(4, 21, 2):
        arrays = [np.ones(1 << log2, np.float32) for _ in range(4)]
        calls = max(10, (1 << 22) >> log2)
        row = []
        for threads in THREADS:
            numba.set_num_threads(threads)
            best = math.inf
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(calls):
                    kernel(*arrays, *scalars)
                best = min(best, (time.perf_counter() - start) / calls)
            row.append(1e6 * best)
        print(f"{1 << log2:9d} {row[0]:9.2f} {row[1]:10.2f} {row[1] / row[0]:6.2f}")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else \
        platform.processor()
    return (f"{model}, {os.cpu_count()} cpus; numpy {np.__version__}, torch {torch.__version__}, numba "
            f"{numba.__version__} (threading layer {numba.threading_layer()})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed rounds (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--size-log2", type=int, default=24, help="elements of the one-tensor problem")
    parser.add_argument("--only", choices=["adam", "resnet50", "small"],
                        help="run one problem (small: the loop on short arrays at 1 and 2 threads)")
    args = parser.parse_args(argv)
    if numba.config.NUMBA_NUM_THREADS < max(THREADS):
        raise SystemExit(f"numba allows {numba.config.NUMBA_NUM_THREADS} thread(s); the rows need {max(THREADS)}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    warm = np.ones(8, np.float32)
    numba_adam.step(warm, warm.copy(), numba_adam.init_state(warm), 1)  # compile (or load) outside the timing
    _floor_loop(warm, warm.copy(), warm.copy(), warm.copy(), np.float32(1), np.float32(1))
    print(machine())
    print("numba compile: " + ", ".join(f"{r.precision} {r.seconds:.3f} s ({'from cache' if r.cached else 'compiled'})"
                                        for r in _numba_runtime.compile_log()))
    check_correctness()
    adam = resnet = None
    if args.only in (None, "adam"):
        n = 1 << args.size_log2
        adam = run_problem(f"Adam, one tensor of 2^{args.size_log2} float32",
                           [rng.standard_normal(n, dtype=np.float32)], [rng.standard_normal(n, dtype=np.float32)],
                           args)
        gc.collect()
    if args.only in (None, "resnet50"):
        shapes = resnet50_shapes()
        params = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
        grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
        total = sum(p.size for p in params)
        resnet = run_problem(f"ResNet-50 shapes, {len(shapes)} tensors, {total / 1e6:.2f}M float32", params, grads,
                             args)
    if args.only in (None, "small"):
        small_arrays()
    if adam or resnet:
        report_targets(adam, resnet, args.size_log2)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
