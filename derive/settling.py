r"""The common tail of the step kinds: the kernel (:mod:`derive.kernel`) decides a statement; otherwise its model of
the negation, then a sweep of exact points (:mod:`derive.falsify`), are re-checked exactly inside every declared
domain for a counterexample. Inputs (``sample=``, ``within=``, ``assume=``) are validated against the domains."""
from __future__ import annotations

import sympy as sp
from . import domains as _domains
from . import kernel

from .sums import conventional
from .exact import exact
from .falsify import falsify
from .timing import CheckTimeout, time_limit
from .statuses import PROVED, REFUTED, Step, UNPROVED, code


#: Points tried when searching a counterexample to a statement SymPy could not prove.
REFUTE_POINTS = 120


def record_domain(step: Step, exprs, domains, exclude=()) -> Step:
    """Set ``step.domain`` to the domains of the statement's symbols (those in ``exclude`` are bound)."""
    try:
        step.domain = {k: v for k, v in resolve_domains([e for e in exprs if isinstance(e, sp.Basic)], domains).items()
                       if k not in exclude}
    except Exception:  # noqa: BLE001 - unknown domain: conclude then trusts the scope
        step.domain = None
    return step


def prove_zero(expr: sp.Expr, domains: dict | None = None, **_) -> bool:
    """True iff the kernel (:mod:`derive.kernel`) proves ``expr`` defined and equal to 0 on the domain (the
    declared ``domains`` met with the scope's and the symbols' assumptions)."""
    expr = sp.sympify(expr)
    return kernel.prove_zero(expr, resolve_domains([expr], domains))


def prove_equal(lhs, rhs, domains: dict | None = None, **kw) -> bool:
    """True iff the kernel proves ``lhs`` and ``rhs`` defined at the same points of the domain and equal there."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    return kernel.prove_equal(lhs, rhs, resolve_domains([lhs, rhs], domains), **kw)


def conventional_value(expr):
    """``expr`` with its numeric-limit sums, products and range maxima evaluated conventionally (empty: 0, 1, 0)."""
    return conventional(expr)


def sample_values(symbol: sp.Symbol, sample: dict | None = None, domains=None) -> list:
    """Exact test values for a symbol: the claim's own list, or generic then special values of its domain
    (assumptions ∩ the scope's and the given domains)."""
    if sample and symbol in sample:
        return [exact(v) for v in sample[symbol]]
    domain = _domains.resolve([symbol], domains)[symbol]
    values = _domains.generic_values(domain) + _domains.special_values(domain)
    return list(dict.fromkeys(values))


def resolve_domains(exprs, domains) -> dict:
    symbols = set()
    for e in exprs:
        symbols |= sp.sympify(e).free_symbols
    return _domains.resolve(symbols, domains)


def exact_sample(sample: dict | None) -> dict | None:
    return {k: [exact(v) for v in vs] for k, vs in sample.items()} if sample else None


def within_ranges(within: dict | None) -> tuple:
    return tuple((i, sp.sympify(a), sp.sympify(b)) for i, (a, b) in sorted((within or {}).items(),
                                                                            key=lambda kv: kv[0].name))


def downgrade(finding, proof: str) -> tuple:
    return (REFUTED, f"falsification sweep overturned SymPy's proof ({proof}): {finding.reason} at "
                     f"{finding.where()}: lhs = {code(finding.lhs)}, rhs = {code(finding.rhs)}",
            finding.counterexample(), True)


def refutation(finding) -> tuple:
    return (REFUTED, f"{finding.reason} at {finding.where()}: lhs = {code(finding.lhs)}, rhs = {code(finding.rhs)}",
            finding.counterexample())


def confirmed(verdict, relation, lhs, rhs, domains, hypotheses=()):
    """The kernel's model of the negation as a :class:`~derive.falsify.Finding`, if it lies in every declared
    domain, satisfies the hypotheses and fails the statement in exact arithmetic; else None."""
    from .falsify import Finding, failure_at
    point = verdict.model
    symbols = set().union(*(sp.sympify(e).free_symbols for e in (lhs, rhs)))
    if verdict.status != "counterexample" or not symbols <= set(point):
        return None
    point = {s: point[s] for s in sorted(symbols, key=lambda v: v.name)}
    if not all(_domains.contains(domains.get(s, _domains.assumption_domain(s)), v) for s, v in point.items()):
        return None
    if any(sp.sympify(h).xreplace(point) is not sp.true for h in hypotheses):
        return None
    try:
        with time_limit(2.0):
            finding = failure_at(relation, lhs, rhs, point, {})
    except (CheckTimeout, ZeroDivisionError, TypeError, ValueError, RecursionError):
        return None
    return finding if isinstance(finding, Finding) else None


def settle(relation: str, lhs, rhs, domains: dict, *, sample=None, within=None, hypotheses=(),
           refute: bool = True) -> tuple:
    """The common tail of every equation / inequality step: the kernel decides the statement (a proof is its
    certificate); otherwise the kernel's model of the negation, then a sweep of exact points, are re-checked
    exactly for a counterexample inside the domains; otherwise ``unproved``."""
    hypotheses = tuple(hypotheses) + tuple(c for j, (a, b) in (within or {}).items() for c in (sp.Ge(j, a), sp.Le(j, b)))
    verdict = kernel.decide(relation, lhs, rhs, domains, hypotheses=hypotheses)
    if verdict.proved:
        return PROVED, f"{kernel.CERTIFICATE_DECISION}: {verdict.reason}"
    if not refute:
        return UNPROVED, f"not shown: {verdict.reason}"
    finding = confirmed(verdict, relation, lhs, rhs, domains, hypotheses)
    count = 1 if finding else 0
    if not finding:
        finding, count = falsify(relation, lhs, rhs, domains, sample=sample, within=within, budget=REFUTE_POINTS)
    if finding:
        return refutation(finding)
    return UNPROVED, f"the kernel did not decide it ({verdict.reason}); no counterexample at {count} exact points"


def checked_sample(sample: dict | None, domains: dict) -> dict | None:
    """``sample`` values, exact, each inside its symbol's domain (ValueError naming the first that is not)."""
    sample = exact_sample(sample)
    for symbol, values in (sample or {}).items():
        domain = domains.get(symbol, _domains.assumption_domain(symbol)) if isinstance(symbol, sp.Symbol) else None
        for v in values:
            if domain is not None and not _domains.contains(domain, v):
                raise ValueError(f"sample value {symbol} = {v} lies outside the domain {domain} of {symbol}")
    return sample


def checked_within(ranges: tuple) -> tuple:
    for j, a, b in ranges:
        if not (isinstance(j, sp.Symbol) and j.is_integer):
            raise ValueError(f"within= index {j} must be an integer symbol (declare it with integer=True)")
    return ranges


def checked_assume(assume: dict, domains: dict) -> None:
    r"""Each ``assume`` substitution :math:`v \mapsto e` states a hypothesis that must stay inside :math:`v`'s
    domain: the kernel must show that :math:`e` lies in it for every value of its own symbols (in their
    domains). ValueError naming it otherwise."""
    for v, e in assume.items():
        if not isinstance(v, sp.Symbol):
            raise ValueError(f"assume= key {v} is not a symbol")
        domain = domains.get(v, _domains.assumption_domain(v))
        if domain == sp.Reals:
            continue
        e = sp.sympify(e)
        inside = kernel.satisfiable_region(domain.as_relational(v).xreplace({v: e}), resolve_domains([e], None))
        if not inside.proved:
            raise ValueError(f"assume= {v} -> {e} is not shown to stay inside the domain {domain} of {v} "
                             f"({inside.reason})")
