"""CPU benchmark: one Adam step on 2**24 float32 elements.

Compares the generated NumPy kernel (``optiforge.generated.numpy.adam.step``) with a naive whole-array NumPy
Adam, with ``torch.optim.Adam`` (for-loop, foreach and fused CPU paths, at one thread and at the
default thread count) and with a measured memory-bandwidth floor: a single-threaded numba loop with
exactly Adam's traffic (4 arrays read, 3 written) and trivial arithmetic.

Run from the repository root::

    python bench/numpy_step.py                  # default run (~1 minute on 2 cores)
    python bench/numpy_step.py --sweep-blocks   # plus generated-kernel ms/step for BLOCK 4096..262144
    python bench/numpy_step.py --block 32768    # run everything with another generated BLOCK

BLOCK is the generated kernel's block in float32 elements (``_runtime.block_size(float32)``, i.e.
``_runtime.BLOCK_BYTES / 4``).

This is a benchmark, not a test: the target checks print PASS/MISS and never fail.
numba (``pip install numba`` or ``pip install -e .[bench]``) is optional; without it the floor row
is skipped.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from optiforge.runtime import kernel_support as _runtime  # noqa: E402
from optiforge.generated.numpy import adam as gen_adam  # noqa: E402

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
HP = dict(lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS)
BYTES_PER_ELEMENT = 7 * 4  # Adam: param, grad, m, v read; param, m, v written; float32
TARGET_A = 2.5  # generated NumPy <= 2.5 x torch fused CPU (1 thread)

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

try:
    import numba
except ImportError:
    numba = None

DEFAULT_THREADS = torch.get_num_threads() if torch is not None else None


def set_block(block: int) -> None:
    """Override the generated modules' block size, in float32 elements (and free the old scratch buffers)."""
    _runtime.BLOCK_BYTES = int(block) * 4
    _runtime.clear_scratch()


def float32_block() -> int:
    return _runtime.block_size(np.float32)


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(n, dtype=np.float32)
    grad = rng.standard_normal(n, dtype=np.float32)
    return param, grad


# --------------------------------------------------------------------------- variants

def make_generated(param0, grad):
    param = param0.copy()
    state = gen_adam.init_state(param, **HP)

    def step(t):
        gen_adam.step(param, grad, state, t, **HP)
    return step


def make_naive(param0, grad):
    """Textbook Adam with whole-array expressions (allocates temporaries every step)."""
    st = {"p": param0.copy(), "m": np.zeros_like(param0), "v": np.zeros_like(param0)}

    def step(t):
        m = BETA1 * st["m"] + (1 - BETA1) * grad
        v = BETA2 * st["v"] + (1 - BETA2) * grad * grad
        m_hat = m / (1 - BETA1 ** t)
        v_hat = v / (1 - BETA2 ** t)
        st["p"] -= LR * m_hat / (np.sqrt(v_hat) + EPS)
        st["m"], st["v"] = m, v
    return step


def make_torch(param0, grad, *, foreach: bool, fused: bool):
    p = torch.nn.Parameter(torch.from_numpy(param0.copy()))
    p.grad = torch.from_numpy(grad)
    opt = torch.optim.Adam([p], lr=LR, betas=(BETA1, BETA2), eps=EPS, foreach=foreach, fused=fused)

    def step(t):
        opt.step()
    return step


if numba is not None:
    @numba.njit(cache=False, fastmath=False, parallel=False)
    def _floor_kernel(p, g, m, v, a, b):
        for i in range(p.size):
            gi = g[i]
            p[i] += gi * np.float32(0.0)
            m[i] = m[i] * a + gi
            v[i] = v[i] * b + gi
else:
    _floor_kernel = None


def make_floor(param0, grad):
    p = param0.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    a, b = np.float32(BETA1), np.float32(BETA2)
    _floor_kernel(p[:16], grad[:16], m[:16], v[:16], a, b)  # compile outside the timing

    def step(t):
        _floor_kernel(p, grad, m, v, a, b)
    return step


# --------------------------------------------------------------------------- checks

