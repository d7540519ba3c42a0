r"""Lowering time of random specs of many assignments: spec build, ``ir.lower``, each pass, NumPy printing.

Issue 19 asks for lowering polynomial in the spec's size: a 20-assignment random spec in at most 2 s and an
80-assignment one in at most 5 s, on one core. The specs come from the exact-oracle campaign's grammar
(``tests/oracle_differential.py``, every feature): its recipe, then further ``let`` temporaries and state updates
drawn by the same builder until the spec has ``n`` assignments, the last one θ's.

::

    .venv/bin/python bench/lowering_time.py                       # 10 specs of 20 and 10 of 80 assignments
    .venv/bin/python bench/lowering_time.py --sizes 20 --count 5 --seed 3 --profile

Prints each spec's seconds per stage, then the median and maximum of the total per size and whether it meets
the target (PASS/MISS; never failing).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import oracle_differential as od  # noqa: E402
from optiforge.codegen import driver  # noqa: E402
from optiforge.codegen.generate import BACKENDS, __version__  # noqa: E402
from optiforge.codegen.ir import lower  # noqa: E402
from optiforge.codegen.passes import PIPELINE  # noqa: E402
from optiforge.specs import SpecError  # noqa: E402

#: assignments → seconds the issue allows (one core)
TARGETS = {20: 2.0, 80: 5.0}


def recipe_of_size(seed: int, index: int, assignments: int, features=od.FEATURES):
    """A campaign recipe grown to ``assignments`` steps (new ``let`` temporaries and state updates)."""
    rng = np.random.default_rng([seed, 1907, assignments, index])
    builder = od._WideBuilder(rng, f"l{seed}_{assignments}_{index}", frozenset(features))
    recipe = builder.recipe()
    recipe.combinators = []
    states = [name for name, _, scalar in recipe.states if not scalar]
    scalar_state = next((s for s in builder.scalars if s.name == "q"), None)
    counter = 0
    while len(recipe.steps) < assignments - 1:
        roll = rng.random()
        if roll < 0.6 or not states:
            counter += 1
            kind, target = "let", f"x{counter}"
        elif roll < 0.9:
            kind, target = "update", str(rng.choice(states))
        else:
            kind, target = "update", "theta"
        recipe.steps.append((kind, target, builder.step_value(kind, target, scalar_state)))
    recipe.steps.append(("update", "theta", builder.step_value("update", "theta", None)))
    return recipe


def stage_times(recipe) -> dict[str, float]:
    """Seconds of each stage (CPU time of this process): build, lower, each pass of the pipeline, NumPy printing
    (from the pipeline's cached IR, as ``optiforge generate`` prints every backend)."""
    times = {}
    clock = time.process_time

    def timed(name, apply):
        def run(*args):
            start = clock()
            try:
                return apply(*args)
            finally:
                times[name] = clock() - start
        return run

    start = clock()
    spec = recipe.build()
    times["build"] = clock() - start
    # The driver's cached pipeline, with each stage timed (the cache then serves the printer).
    original = driver.PIPELINE, driver.lower
    driver.PIPELINE = tuple((name, timed(name, apply)) for name, apply in PIPELINE)
    driver.lower = timed("lower", lower)
    try:
        driver.lower_and_optimize(spec, driver.PIPELINE)
    finally:
        driver.PIPELINE, driver.lower = original
    start = clock()
    BACKENDS["numpy"](spec, __version__)
    times["print numpy"] = clock() - start
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/lowering_time.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20,80", help="assignments per spec, comma-separated")
    parser.add_argument("--count", type=int, default=10, help="specs per size")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--profile", action="store_true", help="print the cProfile of the slowest spec")
    args = parser.parse_args(argv)
    failed = False
    for size in (int(s) for s in args.sizes.split(",")):
        totals, slowest = [], (0.0, None)
        for index in range(args.count):
            recipe = recipe_of_size(args.seed, index, size)
            try:
                times = stage_times(recipe)
            except SpecError as error:
                print(f"{recipe.name}: rejected ({str(error)[:100]})")
                continue
            except Exception as error:  # noqa: BLE001 (a generator crash: the campaign's business, not timed here)
                print(f"{recipe.name}: {type(error).__name__} ({str(error)[:100]})")
                continue
            total = sum(times.values())
            totals.append(total)
            slowest = max(slowest, (total, recipe), key=lambda pair: pair[0])
            print(f"{recipe.name}: {total:6.2f} s  " + "  ".join(f"{k} {v:.2f}" for k, v in times.items()
                                                                  if v >= 0.05))
        if not totals:
            continue
        target = TARGETS.get(size)
        verdict = "" if target is None else (" PASS" if max(totals) <= target else " MISS") + f" (target {target} s)"
        failed |= target is not None and max(totals) > target
        print(f"{size} assignments, {len(totals)} specs: median {statistics.median(totals):.2f} s, "
              f"max {max(totals):.2f} s{verdict}")
        if args.profile and slowest[1] is not None:
            profile = cProfile.Profile()
            profile.runcall(stage_times, slowest[1])
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
