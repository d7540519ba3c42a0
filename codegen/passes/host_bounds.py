r"""Interval bounds of host (per-step scalar) expressions, to prove signs SymPy's assumptions cannot.

SymPy cannot show :math:`1-\beta^t > 0` from assumptions: :math:`\beta \in [0, 1)` is only partly
expressible (``nonnegative=True``, no upper bound). Here every host input gets an interval from its
domain (hyperparameters: ``spec.hyper(name).domain``; the step :math:`t \in [1, \infty)`; scalar state:
unknown), and intervals with open or closed ends are propagated through sums, products, powers,
reciprocals and square roots:

.. math:: \beta \in [0, 1),\ t \in [1, \infty) \;\Rightarrow\; \beta^t \in [0, 1)
          \;\Rightarrow\; 1 - \beta^t \in (0, 1] \;\Rightarrow\; \frac{1}{1-\beta^t} \in [1, \infty).

Every rule over-approximates (the true range lies inside the computed interval), so a sign read off the
interval is proved; anything the rules do not cover gets the whole real line, i.e. "unknown".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from optiforge.specs.dsl import STEP

from ..ir import KernelIR

__all__ = ["Bound", "UNKNOWN", "bound", "domain_bound", "host_bounds", "sign"]

_oo = sp.oo


@dataclass(frozen=True)
class Bound:
    """The interval from ``lo`` to ``hi`` (SymPy numbers, possibly ±oo); an open end is not attained.
    Infinite ends are always open."""

    lo: sp.Expr
    hi: sp.Expr
    lo_open: bool = False
    hi_open: bool = False

    def __post_init__(self):
        object.__setattr__(self, "lo_open", self.lo_open or self.lo == -_oo)
        object.__setattr__(self, "hi_open", self.hi_open or self.hi == _oo)

    @property
    def is_positive(self) -> bool:
        return bool(self.lo > 0 or (self.lo == 0 and self.lo_open))

    @property
    def is_nonnegative(self) -> bool:
        return bool(self.lo >= 0)


UNKNOWN = Bound(-_oo, _oo)


def _point(value: sp.Expr) -> Bound:
    return Bound(value, value)


def _nearest_double_inside(end: sp.Expr, direction: float) -> sp.Expr | None:
    """The double nearest to the open end ``end`` on the side of ``direction`` (exactly, as a Rational), or
    None where ``end`` is not a real number SymPy can round."""
    try:
        x = float(end)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    inside = sp.Rational(x)
    if (inside <= end) if direction > 0 else (inside >= end):
        inside = sp.Rational(math.nextafter(x, direction))
    return inside


def domain_bound(domain: sp.Set) -> Bound:
    r"""The closed or open hull of a SymPy set (Interval, FiniteSet, Range, unions). A hyperparameter is a
    float64 value, so an open finite end becomes the nearest double inside, a closed end:
    :math:`\beta \in [0, 1)` is :math:`[0, 1 - 2^{-53}]` and :math:`1 - \beta^t \ge 2^{-53}`."""
    if domain.is_empty:
        return UNKNOWN
    lo, hi = domain.inf, domain.sup
    lo_open = bool(lo.is_finite and domain.contains(lo) != sp.true)
    hi_open = bool(hi.is_finite and domain.contains(hi) != sp.true)
    if lo_open and (inside := _nearest_double_inside(lo, math.inf)) is not None:
        lo, lo_open = inside, False
    if hi_open and (inside := _nearest_double_inside(hi, -math.inf)) is not None:
        hi, hi_open = inside, False
    return Bound(lo, hi, lo_open=lo_open, hi_open=hi_open)


def _add(a: Bound, b: Bound) -> Bound:
    return Bound(a.lo + b.lo, a.hi + b.hi, a.lo_open or b.lo_open, a.hi_open or b.hi_open)


def _end_product(x, x_open, y, y_open):
    """One candidate end of a product of intervals, and whether it is not attained. ``0 · ∞`` counts as 0:
    a closed zero end makes 0 attained whatever the other factor is."""
    if x == 0 or y == 0:
        return sp.S.Zero, not ((x == 0 and not x_open) or (y == 0 and not y_open))
    return x * y, x_open or y_open


def _mul(a: Bound, b: Bound) -> Bound:
    ends = [_end_product(x, xo, y, yo) for x, xo in ((a.lo, a.lo_open), (a.hi, a.hi_open))
            for y, yo in ((b.lo, b.lo_open), (b.hi, b.hi_open))]
    lo = min(value for value, _ in ends)
    hi = max(value for value, _ in ends)
    # An end is attained if any candidate reaching it is attained.
    return Bound(lo, hi, all(o for v, o in ends if v == lo), all(o for v, o in ends if v == hi))


def _reciprocal(a: Bound) -> Bound:
    if a.is_positive:
        return Bound(sp.S.Zero if a.hi == _oo else 1 / a.hi, _oo if a.lo == 0 else 1 / a.lo, a.hi_open, a.lo_open)
    if a.hi < 0 or (a.hi == 0 and a.hi_open):
        return _negate(_reciprocal(_negate(a)))
    return UNKNOWN  # the interval contains 0


def _negate(a: Bound) -> Bound:
    return Bound(-a.hi, -a.lo, a.hi_open, a.lo_open)


def _abs(a: Bound) -> Bound:
    if a.is_nonnegative:
        return a
    if a.hi <= 0:
        return _negate(a)
    # 0 is inside: the far end of the larger half is the supremum.
    return Bound(sp.S.Zero, max(-a.lo, a.hi), False, (a.lo_open or -a.lo < a.hi) and (a.hi_open or a.hi < -a.lo))


def _monotone(a: Bound, f) -> Bound:
    """Image of ``a`` under a strictly increasing function ``f`` defined on all of ``a``."""
    return Bound(f(a.lo), f(a.hi), a.lo_open, a.hi_open)


def _end_power(a, e):
    """``a**e`` for interval ends, with :math:`1^\\infty = 1` (SymPy gives nan)."""
    return sp.S.One if a == 1 else a ** e


def _symbolic_power(base: Bound, e: Bound) -> Bound:
    r""":math:`a^e` for :math:`a \ge 0` and an exponent known only by its interval. Ends are marked open
    only where that is certain (a closed end is the weaker claim)."""
    if not e.is_nonnegative:
        return Bound(sp.S.Zero, _oo, True, True) if base.is_positive else UNKNOWN
    if base.hi <= 1:  # increasing in a, decreasing in e (constant if a is 0 or 1)
        if base.lo == 0:
            lo, lo_open = sp.S.Zero, base.lo_open
        else:
            lo = _end_power(base.lo, e.hi)  # 0 when e.hi = oo and base.lo < 1
            lo_open = (e.hi == _oo and base.lo < 1) or (base.lo_open and e.hi > 0) or (e.hi_open and base.lo < 1)
        hi = _end_power(base.hi, e.lo)
        hi_open = (base.hi_open and e.lo > 0) or (e.lo_open and 0 < base.hi < 1)
        return Bound(lo, hi, lo_open, hi_open)
    if base.lo >= 1:  # increasing in both
        return Bound(_end_power(base.lo, e.lo), _end_power(base.hi, e.hi),
                     (base.lo_open and e.lo > 0) or (e.lo_open and base.lo > 1),
                     (base.hi_open and e.hi > 0) or (e.hi_open and base.hi > 1))
    return Bound(sp.S.Zero, _oo, base.lo > 0 or base.lo_open, True)


def _power(base: Bound, exponent: sp.Expr, exponent_bound: Bound) -> Bound:
    if exponent.is_Integer:
        n = int(exponent)
        if n < 0:
            return _reciprocal(_power(base, -exponent, exponent_bound))
        if n == 0:
            return _point(sp.S.One)
        if n % 2 == 0:
            base = _abs(base)
        return _monotone(base, lambda x: x ** n)
    if not base.is_nonnegative:
        return UNKNOWN  # a fractional power of a negative number is not real
    if exponent.is_Rational:
        if exponent < 0:
            return _reciprocal(_power(base, -exponent, exponent_bound))
        return _monotone(base, lambda x: x ** exponent)
    return _symbolic_power(base, exponent_bound)


def bound(expr: sp.Expr, known: dict[sp.Symbol, Bound]) -> Bound:
    """An interval containing every value of ``expr`` when each symbol ranges over ``known``."""
    if expr.is_Number:
        return _point(expr) if expr.is_finite else UNKNOWN
    if isinstance(expr, sp.Symbol):
        return known.get(expr, UNKNOWN)
    if isinstance(expr, sp.Add):
        result = _point(sp.S.Zero)
        for term in expr.args:
            result = _add(result, bound(term, known))
        return result
    if isinstance(expr, sp.Mul):
        result = _point(sp.S.One)
        for factor in expr.args:
            result = _mul(result, bound(factor, known))
        return result
    if isinstance(expr, sp.Pow):
        return _power(bound(expr.base, known), expr.exp, bound(expr.exp, known))
    if isinstance(expr, sp.Abs):
        return _abs(bound(expr.args[0], known))
    if isinstance(expr, (sp.Max, sp.Min)):
        pick = max if isinstance(expr, sp.Max) else min
        bounds = [bound(a, known) for a in expr.args]
        lo, hi = pick(b.lo for b in bounds), pick(b.hi for b in bounds)
        return Bound(lo, hi, all(b.lo_open for b in bounds if b.lo == lo), all(b.hi_open for b in bounds if b.hi == hi))
    if isinstance(expr, sp.exp):
        return _monotone(bound(expr.args[0], known), sp.exp)
    return UNKNOWN


def host_bounds(ir: KernelIR) -> dict[sp.Symbol, Bound]:
    """Bounds of every host input and host symbol of ``ir`` (scalar state is unknown)."""
    known = {STEP: Bound(sp.S.One, _oo)}
    known |= {h.symbol: domain_bound(h.domain) for h in ir.spec.hyperparameters}
    for symbol, expr in ir.host:
        known[symbol] = UNKNOWN if isinstance(expr, sp.logic.boolalg.Boolean) and not expr.is_Symbol \
            else bound(expr, known)
    return known


def sign(expr: sp.Expr, known: dict[sp.Symbol, Bound]) -> str | None:
    """``"positive"``, ``"nonnegative"`` or ``None`` (not proved) for a host expression."""
    b = bound(expr, known)
    return "positive" if b.is_positive else "nonnegative" if b.is_nonnegative else None