def check_correctness(n: int, steps: int = 3) -> None:
    """Generated kernel vs torch for-loop Adam, float32, same data, ``steps`` steps."""
    param0, grad0 = data(n, seed=1)
    rng = np.random.default_rng(2)
    grads = [grad0] + [rng.standard_normal(n, dtype=np.float32) for _ in range(steps - 1)]
    p = param0.copy()
    state = gen_adam.init_state(p, **HP)
    for t, g in enumerate(grads, start=1):
        gen_adam.step(p, g, state, t, **HP)
    if torch is None:
        print("correctness: torch missing, skipped")
        return
    tp = torch.nn.Parameter(torch.from_numpy(param0.copy()))
    opt = torch.optim.Adam([tp], lr=LR, betas=(BETA1, BETA2), eps=EPS, foreach=False, fused=False)
    for g in grads:
        tp.grad = torch.from_numpy(g)
        opt.step()
    ts = opt.state[tp]
    pairs = {"param": (p, tp.detach().numpy()),
             "m": (state["m"], ts["exp_avg"].numpy()),
             "v": (state["v"], ts["exp_avg_sq"].numpy())}
    parts = []
    for name, (ours, ref) in pairs.items():
        diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
        norm = float(diff.max() / np.abs(ref).max())
        parts.append(f"{name} {norm:.2e}")
    print(f"correctness (generated vs torch for-loop, float32, {steps} steps, n=2^{int(np.log2(n))}): "
          f"max |diff| / max |ref|: {', '.join(parts)}")


# --------------------------------------------------------------------------- main

def time_interleaved(variants, warmup: int, steps: int) -> dict:
    """Round-robin timing: each round runs one step of every variant, so background load on a shared
    machine hits all variants alike. ``variants`` maps label -> (step, torch threads or None).
    Returns label -> list of per-step seconds."""
    t = 0
    times = {label: [] for label in variants}
    # Run the default-thread torch variants last in each round so the thread count changes only twice
    # per round (torch.set_num_threads is called only when the count changes).
    order = sorted(variants, key=lambda label: variants[label][1] not in (None, 1))
    current = torch.get_num_threads() if torch is not None else None
    for round_ in range(warmup + steps):
        t += 1
        for label in order:
            step, threads = variants[label]
            if threads is not None and threads != current:
                torch.set_num_threads(threads)
                current = threads
            start = time.perf_counter()
            step(t)
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                times[label].append(elapsed)
    if torch is not None:
        torch.set_num_threads(DEFAULT_THREADS)
    return times


def run_all(args) -> dict:
    n = 1 << args.size_log2
    param0, grad = data(n)
    # Two groups, each timed round-robin. Variants that allocate big temporaries every step (naive
    # NumPy, torch for-loop and foreach) churn pages and slow their neighbours, the cache-blocked
    # generated kernel most of all, so the in-place variants (target (a)) are timed on their own;
    # the generated kernel is timed again inside the allocating group for target (b).
    groups = {"in-place": {}, "allocating": {}}  # group -> label -> (step, threads)
    keys = {}                                     # result key -> label
    keys["gen"] = f"generated NumPy (BLOCK={float32_block()})"
    groups["in-place"][keys["gen"]] = (make_generated(param0, grad), None)
    keys["gen_alloc"] = "  same, timed in the allocating group"
    groups["allocating"][keys["gen_alloc"]] = (make_generated(param0, grad), None)
    keys["naive"] = "naive NumPy (whole-array)"
    groups["allocating"][keys["naive"]] = (make_naive(param0, grad), None)
    if torch is not None:
        for name, kw, group in (("for-loop", dict(foreach=False, fused=False), "allocating"),
                                ("foreach", dict(foreach=True, fused=False), "allocating"),
                                ("fused", dict(foreach=False, fused=True), "in-place")):
            for threads in (1, DEFAULT_THREADS):
                label = f"torch {name}, {threads} thread{'s' if threads > 1 else ''}"
                keys[(name, threads)] = label
                groups[group][label] = (make_torch(param0, grad, **kw), threads)
    else:
        print("torch not installed: torch rows skipped")
    if numba is not None:
        keys["floor"] = "floor (numba loop, 1 thread)"
        groups["in-place"][keys["floor"]] = (make_floor(param0, grad), None)
    else:
        print("numba not installed: floor row skipped (pip install numba, or pip install -e '.[bench]')")

    times = {}
    for group in groups.values():
        times.update(time_interleaved(group, args.warmup, args.steps))
        gc.collect()
    variants = list(keys.values())
    ms = {label: 1e3 * statistics.median(ts) for label, ts in times.items()}
    ms_min = {label: 1e3 * min(ts) for label, ts in times.items()}
    res = {key: ms[label] for key, label in keys.items()}
    res_min = {key: ms_min[label] for key, label in keys.items()}
    floor = res.get("floor")
    fused1 = res.get(("fused", 1))
    print()
    print(f"Adam step, n = 2^{args.size_log2} float32, median of {args.steps} steps after {args.warmup} warm-up "
          f"(interleaved round-robin within two groups: in-place, allocating); GB/s assumes {BYTES_PER_ELEMENT} B/element; "
          f"torch default threads = {DEFAULT_THREADS}")
    header = f"{'variant':<36s} {'ms/step':>9s} {'(min)':>8s} {'GB/s':>7s} {'x floor':>8s} {'x fused1':>9s}"
    print(header)
    print("-" * len(header))
    for label in variants:
        gbs = BYTES_PER_ELEMENT * n / (ms[label] * 1e-3) / 1e9
        xf = f"{ms[label] / floor:8.2f}" if floor else f"{'-':>8s}"
        xt = f"{ms[label] / fused1:9.2f}" if fused1 else f"{'-':>9s}"
        print(f"{label:<36s} {ms[label]:9.2f} {ms_min[label]:8.2f} {gbs:7.2f} {xf} {xt}")
    print()
    if torch is not None:
        gen = res["gen"]
        ok_a = gen <= TARGET_A * fused1
        print(f"target (a) generated <= {TARGET_A} x torch fused CPU (1 thread): "
              f"{gen:.2f} ms vs {TARGET_A} x {fused1:.2f} = {TARGET_A * fused1:.2f} ms "
              f"(ratio {gen / fused1:.2f}) -> {'PASS' if ok_a else 'MISS'}"
              f"   [fastest steps: {res_min['gen']:.2f} vs {res_min[('fused', 1)]:.2f} ms, "
              f"ratio {res_min['gen'] / res_min[('fused', 1)]:.2f}]")
        loop_d = res[("for-loop", DEFAULT_THREADS)]
        gen = res["gen_alloc"]
        ok_b = gen < loop_d
        print(f"target (b) generated faster than torch for-loop ({DEFAULT_THREADS} threads): "
              f"{gen:.2f} ms vs {loop_d:.2f} ms (ratio {gen / loop_d:.2f}) -> {'PASS' if ok_b else 'MISS'}"
              f"   [fastest steps: ratio {res_min['gen_alloc'] / res_min[('for-loop', DEFAULT_THREADS)]:.2f}]")
        print("(targets use the medians; the fastest-step ratios are for reading a noisy run)")
    del groups
    gc.collect()
    return res


