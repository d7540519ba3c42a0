"""Per-call overhead of a step on small arrays: µs per call, where the arithmetic is negligible.

What it times (the fastest of ``--repeats`` rounds, each ``--calls`` calls, float32, 16 elements per tensor; the
fastest round is the least disturbed by other processes on a shared machine):

* ``module.step`` — one generated module's ``step(param, grad, state, t)`` (arguments checked every call);
* ``Optimizer.step`` with ``--tensors`` tensors, ``flat=False`` (µs per call and per tensor) and ``flat=True``
  (gradients passed to ``step`` and copied into the flat buffer, or already written into ``opt.grads``).

Run from the repository root: ``python bench/step_overhead.py [--names adam sgd_torch] [--tensors 100]``.
A benchmark, not a test: the figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from optiforge.runtime import Optimizer, kernel_module


def _best_us(call, calls: int, repeats: int) -> float:
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return min(rounds)


def measure(name: str, tensors: int, size: int, calls: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    module = kernel_module(name)
    param = rng.standard_normal(size).astype(np.float32)
    grad = rng.standard_normal(size).astype(np.float32)
    state = module.init_state(param)
    counter = iter(range(1, 10**9))
    rows = {"module.step": _best_us(lambda: module.step(param, grad, state, next(counter)), calls, repeats)}
    params = [rng.standard_normal(size).astype(np.float32) for _ in range(tensors)]
    grads = [rng.standard_normal(size).astype(np.float32) for _ in range(tensors)]
    per_tensor = Optimizer([p.copy() for p in params], name)
    rows["Optimizer.step, flat=False"] = _best_us(lambda: per_tensor.step(grads), calls // tensors + 1, repeats)
    flat = Optimizer([p.copy() for p in params], name, flat=True)
    rows["Optimizer.step(grads), flat=True"] = _best_us(lambda: flat.step(grads), calls // tensors + 1, repeats)
    rows["Optimizer.step(), flat=True"] = _best_us(flat.step, calls // tensors + 1, repeats)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", default=["adam", "sgd_torch", "rmsprop_torch_centered"])
    parser.add_argument("--tensors", type=int, default=100)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}; {args.size} float32 elements per tensor, "
          f"{args.tensors} tensors for Optimizer")
    print(f"| optimizer | call | µs per call | µs per tensor |\n|---|---|---|---|")
    for name in args.names:
        for row, us in measure(name, args.tensors, args.size, args.calls, args.repeats).items():
            tensors = 1 if row == "module.step" else args.tensors
            print(f"| {name} | {row} | {us:.1f} | {us / tensors:.2f} |")


if __name__ == "__main__":
    main()
