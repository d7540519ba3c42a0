"""CPU benchmark: the generated JAX kernels through ``optiforge.optax.transform`` against the matching optax
optimizers, one jitted training-step update on GPT-2-small's parameters.

GPT-2 small has 148 parameter tensors, 124.4M float32 parameters (token and position embeddings, 12 blocks of
two layer norms, attention and MLP weights and biases, a final layer norm). Each variant is one
``jax.jit``-compiled function ``(params, state, grads) -> (params, state)`` (``update`` then
``optax.apply_updates``, parameters and state donated), timed per step after two warm-up steps; the variants of a
pair alternate step by step, so background load hits both alike. Each process reports the ratio of medians
(optiforge / optax); the parent runs ``--processes`` fresh processes and prints the median and the spread
(min-max) of those ratios.

Pairs: ``adam`` / ``optax.adam``, ``adamw`` / ``optax.adamw`` (λ_spec = lr·λ_optax), ``lion`` /
``optax.lion(weight_decay=0)``. Target: ratio ≤ 1.0. A benchmark, not a test: it prints and never fails.

Run from the repository root::

    python bench/jax_optax.py                       # GPT-2 small, 3 processes × 10 timed steps
    python bench/jax_optax.py --scale 0.1 --steps 20 --processes 5   # every tensor's first axis × 0.1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAIRS = {
    "adam": (dict(lr=1e-3), "optax.adam(1e-3)"),
    "adamw": (dict(lr=1e-3, weight_decay=1e-3 * 1e-4), "optax.adamw(1e-3, weight_decay=1e-4)"),
    "lion": (dict(lr=1e-4), "optax.lion(1e-4, weight_decay=0.0)"),
}


def gpt2_small_shapes(scale: float = 1.0) -> dict:
    """GPT-2 small's 148 parameter shapes (124.4M elements), each first axis multiplied by ``scale``."""
    d, vocab, context, layers = 768, 50257, 1024, 12

    def scaled(shape):
        return (max(1, round(shape[0] * scale)),) + shape[1:]
    shapes = {"wte": (vocab, d), "wpe": (context, d)}
    for layer in range(layers):
        block = {"ln_1.w": (d,), "ln_1.b": (d,), "attn.c_attn.w": (d, 3 * d), "attn.c_attn.b": (3 * d,),
                 "attn.c_proj.w": (d, d), "attn.c_proj.b": (d,), "ln_2.w": (d,), "ln_2.b": (d,),
                 "mlp.c_fc.w": (d, 4 * d), "mlp.c_fc.b": (4 * d,), "mlp.c_proj.w": (4 * d, d), "mlp.c_proj.b": (d,)}
        shapes |= {f"h{layer}.{name}": shape for name, shape in block.items()}
    shapes |= {"ln_f.w": (d,), "ln_f.b": (d,)}
    return {name: scaled(shape) for name, shape in shapes.items()}


def run_one(name: str, scale: float, steps: int) -> dict:
    """One process: the median step time of each variant and their ratio."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    import optiforge.optax

    hyper, call = PAIRS[name]
    shapes = gpt2_small_shapes(scale)
    rng = np.random.default_rng(0)
    params = {k: jnp.asarray(rng.standard_normal(s, np.float32) * 0.02) for k, s in shapes.items()}
    grads = {k: jnp.asarray(rng.standard_normal(s, np.float32) * 1e-3) for k, s in shapes.items()}
    transforms = {"optiforge": optiforge.optax.transform(name, **hyper), "optax": eval(call, {"optax": optax})}
    runs = {}
    for label, transform in transforms.items():
        def step(p, s, g, transform=transform):
            updates, s = transform.update(g, s, p)
            return optax.apply_updates(p, updates), s
        runs[label] = [jax.jit(step, donate_argnums=(0, 1)),
                       jax.tree_util.tree_map(jnp.copy, params), None]
        runs[label][2] = transform.init(runs[label][1])
    times = {label: [] for label in runs}
    for k in range(steps + 2):
        for label, run in runs.items():
            start = time.perf_counter()
            run[1], run[2] = run[0](run[1], run[2], grads)
            jax.block_until_ready(run[1])
            if k >= 2:
                times[label].append(time.perf_counter() - start)
    medians = {label: statistics.median(t) for label, t in times.items()}
    return {"name": name, "elements": int(sum(np.prod(s) for s in shapes.values())), "tensors": len(shapes),
            "medians": medians, "ratio": medians["optiforge"] / medians["optax"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every tensor's first axis (default 1)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant and process (default 10)")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per pair (default 3)")
    parser.add_argument("--only", choices=list(PAIRS), action="append", help="a pair (repeatable; default all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 0 < args.scale <= 1 or args.steps < 1 or args.processes < 1:
        parser.error("--scale must be in (0, 1], --steps and --processes at least 1")
    if args.child:
        print(json.dumps(run_one(args.child, args.scale, args.steps)))
        return
    import jax
    print(f"jax {jax.__version__} on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"GPT-2 small shapes × {args.scale}, {args.steps} steps × {args.processes} processes")
    print("| optimizer | optax | tensors | parameters | optiforge ms | optax ms | ratio median | ratio min-max |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.only or PAIRS:
        results = []
        for _ in range(args.processes):
            out = subprocess.run([sys.executable, __file__, "--child", name, "--scale", str(args.scale),
                                  "--steps", str(args.steps)], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        ratios = [r["ratio"] for r in results]
        ours = statistics.median(r["medians"]["optiforge"] for r in results) * 1e3
        theirs = statistics.median(r["medians"]["optax"] for r in results) * 1e3
        print(f"| {name} | {PAIRS[name][1]} | {results[0]['tensors']} | {results[0]['elements'] / 1e6:.1f}M | "
              f"{ours:.1f} | {theirs:.1f} | {statistics.median(ratios):.3f} | {min(ratios):.3f}-{max(ratios):.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