def sweep_blocks(args) -> None:
    """Generated kernel at BLOCK = 4096 ... 262144 float32 elements, interleaved round-robin like the main
    table (``optiforge.runtime.kernel_support.scratch`` keys its buffers by block size, so each size keeps its own)."""
    n = 1 << args.size_log2
    param0, grad = data(n)
    original = _runtime.BLOCK_BYTES
    blocks = [1 << log2 for log2 in range(12, 19)]
    steps = {b: make_generated(param0, grad) for b in blocks}

    def with_block(b):
        def step(t):
            _runtime.BLOCK_BYTES = 4 * b
            steps[b](t)
        return step
    times = time_interleaved({b: (with_block(b), None) for b in blocks}, args.warmup, args.steps)
    _runtime.BLOCK_BYTES = original
    print()
    print(f"generated NumPy Adam, BLOCK sweep (n = 2^{args.size_log2}, median of {args.steps} steps, "
          f"interleaved)")
    print(f"{'BLOCK':>8s} {'ms/step':>9s} {'(min)':>8s} {'GB/s':>7s} {'blocks':>7s} {'us/block':>9s}")
    for b in blocks:
        ms = 1e3 * statistics.median(times[b])
        nblocks = -(-n // b)
        gbs = BYTES_PER_ELEMENT * n / (ms * 1e-3) / 1e9
        print(f"{b:8d} {ms:9.2f} {1e3 * min(times[b]):8.2f} {gbs:7.2f} {nblocks:7d} {1e3 * ms / nblocks:9.2f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-log2", type=int, default=24, help="number of elements = 2**SIZE_LOG2 (default 24)")
    ap.add_argument("--steps", type=int, default=15, help="timed steps per variant (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed warm-up steps per variant")
    ap.add_argument("--block", type=int, default=None,
                    help=f"override the generated block, in float32 elements (default {float32_block()})")
    ap.add_argument("--sweep-blocks", action="store_true",
                    help="also print generated-kernel ms/step for BLOCK = 4096 ... 262144")
    ap.add_argument("--no-check", action="store_true", help="skip the correctness check")
    args = ap.parse_args(argv)
    if args.block is not None:
        set_block(args.block)
    print(f"load average {os.getloadavg()[0]:.2f} (other processes share these cores; 2-thread torch rows "
          f"are very sensitive to that)")
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'missing'}, "
          f"numba {numba.__version__ if numba else 'missing'}, cpus {os.cpu_count()}, BLOCK {float32_block()}")
    if not args.no_check:
        check_correctness(1 << min(args.size_log2, 20))
    run_all(args)
    if args.sweep_blocks:
        sweep_blocks(args)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
