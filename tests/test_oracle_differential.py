"""Random specs against the exact oracle in CI (``tests/oracle_differential.py``, ``tests/exact_oracle.py``):
every spec's NumPy kernel in float64, one spec in :data:`FLOAT32_EVERY` in float32 and one in
:data:`NUMBA_EVERY` on numba (both precisions), one step at a time, with a step whose gradient is the parameter
array; NaN/±inf positions of numba compared with NumPy's.

The grammar has the features of :data:`oracle_differential.CI_FEATURES` (hyperparameters at their domain ends,
floor/ceiling/Mod/Heaviside, state read before and after its update, combinators, raw poles and radicands,
moving averages at their weights' ends);
the campaign command checks the others too, which today's code generator fails (``tests/oracle_known_failures.py``):
``python -m tests.oracle_differential --count 300 --seed 11``.

``OPTIFORGE_ORACLE_SEED`` and ``OPTIFORGE_ORACLE_COUNT`` choose another seed and count.
"""
from __future__ import annotations

import os

from oracle_differential import CI_FEATURES, campaign, format_summary, summary

SEED = int(os.environ.get("OPTIFORGE_ORACLE_SEED", "20261207"))
COUNT = int(os.environ.get("OPTIFORGE_ORACLE_COUNT", "500"))
FLOAT32_EVERY = 5
NUMBA_EVERY = 12


def test_random_specs_match_the_exact_oracle(report_line):
    results, seconds = campaign(COUNT, SEED, features=CI_FEATURES, backends=("numpy", "numba"),
                                workers=min(2, os.cpu_count() or 1),
                                precisions=("float64", "float32"), steps=3, size=8,
                                every={"numpy:float32": FLOAT32_EVERY, "numba": NUMBA_EVERY})
    table = summary(results)
    report_line(format_summary(table, len(results), SEED, seconds))
    failures = [f"--- {r.recipe.name} {key}: {outcome}\n{r.details[key]}\n{r.recipe.source()}"
                for r in results for key, outcome in r.outcomes.items() if outcome != "correct"]
    assert not failures, (f"seed {SEED} (rerun: python -m tests.oracle_differential --seed {SEED} --count {COUNT} "
                          f"--features ci --backends numpy,numba --every numpy:float32 {FLOAT32_EVERY} --every numba {NUMBA_EVERY} --steps 3 "
                          f"--size 8):\n" + "\n".join(failures[:5]))
    assert table[("numpy", "float64")]["correct"] == COUNT
    assert table[("numpy", "float32")]["correct"] >= COUNT // (2 * FLOAT32_EVERY)
    assert table[("numba", "float64")]["correct"] >= COUNT // (2 * NUMBA_EVERY)


def test_the_elementary_functions_feature_draws_every_function():
    """The ``elementary_functions`` feature (not in CI_FEATURES: see tests/oracle_differential.py) draws each of
    them, mostly on its domain."""
    import sympy as sp
    from oracle_differential import WideGenerator
    from optiforge.specs.validate import ELEMENTARY_FUNCTIONS

    generator = WideGenerator(7, CI_FEATURES + ("elementary_functions",))
    seen = set()
    for index in range(80):
        for _, _, value in generator.recipe(index).steps:
            seen |= {type(node) for node in sp.preorder_traversal(value)}
    assert set(ELEMENTARY_FUNCTIONS) <= seen, set(ELEMENTARY_FUNCTIONS) - seen
