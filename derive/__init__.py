"""derive: a derivation checker for the update rules in the sources, and the catalogue of checked claims.

``derive.claims()`` lists every claim (modules in :mod:`derive.catalog` define ``CLAIMS``);
``derive.verify(names)`` runs them, prints a table and returns 0 iff every outcome is as asserted.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
import time

from .engine import ARGUES, FAILS, HOLDS, Claim, ClaimResult

__all__ = ["claims", "verify", "run", "result_of", "results", "Claim", "HOLDS", "FAILS", "ARGUES"]


@functools.cache
def _discover() -> tuple[Claim, ...]:
    from . import catalog

    found: list[Claim] = []
    for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            found += list(importlib.import_module(f"{catalog.__name__}.{info.name}").CLAIMS)
    names = [c.name for c in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate claim names: {sorted(duplicates)}")
    return tuple(found)


def claims() -> list[Claim]:
    """All claims of the catalogue, in module order; names are unique."""
    return list(_discover())


def select(names=None) -> list[Claim]:
    """Claims whose name, tag or module topic matches one of ``names`` (all when empty)."""
    every = claims()
    if not names:
        return every
    chosen = [c for c in every if any(c.matches(n) for n in names)]
    unknown = [n for n in names if not any(c.matches(n) for c in every)]
    if unknown:
        raise KeyError(f"no claim matches {unknown}")
    return chosen


_RESULTS: dict[int, tuple[Claim, ClaimResult]] = {}


def result_of(claim: Claim | str) -> ClaimResult:
    """The result of ``claim`` (or the claim of that name), computed once per process: claims are
    deterministic, and the tests, ``build`` and the catalogue page all read the same results."""
    if isinstance(claim, str):
        claim = next(c for c in claims() if c.name == claim)
    cached = _RESULTS.get(id(claim))
    if cached is None or cached[0] is not claim:  # keyed by the object: a replaced claim runs afresh
        cached = _RESULTS[id(claim)] = (claim, claim.run())
    return cached[1]


def run(names=None) -> list[ClaimResult]:
    return [result_of(c) for c in select(names)]


def results() -> list[ClaimResult]:
    """Every claim's result (cached; see :func:`result_of`)."""
    return run()


def verify(names=None, report=None, stream=sys.stdout) -> int:
    """Run the claims, print the table, write the Markdown report to ``report``; 0 iff all as asserted."""
    from .report import markdown, table

    start = time.perf_counter()
    try:
        results = run(names)
    except KeyError as exc:
        print(exc.args[0], file=stream)
        return 2
    print(table(results), file=stream)
    print(f"wall time {time.perf_counter() - start:.1f} s", file=stream)
    if report:
        with open(report, "w", encoding="utf-8") as f:
            f.write(markdown(results))
    return 0 if all(r.as_expected for r in results) else 1
