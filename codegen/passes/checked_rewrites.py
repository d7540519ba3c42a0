r"""Side conditions of the passes' rewrites, checked against the spec's declared domains before a rewrite is
applied (in the spirit of Alive's verified peepholes).

A kernel computes the spec's expressions as written, each operation rounded once (README, "What a kernel
computes"). A pass may change the arithmetic only where the new form is

1. **an identity on the whole declared domain**, endpoints, zero, negative bases and non-finite values included:
   :math:`(s\,A)^q = s^q A^q` holds for :math:`s > 0`, but at :math:`s = 0` only for :math:`q > 0` with
   :math:`q` an integer or :math:`A \ge 0` (else :math:`0^q\cdot A^q = 0\cdot\mathrm{NaN}` where
   :math:`(0\cdot A)^q = 0`), and
2. **no new overflow or underflow**: every new intermediate stays in the float range wherever the written
   operands do. Scaling a value by a factor :math:`f` cannot underflow when :math:`|f| \ge 1` and cannot overflow
   when :math:`|f| \le 1`; otherwise the bounds of both must keep the product in the normal float32 range
   (host constants are computed in float64, then cast to the kernel's precision). One tolerance is stated, not
   checked: a factor within :math:`[2^{-32}, 2^{32}]` (:data:`SCALE_HEADROOM`) may scale a host value of any
   range, which then leaves the normal range only within :math:`2^{32}` of where the written value does
   (Adam's :math:`-\eta/(1-\beta_1^t)` times :math:`\sqrt{1-\beta_2^t} \ge 2^{-26.5}`: only for
   :math:`\eta` below :math:`2^{-94}` in float32).

Each rule states its side conditions as :class:`Condition` objects; :class:`Facts` decides them from interval
bounds (:mod:`.host_bounds`: the hyperparameters' domains as float64 values, the step :math:`t \ge 1`) and from
the signs that the operations themselves give (:math:`|x|`, :math:`x^2`, :math:`\sqrt{x}` are
:math:`\ge 0` or NaN, and NaN is NaN on both sides). A condition that is not proved fails, and the rewrite is
not applied.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from optiforge.specs.expression_dag import reads_only

from ..ir import KernelIR
from .host_bounds import Bound, bound, host_bounds

__all__ = ["Facts", "Condition", "Positive", "Nonnegative", "IntegerExponent", "AtMostOne", "RootOrReciprocal",
           "AnyOf", "AllOf", "InFloatRange", "SafeScaling", "holds", "FLOAT_TINY", "FLOAT_HUGE", "SCALE_HEADROOM"]

#: The smallest normal and the largest finite float32 (the narrowest precision a kernel runs in).
FLOAT_TINY = sp.Rational(1, 2 ** 126)
FLOAT_HUGE = (2 - sp.Rational(1, 2 ** 23)) * 2 ** 127
#: A scaling factor within [1/SCALE_HEADROOM, SCALE_HEADROOM] is accepted whatever the range of what it scales.
SCALE_HEADROOM = sp.Integer(2) ** 32


class Facts:
    """What the declared domains prove about the expressions of one IR (host scalars and array expressions)."""

    def __init__(self, ir: KernelIR):
        self.known = host_bounds(ir)
        self.scalars = set(self.known) | set(ir.host_inputs)
        self._scalar: dict = {}

    def is_scalar(self, expr: sp.Basic) -> bool:
        """Reads only hyperparameters, ``t``, scalar state and host symbols."""
        return reads_only(expr, self.scalars, self._scalar)

    def bound(self, expr: sp.Expr) -> Bound:
        """An interval holding every value of ``expr`` (array inputs unbounded)."""
        return bound(expr, self.known)

    def nonnegative(self, expr: sp.Expr) -> bool:
        r"""Whether ``expr`` is :math:`\ge 0` or NaN for every input (NaN on both sides of a rewrite is the same)."""
        if isinstance(expr, sp.Abs) or (expr.is_Pow and expr.exp.is_Rational and expr.exp.q % 2 == 0) or \
                (expr.is_Pow and expr.exp.is_Integer and expr.exp % 2 == 0) or isinstance(expr, sp.exp):
            return True
        if isinstance(expr, sp.Mul):
            return all(self.nonnegative(f) for f in expr.args)
        if isinstance(expr, sp.Add):
            return all(self.nonnegative(f) for f in expr.args)
        if expr.is_Pow and expr.exp.is_Rational:
            return self.nonnegative(expr.base)
        return self.bound(expr).is_nonnegative

    def positive(self, expr: sp.Expr) -> bool:
        """Whether ``expr`` is proved > 0 (host scalars only: an array may be 0)."""
        return self.is_scalar(expr) and self.bound(expr).is_positive


def _magnitude(b: Bound) -> tuple[sp.Expr, sp.Expr]:
    """(inf, sup) of :math:`|x|` over the interval ``b``."""
    if b.lo >= 0:
        return b.lo, b.hi
    if b.hi <= 0:
        return -b.hi, -b.lo
    return sp.S.Zero, max(-b.lo, b.hi)


class Condition:
    """A side condition of a rewrite; :func:`holds` decides it."""

    def check(self, facts: Facts) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Positive(Condition):
    """The host scalar ``expr`` is > 0 on the whole domain."""
    expr: sp.Expr

    def check(self, facts):
        return facts.positive(self.expr)


@dataclass(frozen=True)
class Nonnegative(Condition):
    """``expr`` is >= 0 (or NaN) for every input."""
    expr: sp.Expr

    def check(self, facts):
        return facts.nonnegative(self.expr)


@dataclass(frozen=True)
class IntegerExponent(Condition):
    """``exponent`` is an integer (a power of a negative base is then real)."""
    exponent: sp.Expr

    def check(self, facts):
        return bool(self.exponent.is_Integer)


@dataclass(frozen=True)
class AtMostOne(Condition):
    r"""The host scalar ``expr`` has :math:`|x| \le 1` on the whole domain (a product it joins first cannot
    overflow where the product without it does not)."""
    expr: sp.Expr

    def check(self, facts):
        b = facts.bound(self.expr)
        return bool(b.lo >= -1 and b.hi <= 1)


@dataclass(frozen=True)
class RootOrReciprocal(Condition):
    r"""The exponent ``exponent`` has :math:`|q| \le 1`: a power :math:`A^q` of a finite :math:`A` then overflows
    only as :math:`1/A` does (:math:`|A|^q \le \max(|A|, 1)` for :math:`0 < q \le 1`), where a larger :math:`|q|`
    lets :math:`A^q` overflow although :math:`(s\,A)^q` does not (:math:`s = 10^{-100}`, :math:`A = 10^{150}`,
    :math:`q = 3`)."""
    exponent: sp.Expr

    def check(self, facts):
        return bool(self.exponent.is_Number and abs(self.exponent) <= 1)


@dataclass(frozen=True)
class AnyOf(Condition):
    """At least one of ``conditions`` holds."""
    conditions: tuple

    def check(self, facts):
        return any(holds(c, facts) for c in self.conditions)


@dataclass(frozen=True)
class AllOf(Condition):
    """Every one of ``conditions`` holds."""
    conditions: tuple

    def check(self, facts):
        return all(holds(c, facts) for c in self.conditions)


@dataclass(frozen=True)
class InFloatRange(Condition):
    r"""The new host value ``expr`` is normal and finite in float32 on the whole domain: it replaces part of a
    value the written form computes, so it may neither overflow nor lose precision in the subnormal range."""
    expr: sp.Expr

    def check(self, facts):
        lo, hi = _magnitude(facts.bound(self.expr))
        return bool(lo >= FLOAT_TINY and hi <= FLOAT_HUGE)


@dataclass(frozen=True)
class SafeScaling(Condition):
    r"""A host value ``value`` (which the written form computes) multiplied by a new host factor ``factor``
    overflows or underflows only where ``value`` itself does: :math:`|f| \ge 1` cannot underflow and
    :math:`|f| \le 1` cannot overflow; otherwise the bounds must keep the product normal and finite (or
    :math:`f` lies within :data:`SCALE_HEADROOM`)."""
    value: sp.Expr
    factor: sp.Expr

    def check(self, facts):
        value_lo, value_hi = _magnitude(facts.bound(self.value))
        factor_lo, factor_hi = _magnitude(facts.bound(self.factor))
        if factor_lo >= 1 / SCALE_HEADROOM and factor_hi <= SCALE_HEADROOM:
            return True
        no_underflow = factor_lo >= 1 or value_lo * factor_lo >= FLOAT_TINY
        no_overflow = factor_hi <= 1 or value_hi * factor_hi <= FLOAT_HUGE
        return bool(no_underflow and no_overflow)


def holds(condition: Condition, facts: Facts) -> bool:
    """Whether ``condition`` is proved; anything SymPy cannot compare is not."""
    try:
        return condition.check(facts)
    except TypeError:  # "cannot determine truth value of Relational": not proved
        return False
