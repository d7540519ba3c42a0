r"""Statuses of a checked step, the :class:`Step` record, and the guard every step kind runs under (no exception
leaves a step: a failure makes it ``unproved`` with the reason)."""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable
import sympy as sp
from optiforge import specs

from .inference import Statement
from .timing import CheckTimeout, time_limit


PROVED = "proved"


APPROXIMATION = "approximation proved"


REFUTED = "refuted"


UNPROVED = "unproved"


CHECKED = "checked"  # supporting numeric / bounded evidence: never a proof


INCONCLUSIVE = "inconclusive"  # supporting evidence that could not be obtained: neither proof nor refutation


ARGUED = "argued"  # an inference that is stated but not checked mechanically: never reported as proved


DEFINED = "defined"  # a definition: introduces notation, proves nothing


PROVING = (PROVED, APPROXIMATION)


HOLDS, FAILS, ARGUES = "holds", "refuted", "argued"  # what a claim asserts about itself


#: Per-step hard limit (seconds).
STEP_TIMEOUT = 20.0




@dataclass
class Step:
    """One checked step: ``kind`` (identity, substitution, approximation, …), a LaTeX statement, a status.

    ``statement`` is what the step proved (for :func:`conclude`'s rules); ``downgraded`` is set when the
    falsification sweep overturned a symbolic "proof"."""

    kind: str
    title: str
    latex: str
    status: str
    detail: str = ""
    counterexample: dict | None = None
    seconds: float = 0.0
    statement: Statement | None = None
    downgraded: bool = False
    #: the domains the statement was checked on ({symbol: Set}); ``conclude`` requires them to cover its own
    domain: dict | None = None


def guarded(kind: str, title: str, latex, check: Callable[[], tuple], timeout: float = STEP_TIMEOUT,
            statement=None) -> Step:
    """Run ``check() -> (status, detail[, counterexample[, downgraded]])`` under the timeout; any error becomes
    ``unproved`` with its reason (no exception leaves a step). ``latex`` and ``statement`` may be callables,
    evaluated under the same guard (reading the inputs can fail too)."""
    start = time.perf_counter()
    try:
        if callable(statement):
            statement = statement()
        if callable(latex):
            latex = latex()
    except Exception as exc:  # noqa: BLE001 - bad input: the step says so
        return Step(kind, title, "", UNPROVED, f"{type(exc).__name__}: {code(exc)}", seconds=time.perf_counter() - start)
    try:
        with time_limit(timeout):
            status, detail, *rest = check()
    except CheckTimeout as exc:
        status, detail, rest = UNPROVED, str(exc), []
    except Exception as exc:  # a SymPy failure is "could not prove", never a pass
        status, detail, rest = UNPROVED, f"{type(exc).__name__}: {code(exc)}", []
    return Step(kind, title, latex, status, detail, rest[0] if rest else None, time.perf_counter() - start,
                statement, bool(rest[1]) if len(rest) > 1 else False)


def never_raises(kind: str):
    """Decorator for the public step kinds: an exception (bad input, a SymPy failure outside the guarded check)
    becomes an ``unproved`` step with the reason; the step's checked domain is recorded (:attr:`Step.domain`)."""
    def wrap(function):
        @functools.wraps(function)
        def step(title, *args, **kwargs):
            start = time.perf_counter()
            try:
                return function(title, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                return Step(kind, str(title), "", UNPROVED, f"{type(exc).__name__}: {code(exc)}",
                            seconds=time.perf_counter() - start)
        return step
    return wrap


def code(expr, limit: int = 200) -> str:
    """SymPy text as a Markdown code span (never bare: ``-g*lr`` would become emphasis)."""
    text = sp.sstr(expr) if isinstance(expr, sp.Basic) else str(expr)
    text = text if len(text) <= limit else text[:limit] + " …"
    return "`" + text.replace("`", "'") + "`"


_LATEX_NAMES: dict = {}


def tex(expr) -> str:
    """LaTeX with the specs' own symbol names (``momentum`` → :math:`\\alpha`, ``eps`` → :math:`\\epsilon`)."""
    if not isinstance(expr, sp.Basic):
        return str(expr)
    if not _LATEX_NAMES:
        for spec in reversed(specs.all_specs()):  # first spec wins on a shared name
            _LATEX_NAMES.update({k: v for k, v in spec.latex_names().items() if isinstance(k, sp.Symbol)})
    names = {s: _LATEX_NAMES[s] for s in expr.free_symbols if s in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names)
