r"""Statements and the inference rules that ``conclude`` checks mechanically.

Every proving step records what it proved as a :class:`Statement` (an equation, an inequality, a limit, a
monotonicity). ``engine.conclude(..., rule=R)`` derives its conclusion from its premises' statements by rule R
and checks that the premises fit the rule: the expressions that must coincide are shown equal by SymPy
(difference simplifies to 0), side conditions are proved. The conclusion shown is the one derived, never a
hand-written one. Rules:

* ``chain``: :math:`a_1 \mathrel{R_1} a_2 \mathrel{R_2} \dots a_n` with each :math:`R_k \in \{=, \le\}` gives
  :math:`a_1 = a_n` (all equalities) or :math:`a_1 \le a_n`.
* ``squeeze``: :math:`L \le F`, :math:`F \le U` (for every value of the limit variable) and
  :math:`\lim L = \lim U = c` give :math:`\lim F = c`.
* ``monotone``: :math:`h` nondecreasing on :math:`[x_0, \infty)`, :math:`a \le b` and :math:`x_0 \le a` give
  :math:`h(a) \le h(b)` (nonincreasing: :math:`h(b) \le h(a)`).
* ``termwise``: :math:`f(i) \le g(i)` for :math:`a \le i \le b` gives
  :math:`\sum_{i=a}^{b} f(i) \le \sum_{i=a}^{b} g(i)` (conventional sums: an empty range gives 0 ≤ 0).
* ``max_le``: :math:`f(i) \le X` for :math:`a \le i \le b` and :math:`X \ge 0` give :math:`\max_{i=a}^{b} f(i) \le X`
  (:class:`~derive.sums.RangeMax` includes 0).

A ``conclude`` without a rule is an argument, not a proof: its status is ``argued``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from . import kernel
from .sums import RangeMax

__all__ = ["Statement", "InferenceError", "derive", "RULES"]


class InferenceError(ValueError):
    """The premises do not fit the rule."""


@dataclass(frozen=True)
class Statement:
    """What a step proved. ``relation``: ``"="``, ``"<="``, ``"limit"`` (``lhs`` → ``rhs`` as ``var`` → ``point``),
    ``"monotone"`` (``lhs`` in ``var`` on [``point``, ∞), ``direction`` nondecreasing/nonincreasing), or another
    kind recorded for the report only (``"closed form"``, ``"equivalence"``, …). ``within``: index ranges
    ``((i, a, b), …)`` under which it holds."""

    relation: str
    lhs: object = None
    rhs: object = None
    var: object = None
    point: object = None
    direction: str = ""
    within: tuple = ()

    def latex(self, tex) -> str:
        where = "".join(f",\\ {tex(a)} \\le {tex(i)} \\le {tex(b)}" for i, a, b in self.within)
        where = f"\\quad({where[3:]})" if where else ""
        if self.relation in ("=", "<="):
            op = "=" if self.relation == "=" else "\\le"
            return f"{tex(self.lhs)} {op} {tex(self.rhs)}{where}"
        if self.relation == "limit":
            return f"\\lim_{{{tex(self.var)} \\to {tex(self.point)}}} {tex(self.lhs)} = {tex(self.rhs)}{where}"
        if self.relation == "monotone":
            return (f"{tex(self.var)} \\mapsto {tex(self.lhs)}\\ \\text{{{self.direction} on }} "
                    f"[{tex(self.point)}, \\infty){where}")
        return f"\\text{{{self.relation}}}"


def _identical(a, b) -> bool:
    from .sums import fresh_indices
    return fresh_indices(a) == fresh_indices(b)


def _same(a, b, domains=None) -> bool:
    """Shown equal by the kernel (defined at the same points and equal there)."""
    a, b = sp.sympify(a), sp.sympify(b)
    return a == b or kernel.prove_equal(a, b, domains or {})


def _nonnegative(expr, within=(), domains=None) -> bool:
    """``expr`` ≥ 0 shown by the kernel, under the index ranges ``within``."""
    hypotheses = [c for i, a, b in within for c in (sp.Ge(i, a), sp.Le(i, b))]
    return kernel.prove_relation("<=", sp.Integer(0), sp.sympify(expr), domains or {}, hypotheses=hypotheses)


def _chain(premises, **_):
    statements = [p.statement for p in premises]
    if len(statements) < 2 or any(s is None or s.relation not in ("=", "<=") for s in statements):
        raise InferenceError("chain needs at least two equations or inequalities")
    ranges = {s.within for s in statements if s.within}  # a premise without hypotheses holds everywhere
    if len(ranges) > 1:
        raise InferenceError("chain: the premises hold under different index ranges")
    within = ranges.pop() if ranges else ()
    flips = [(False, True) if s.relation == "=" else (False,) for s in statements]  # an equation reads both ways
    for link in (_identical, _same):  # an orientation whose sides match literally first
        for orientation in itertools.product(*flips):
            oriented = [(s.rhs, s.lhs) if flip else (s.lhs, s.rhs) for s, flip in zip(statements, orientation)]
            if all(link(left[1], right[0]) for left, right in zip(oriented, oriented[1:])):
                relation = "=" if all(s.relation == "=" for s in statements) else "<="
                return Statement(relation, oriented[0][0], oriented[-1][1], within=within), \
                    f"chain of {len(statements)} (in)equalities"
    raise InferenceError("chain: consecutive premises do not share a side")


def _squeeze(premises, **_):
    statements = [p.statement for p in premises]
    bounds = [s for s in statements if s is not None and s.relation == "<=" and not s.within]
    limits = [s for s in statements if s is not None and s.relation == "limit" and not s.within]
    for same in (_identical, _same):
        for lower in bounds:
            for upper in bounds:
                if lower is upper or not same(lower.rhs, upper.lhs):
                    continue
                f = lower.rhs
                low = [l for l in limits if same(l.lhs, lower.lhs)]
                high = [l for l in limits if same(l.lhs, upper.rhs)]
                for a in low:
                    for b in high:
                        if a.var == b.var and a.point == b.point and _same(a.rhs, b.rhs):
                            return Statement("limit", f, a.rhs, var=a.var, point=a.point), \
                                "squeeze: L ≤ F ≤ U and lim L = lim U"
    raise InferenceError("squeeze needs L ≤ F, F ≤ U and equal limits of L and U at the same point")


def _monotone(premises, **kw):
    statements = [p.statement for p in premises]
    monotone = [s for s in statements if s is not None and s.relation == "monotone"]
    bounds = [s for s in statements if s is not None and s.relation == "<="]
    if len(monotone) != 1 or not bounds:
        raise InferenceError("monotone needs one monotonicity statement and the inequality a ≤ b")
    m = monotone[0]
    bound = bounds[-1]  # a ≤ b
    start_ok = _nonnegative(sp.sympify(bound.lhs) - m.point, bound.within, kw.get("domains")) or any(
        _same(s.lhs, m.point) and _same(s.rhs, bound.lhs) for s in bounds[:-1])
    if not start_ok:
        raise InferenceError(f"monotone: {sp.sstr(bound.lhs)} ≥ {m.point} is not shown")
    h = sp.sympify(m.lhs)
    image = lambda x: h.xreplace({m.var: x})
    lhs, rhs = (image(bound.lhs), image(bound.rhs)) if m.direction == "nondecreasing" else \
        (image(bound.rhs), image(bound.lhs))
    return Statement("<=", lhs, rhs, within=bound.within), f"h {m.direction} on [{m.point}, ∞) applied to a ≤ b"


def _range_premise(premises, over):
    if over is None:
        raise InferenceError("the rule needs over=(index, low, high)")
    index, low, high = over
    statements = [p.statement for p in premises if p.statement is not None and p.statement.relation == "<="]
    for s in statements:
        if s.within == ((index, low, high),):
            return s
    raise InferenceError(f"no premise f({index}) ≤ g({index}) for {low} ≤ {index} ≤ {high}")


def _termwise(premises, over=None, **_):
    s = _range_premise(premises, over)
    index, low, high = over
    return Statement("<=", sp.Sum(s.lhs, (index, low, high)), sp.Sum(s.rhs, (index, low, high))), \
        "termwise: a sum of termwise bounds"


def _max_le(premises, over=None, **_):  # noqa: ANN001
    s = _range_premise(premises, over)
    index, low, high = over
    if index in sp.sympify(s.rhs).free_symbols:
        raise InferenceError("max_le: the bound must not depend on the index")
    if not _nonnegative(s.rhs, (), _.get("domains")):
        raise InferenceError("max_le: the bound is not shown ≥ 0 (the range maximum includes 0)")
    return Statement("<=", RangeMax(s.lhs, (index, low, high)), s.rhs), "max_le: every term ≤ X, X ≥ 0"


RULES = {"chain": _chain, "squeeze": _squeeze, "monotone": _monotone, "termwise": _termwise, "max_le": _max_le}


def derive(rule: str, premises, **kw):
    """Apply ``rule`` to the premises: ``(Statement, detail)`` or :class:`InferenceError`."""
    if rule not in RULES:
        raise InferenceError(f"unknown rule {rule!r} (known: {', '.join(RULES)})")
    return RULES[rule](premises, **kw)
