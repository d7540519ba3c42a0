r"""Step kinds for equations: :func:`identity`, :func:`substitution`, :func:`definition`, :func:`cases`."""
from __future__ import annotations

import sympy as sp
from . import domains as _domains
from . import kernel

from .exact import exact
from .falsify import falsify
from .inference import Statement
from .statuses import DEFINED, PROVED, Step, UNPROVED, code, guarded, never_raises, tex
from .settling import (REFUTE_POINTS, checked_sample, checked_within, record_domain, refutation, resolve_domains,
                       settle, within_ranges)


@never_raises("identity")
def identity(title: str, lhs, rhs, *, sample: dict | None = None, domains=None, kind: str = "identity",
             within: dict | None = None) -> Step:
    r"""Prove :math:`\mathrm{lhs} = \mathrm{rhs}` with the kernel (both sides defined at the same points of the
    domain and equal there), or refute it at an exact point of the domain; otherwise ``unproved``.
    ``within={j: (a, b)}`` states :math:`a \le j \le b` for an integer index."""
    def check():
        lhs_, rhs_ = exact(lhs), exact(rhs)
        ranges = checked_within(within_ranges(within))
        dom = resolve_domains([lhs_, rhs_] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        sample_ = checked_sample(sample, dom)
        return settle("=", lhs_, rhs_, dom, sample=sample_, within={j: (a, b) for j, a, b in ranges} or None)

    step = guarded(kind, title, lambda: Statement("=", exact(lhs), exact(rhs), within=within_ranges(within)).latex(tex),
                   check, statement=lambda: Statement("=", exact(lhs), exact(rhs), within=within_ranges(within)))
    return record_domain(step, [exact(lhs), exact(rhs)], domains)


@never_raises("substitution")
def substitution(title: str, expr, replacements: dict, result, *, sample: dict | None = None, domains=None) -> Step:
    r"""Replace symbols by their definitions in ``expr``; the result must equal ``result`` exactly."""
    expr = exact(expr)
    replacements = {exact(k): exact(v) for k, v in replacements.items()}
    defs = ", ".join(f"{tex(k)} \\mapsto {tex(v)}" for k, v in replacements.items())
    step = identity(title, expr.subs(replacements), result, sample=sample, domains=domains, kind="substitution")
    step.latex = f"\\left.{tex(expr)}\\right|_{{{defs}}} = {tex(exact(result))}"
    return step


@never_raises("definition")
def definition(title: str, symbol, value) -> Step:
    """A definition: introduces notation, proves nothing (status ``defined``; a claim of definitions and
    evidence alone is ``unproved``)."""
    return Step("definition", title, f"{tex(exact(symbol))} := {tex(exact(value))}", DEFINED,
                "definition (notation only)")


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def relation_of_substitution(case: dict, original: set):
    r"""The condition a substitution case covers: :math:`v \mapsto e_0 + c\,d` with one fresh real parameter
    :math:`d` of known sign covers :math:`(v - e_0)/c \gtrless 0`; :math:`v \mapsto e_0` covers :math:`v = e_0`."""
    conditions = []
    for v, e in case.items():
        e = sp.sympify(e)
        fresh = e.free_symbols - original
        if not fresh:
            conditions.append(sp.Eq(v, e))
            continue
        if len(fresh) != 1:
            return None
        d = fresh.pop()
        if d.is_integer or not d.is_real:
            return None
        c = sp.diff(e, d)
        if d in c.free_symbols or not c.is_number or c == 0:
            return None
        e0 = e.xreplace({d: 0})
        x = (v - e0) / c
        if d.is_positive:
            conditions.append(sp.Gt(x, 0))
        elif d.is_nonnegative:
            conditions.append(sp.Ge(x, 0))
        elif d.is_negative:
            conditions.append(sp.Lt(x, 0))
        elif d.is_nonpositive:
            conditions.append(sp.Le(x, 0))
        else:
            return sp.true  # d ranges over all reals: no restriction
    return sp.And(*conditions)


@never_raises("identity")
def cases(title: str, lhs, rhs, splits: Iterable, *, kind: str = "identity", sample: dict | None = None,
          domains=None) -> Step:
    r"""Prove ``lhs = rhs`` by a case split. Each case is a condition (``x >= y``), a substitution that encodes
    one (:math:`y \mapsto x - d`, :math:`d \ge 0` for :math:`x \ge y`), or a ``(condition, substitution)`` pair.
    The split must be shown exhaustive (every point of the domain is in some case), every case must simplify to
    0, and the statement is then swept (its boundaries, e.g. :math:`u = w`, are among the test points)."""
    lhs, rhs = exact(lhs), exact(rhs)
    splits = list(splits)
    statement = Statement("=", lhs, rhs)

    def check():
        original = lhs.free_symbols | rhs.free_symbols
        dom = resolve_domains([lhs, rhs], domains)
        sample_ = checked_sample(sample, dom)
        conditions = []

        def not_shown(why):
            finding, _ = falsify("=", lhs, rhs, dom, sample=sample_, budget=REFUTE_POINTS)
            return refutation(finding) if finding else (UNPROVED, why)

        for case in splits:
            if isinstance(case, tuple):  # the condition is the case; the substitution is a hint only
                condition = sp.sympify(case[0])
            elif isinstance(case, dict):
                condition = relation_of_substitution({exact(k): exact(v) for k, v in case.items()}, original)
            else:
                condition = sp.sympify(case)
            if condition is None:
                return UNPROVED, f"cannot tell which part of the domain the case {code(case)} covers"
            conditions.append(condition)
        covering = kernel.satisfiable_region(sp.Or(*conditions), dom)
        if not covering.proved:
            return not_shown(f"the split {code(', '.join(map(str, conditions)))} is not shown to be exhaustive "
                             f"({covering.reason})")
        for condition in conditions:
            verdict = kernel.decide("=", lhs, rhs, dom, hypotheses=(condition,))
            if not verdict.proved:
                return not_shown(f"case {code(condition)} not shown ({verdict.reason})")
        _ = sample_
        return PROVED, (f"{kernel.CERTIFICATE_DECISION}: exhaustive split {code(' ∨ '.join(map(str, conditions)))} "
                        f"(shown by the kernel), every case decided by the kernel")

    return guarded(kind, title, statement.latex(tex), check, statement=statement)
