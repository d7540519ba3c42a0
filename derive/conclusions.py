r""":func:`conclude` (an inference by a rule of :mod:`derive.inference`, premises' domains covering the
conclusion's) and :func:`numeric` evidence."""
from __future__ import annotations

import time
from typing import Callable
import sympy as sp

from .inference import derive as _derive_by_rule
from .inference import InferenceError
from .timing import CheckTimeout, time_limit
from .statuses import ARGUED, CHECKED, PROVED, PROVING, STEP_TIMEOUT, Step, UNPROVED, code, guarded, never_raises, tex
from .settling import resolve_domains


def _uncovered(premises: list, conclusion_domain: dict) -> str | None:
    """A premise whose checked domain does not contain the conclusion's (for a symbol they share), or None."""
    for p in premises:
        for symbol, domain in (p.domain or {}).items():
            wanted = conclusion_domain.get(symbol)
            if wanted is None:
                continue
            if wanted.is_subset(domain) is not True:
                return (f"step {p.title!r} holds for {symbol} in {domain}, the conclusion is asked for {symbol} in "
                        f"{wanted}")
    return None


def conclude(title: str, latex: str | None, premises: list[Step], kind: str = "bound", *, rule: str | None = None,
             over: tuple | None = None, domains=None) -> Step:
    r"""A conclusion from earlier steps. With ``rule`` (``chain``, ``squeeze``, ``monotone``, ``termwise``,
    ``max_le``; see :mod:`derive.inference`) the inference is checked mechanically and the conclusion shown is the
    one derived from the premises (``proved`` only if every premise is, and every premise's domain covers the
    conclusion's: the ``domains`` given here met with the scope's). Without a rule the inference is not
    checked: the step is ``argued``, which is never reported as proved."""
    start = time.perf_counter()
    try:
        names = ", ".join(p.title for p in premises)
        if rule is None:
            return Step(kind, title, latex or "", ARGUED,
                        f"argued, not checked: the inference from steps {names} is not verified mechanically")
        pending = [p.title for p in premises if p.status != PROVED]
        if pending:  # the conclusion is still derived where the rule applies (later steps read it), unproved
            try:
                with time_limit(STEP_TIMEOUT):
                    statement, _ = _derive_by_rule(rule, premises, over=over, domains={})
            except Exception:  # noqa: BLE001 - nothing to show
                statement = None
            return Step(kind, title, statement.latex(tex) if statement else latex or "", UNPROVED,
                        f"premises not proved: {', '.join(pending)}", seconds=time.perf_counter() - start,
                        statement=statement)
        exprs = [e for p in premises if p.statement is not None for e in (p.statement.lhs, p.statement.rhs)
                 if isinstance(e, sp.Basic)]
        dom = resolve_domains(exprs, domains)
        with time_limit(STEP_TIMEOUT):
            statement, how = _derive_by_rule(rule, premises, over=over, domains=dom)
            concluded = resolve_domains([e for e in (statement.lhs, statement.rhs) if isinstance(e, sp.Basic)], domains)
            gap = _uncovered(premises, {**dom, **concluded})
        if gap:
            return Step(kind, title, statement.latex(tex), UNPROVED, f"the premises' domains do not cover the "
                        f"conclusion's: {gap}", seconds=time.perf_counter() - start)
        step = Step(kind, title, statement.latex(tex), PROVED, f"inference checked by the kernel: {how} (rule {rule!r}, "
                    f"from steps {names})",
                    seconds=time.perf_counter() - start, statement=statement)
        step.domain = {s: d for s, d in concluded.items()}
        return step
    except (InferenceError, CheckTimeout) as exc:
        return Step(kind, title, latex or "", UNPROVED, f"rule {rule!r} does not apply: {exc}",
                    seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - no exception leaves a step
        return Step(kind, title, latex if isinstance(latex, str) else "", UNPROVED,
                    f"{type(exc).__name__}: {code(exc)}", seconds=time.perf_counter() - start)


@never_raises("numeric check")
def numeric(title: str, function: Callable[[], tuple]) -> Step:
    """A numeric sanity check: status ``checked`` or ``refuted`` (a ``proved`` it returns is read as ``checked``);
    never counts as a proof."""
    step = guarded("numeric check", title, title, function)
    if step.status in PROVING:
        step.status = CHECKED
    return step
