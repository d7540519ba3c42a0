r"""An exact oracle for one step of a spec: interval arithmetic at high precision with outward rounding, plus
a per-operation roundoff allowance in the target precision.

**The model** (what a kernel may compute). Each operation of the spec is evaluated once, on the values the
kernel holds, and its exact result :math:`y` may be rounded in the target precision (float64:
:math:`u = 2^{-53}`, float32: :math:`u = 2^{-24}`) with a relative error of :math:`(r + s)\,u`, where
:math:`r` is the number of roundings a legitimate evaluation of the operation needs (an :math:`n`-term sum
or product: :math:`n - 1`, in any order; :math:`x^n`: :math:`|n|`; a library function: 1) and :math:`s` =
:data:`SLACK` units; in the subnormal range by an absolute :math:`\eta` (the smallest subnormal); above the
largest finite number the result may be :math:`\pm\infty`. An :math:`n`-term sum is bounded as recursive
summation in any order is, :math:`|\hat s - s| \le \gamma \sum |x_i|`, so reordering a sum or a product is
legitimate; rewriting :math:`\beta m + (1-\beta) g` as :math:`m + (1-\beta)(g - m)` is not (its error is
relative to :math:`|m|`, not to :math:`|\beta m| + |(1-\beta) g|`). Constants and hyperparameters may be
read rounded to the target precision; the parameter, gradient and state are the kernel's own values.

**Intervals.** Each value is a :class:`Bounds`: an interval of extended reals :math:`[lo, hi]` (computed with
mpmath at :data:`PRECISION` bits, rounded outward) and a flag ``nan`` saying whether the exact value may be
undefined there (a pole, a negative radicand or logarithm argument, :math:`\infty - \infty`, :math:`0 \cdot
\infty`, an input NaN). A condition is the set of truth values it may take. An undecided condition of a
``Piecewise`` takes the union (hull) of the arms it may select; ``floor``, ``ceiling``, ``Mod``, ``sign``
and ``Heaviside`` of an interval across a jump take the hull of both sides.

**Verdict** (:func:`verdict`): where the spec defines no value (the bounds are NaN alone: a Piecewise without
an applicable branch, then multiplied by a zero that a pass folded), anything goes (NaN positions are compared
across backends instead); elsewhere a finite kernel value must lie in ``[lo, hi]``; ``±inf`` needs ``hi = +inf``
(``lo = -inf``), which happens only where the exact value may exceed the target's range or be a pole; NaN
needs ``nan``. So NaN or inf where the exact value is finite and bounded is a failure
(``nan_where_finite``), as is any finite value outside the interval (``wrong``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import numpy as np
import sympy as sp
from mpmath import fadd, fdiv, fmul, fsub, mp, mpf
from sympy.functions.elementary.piecewise import ExprCondPair

from optiforge.specs.dsl import GRAD, PARAM, STEP, deferred_init
from optiforge.specs.expression_dag import distinct_nodes

__all__ = ["Target", "FLOAT64", "FLOAT32", "TARGETS", "Bounds", "evaluate", "step_bounds", "init_bounds",
           "verdict", "SLACK", "PRECISION"]

#: Working precision of the interval endpoints, in bits.
PRECISION = 256
#: Units of roundoff allowed per operation beyond the roundings it needs ("a few units").
SLACK = 2
_WIDEN = mpf(2) ** (16 - PRECISION)  # relative widening of a library function's value at PRECISION bits
INF = mpf("inf")
ZERO, ONE = mpf(0), mpf(1)


@dataclass(frozen=True)
class Target:
    """A floating-point format: unit roundoff, largest finite, smallest normal and subnormal, digits."""

    name: str
    u: mpf
    largest: mpf
    tiny: mpf
    eta: mpf
    digits: int
    dtype: type


FLOAT64 = Target("float64", mpf(2) ** -53, mpf(np.finfo(np.float64).max), mpf(2) ** -1022, mpf(2) ** -1074, 53,
                 np.float64)
FLOAT32 = Target("float32", mpf(2) ** -24, mpf(float(np.finfo(np.float32).max)), mpf(2) ** -126, mpf(2) ** -149,
                 24, np.float32)
TARGETS = {"float64": FLOAT64, "float32": FLOAT32}


@dataclass(frozen=True)
class Bounds:
    """Possible values: the extended reals in ``[lo, hi]`` (none when ``lo > hi``), and NaN when ``nan``."""

    lo: mpf
    hi: mpf
    nan: bool = False

    @property
    def empty(self) -> bool:
        return self.lo > self.hi

    @property
    def point(self) -> bool:
        return self.lo == self.hi

    def may_be_zero(self) -> bool:
        return self.lo <= 0 <= self.hi

    def may_be_infinite(self) -> bool:
        return not self.empty and (self.lo == -INF or self.hi == INF)

    def __repr__(self):
        return f"[{mp.nstr(self.lo, 17)}, {mp.nstr(self.hi, 17)}]{' ∪ NaN' if self.nan else ''}"


NAN_ONLY = Bounds(INF, -INF, True)
EVERYTHING = Bounds(-INF, INF, True)


def point(x) -> Bounds:
    return Bounds(x, x)


def hull(*parts: Bounds) -> Bounds:
    parts_with_values = [p for p in parts if not p.empty]
    nan = any(p.nan for p in parts)
    if not parts_with_values:
        return Bounds(INF, -INF, nan)
    return Bounds(min(p.lo for p in parts_with_values), max(p.hi for p in parts_with_values), nan)


# --- directed arithmetic on endpoints ----------------------------------------------------------------------
def _down(f, a, b):
    return f(a, b, prec=PRECISION, rounding="f")


def _up(f, a, b):
    return f(a, b, prec=PRECISION, rounding="c")


def _times(a, b, up: bool):
    """a·b rounded outward, with 0·∞ = 0 (the hull of a product of extended intervals)."""
    if a == 0 or b == 0:
        return ZERO
    return (_up if up else _down)(fmul, a, b)


def _scaled_away(x, gamma, up: bool):
    """x ± γ|x| (the end moved outward by a relative γ)."""
    if x == 0 or not mp.isfinite(x):
        return x
    delta = _up(fmul, abs(x), gamma)
    return _up(fadd, x, delta) if up else _down(fsub, x, delta)


def _library(f, x, up: bool):
    """f(x) at PRECISION bits, moved outward by a few units of that precision."""
    if not mp.isfinite(x):
        return f(x)
    with mp.workprec(PRECISION + 20):
        y = f(x)
    return _scaled_away(y, _WIDEN, up)


def _as_fraction(x: mpf) -> Fraction:
    negative, man, exp, _ = x._mpf_
    value = Fraction(man) * (Fraction(2) ** exp)
    return -value if negative else value


def _representable(x: mpf, target: Target) -> bool:
    if not mp.isfinite(x):
        return True
    if abs(x) > target.largest:
        return False
    with mp.workprec(PRECISION):
        return mpf(float(target.dtype(float(x)))) == x and float(target.dtype(float(x))) == float(x)


def rounded(b: Bounds, roundings: int, target: Target, *, exact_point: bool = False, absolute=None) -> Bounds:
    """``b`` after an operation's rounding in ``target``: relative :math:`(r + s)u`, absolute :math:`\\eta`
    (or ``absolute``) near zero, ±∞ beyond the largest finite value. A point that ``target`` represents
    stays a point when ``exact_point`` (one correctly rounded operation of exact operands)."""
    if b.empty:
        return b
    if exact_point and b.point and _representable(b.lo, target):
        return b
    gamma = (roundings + SLACK) * target.u
    eta = target.eta * (roundings + SLACK) if absolute is None else absolute
    lo, hi = _scaled_away(b.lo, gamma, False), _scaled_away(b.hi, gamma, True)
    if mp.isfinite(lo) and b.lo != 0:
        lo = _down(fsub, lo, eta)
    if mp.isfinite(hi) and b.hi != 0:
        hi = _up(fadd, hi, eta)
    if hi > target.largest:
        hi = INF
        lo = min(lo, target.largest)
    if lo < -target.largest:
        lo = -INF
        hi = max(hi, -target.largest)
    return Bounds(lo, hi, b.nan)


# --- operations ---------------------------------------------------------------------------------------------
def add(terms: list[Bounds], target: Target) -> Bounds:
    """An n-term sum in any order: each end Σ(x_i ∓ γ|x_i|), γ = (n − 1 + s)u; partial sums beyond the range
    may overflow (±∞, and NaN when both signs can)."""
    nan = any(t.nan for t in terms)
    if any(t.empty for t in terms):
        return Bounds(INF, -INF, True)
    n = len(terms)
    gamma = (n - 1 + SLACK) * target.u
    nan |= any(t.hi == INF and any(o.lo == -INF for j, o in enumerate(terms) if j != i) for i, t in enumerate(terms))
    if all(t.point and mp.isfinite(t.lo) and mp.isint(t.lo) for t in terms) and \
            sum(abs(t.lo) for t in terms) < 2 ** target.digits:
        total = sum((t.lo for t in terms), ZERO)
        return Bounds(total, total, nan)

    def total(ends, up):
        if any(e == (INF if up else -INF) for e in ends):
            return INF if up else -INF
        if any(e == (-INF if up else INF) for e in ends):
            return -INF if up else INF
        s = ZERO
        for e in ends:
            s = (_up if up else _down)(fadd, s, _scaled_away(e, gamma, up))
        return s
    lo, hi = total([t.lo for t in terms], False), total([t.hi for t in terms], True)
    positive = sum((max(t.hi, ZERO) for t in terms), ZERO)
    negative = sum((min(t.lo, ZERO) for t in terms), ZERO)
    overflow_up = positive * (1 + gamma) > target.largest
    overflow_down = negative * (1 + gamma) < -target.largest
    lo = _down(fsub, lo, target.eta * n) if mp.isfinite(lo) else lo
    hi = _up(fadd, hi, target.eta * n) if mp.isfinite(hi) else hi
    if overflow_up:
        hi = INF
    if overflow_down:
        lo = -INF
    nan |= overflow_up and overflow_down
    return rounded(Bounds(lo, hi, nan), 0, target, absolute=ZERO) if not (overflow_up or overflow_down) else \
        Bounds(lo if lo >= -target.largest else -INF, hi if hi <= target.largest else INF, nan)


def _product(a: Bounds, b: Bounds) -> Bounds:
    corners_lo = [_times(x, y, False) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    corners_hi = [_times(x, y, True) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return Bounds(min(corners_lo), max(corners_hi), a.nan or b.nan)


def multiply(factors: list[Bounds], target: Target) -> Bounds:
    """An n-factor product in any order: relative (n − 1 + s)u; a partial product that can leave the range
    (the product of the factors' largest magnitudes above 1 beyond it, or of their smallest below 1 under the
    smallest normal) makes the result ±∞/NaN or adds an absolute error."""
    if any(f.empty for f in factors):
        return Bounds(INF, -INF, True)
    nan = any(f.nan for f in factors)
    nan |= any(f.may_be_infinite() and any(o.may_be_zero() for j, o in enumerate(factors) if j != i)
               for i, f in enumerate(factors))
    result = factors[0]
    for f in factors[1:]:
        result = _product(result, f)
    result = Bounds(result.lo, result.hi, nan)
    if len(factors) == 1:
        return result
    magnitudes = [max(abs(f.lo), abs(f.hi)) for f in factors]
    exact = all(f.point and mp.isfinite(f.lo) and mp.isint(f.lo) for f in factors) and \
        math.prod([max(m, ONE) for m in magnitudes], start=ONE) < 2 ** target.digits
    if exact:  # small integers: every partial product is exact
        return result
    smallest = [ZERO if f.may_be_zero() else min(abs(f.lo), abs(f.hi)) for f in factors]
    big = math.prod([max(m, ONE) for m in magnitudes], start=ONE)
    small = math.prod([min(m, ONE) for m in smallest], start=ONE)
    n = len(factors)
    result = rounded(result, n - 1, target, exact_point=n == 2)
    if big > target.largest and n > 2:
        lo, hi = result.lo, result.hi
        hi = INF if hi > 0 or not result.point else hi
        lo = -INF if lo < 0 or not result.point else lo
        return Bounds(lo if result.lo < 0 else result.lo, hi if result.hi > 0 else result.hi,
                      result.nan or any(f.may_be_zero() for f in factors))
    if small < target.tiny and n > 2 and 0 < small:
        extra = target.eta * n * big
        return Bounds(_down(fsub, result.lo, extra) if mp.isfinite(result.lo) else result.lo,
                      _up(fadd, result.hi, extra) if mp.isfinite(result.hi) else result.hi, result.nan)
    return result


def _power_point_exponent(x: Bounds, y: mpf, target: Target) -> Bounds:
    """x**y for a point exponent y."""
    if y == 0:
        return point(ONE)  # IEEE pow(x, 0) = 1, NaN included
    if x.empty:
        return Bounds(INF, -INF, True)
    nan = x.nan
    integer = mp.isint(y)
    if integer:
        n = int(y)
        roundings = min(abs(n), 64)
        if n > 0:
            ends = [_power_end(e, y, up) for e in (x.lo, x.hi) for up in (False, True)]
            lo, hi = min(ends), max(ends)
            if n % 2 == 0 and x.may_be_zero():
                lo = ZERO
            return rounded(Bounds(lo, hi, nan), roundings, target, exact_point=True)
        positive = _power_point_exponent(x, -y, target)  # x^|n|, then its reciprocal
        return reciprocal(positive, target, roundings=1)
    # non-integer exponent: defined for x >= 0 only
    if x.hi < 0:
        return Bounds(INF, -INF, True)
    if x.lo < 0:
        nan, x = True, Bounds(ZERO, x.hi, nan)
    if y < 0 and x.lo == 0:
        nan = True  # a pole at 0
    ends = [_power_end(e, y, up) for e in (x.lo, x.hi) for up in (False, True)]
    return rounded(Bounds(min(ends), max(ends), nan), 1 if y == mpf(0.5) else 3, target,
                   exact_point=y == mpf(0.5))


def _power_end(x: mpf, y: mpf, up: bool) -> mpf:
    """x**y for x ≥ 0 (or an integer y), extended: 0**(y<0) = ∞, ∞**(y<0) = 0."""
    if x == 0:
        return INF if y < 0 else ZERO
    if not mp.isfinite(x):
        if y < 0:
            return ZERO
        return INF if x > 0 or int(y) % 2 == 0 else -INF
    if mp.isint(y) and abs(y) < 2 ** 20:
        with mp.workprec(PRECISION + 64):
            value = mp.power(x, int(y))
    else:
        with mp.workprec(PRECISION + 20):
            value = mp.power(x, y)
    return _scaled_away(value, _WIDEN, up)


def reciprocal(x: Bounds, target: Target, roundings: int = 1) -> Bounds:
    if x.empty:
        return x
    if x.may_be_zero():  # a pole: ±∞ (the sign of a zero decides) and undefined
        return Bounds(-INF, INF, True)
    lo = ZERO if x.hi == INF or x.hi == -INF else _down(fdiv, ONE, x.hi)
    hi = ZERO if x.lo == INF or x.lo == -INF else _up(fdiv, ONE, x.lo)
    if x.hi == INF:
        lo = ZERO
    if x.lo == -INF:
        hi = ZERO
    return rounded(Bounds(lo, hi, x.nan), roundings, target, exact_point=True)


def power(x: Bounds, y: Bounds, target: Target) -> Bounds:
    if y.point and not y.nan and mp.isfinite(y.lo):
        return _power_point_exponent(x, y.lo, target)
    extra = []
    if y.nan and (x.empty or x.lo <= 1 <= x.hi):
        extra.append(point(ONE))  # pow(1, NaN) = 1
    if x.nan and y.may_be_zero():
        extra.append(point(ONE))  # pow(NaN, 0) = 1
    if x.empty or y.empty:
        return hull(Bounds(INF, -INF, True), *extra)
    if x.lo < 0:
        return EVERYTHING
    nan = x.nan or y.nan or (x.lo == 0 and y.lo < 0) or (x.may_be_infinite() and y.may_be_zero())
    ends = []
    for a, b in product((x.lo, x.hi), (y.lo, y.hi)):
        for up in (False, True):
            if a == 1 or b == 0:
                ends.append(ONE)
            elif not mp.isfinite(b):
                ends.append((INF if (a > 1) == (b > 0) else ZERO))
            else:
                ends.append(_power_end(a, b, up))
    if x.lo < 1 < x.hi and y.lo < 0 < y.hi:
        ends.append(ONE)
    return hull(rounded(Bounds(min(ends), max(ends), nan), 3, target), *extra)


def monotone(f, x: Bounds, target: Target, *, increasing=True, at_zero_exact=False) -> Bounds:
    if x.empty:
        return x
    lo, hi = (_library(f, x.lo, False), _library(f, x.hi, True)) if increasing else \
        (_library(f, x.hi, False), _library(f, x.lo, True))
    exact = at_zero_exact and x.point and x.lo == 0
    return rounded(Bounds(lo, hi, x.nan), 1, target, exact_point=exact)


def log(x: Bounds, target: Target) -> Bounds:
    if x.empty:
        return x
    if x.hi < 0:
        return Bounds(INF, -INF, True)
    nan = x.nan or x.lo <= 0
    lo = -INF if x.lo <= 0 else _library(mp.log, x.lo, False)
    hi = -INF if x.hi == 0 else _library(mp.log, x.hi, True)
    if x.point and x.lo == 1:
        return Bounds(ZERO, ZERO, x.nan)
    return rounded(Bounds(lo, hi, nan), 1, target)


def tanh(x: Bounds, target: Target) -> Bounds:
    def f(v):
        return mp.tanh(v) if mp.isfinite(v) else (ONE if v > 0 else -ONE)
    if x.empty:
        return x
    lo, hi = _library(f, x.lo, False), _library(f, x.hi, True)
    b = rounded(Bounds(lo, hi, x.nan), 1, target, exact_point=x.point and x.lo == 0)
    return Bounds(max(b.lo, -ONE), min(b.hi, ONE), b.nan)


def exp(x: Bounds, target: Target) -> Bounds:
    def f(v):
        return mp.exp(v) if mp.isfinite(v) else (INF if v > 0 else ZERO)
    if x.empty:
        return x
    b = monotone(f, x, target)
    return Bounds(max(b.lo, ZERO), b.hi, b.nan)


#: Roundings allowed for the trigonometric and hyperbolic functions, ``log1p`` and ``expm1``: NumPy's SIMD
#: float32 versions are accurate to a few ulp, not correctly rounded.
ELEMENTARY_ROUNDINGS = 4


def _on_domain(f, x: Bounds, target: Target, start, end, *, increasing=True) -> Bounds:
    """A function monotone on its domain ``[start, end]`` (NaN outside it); ``f`` gives its values at the ends,
    infinite ones included."""
    if x.empty:
        return x
    nan = x.nan or x.lo < start or x.hi > end
    lo, hi = max(x.lo, start), min(x.hi, end)
    if lo > hi:
        return Bounds(INF, -INF, True)
    low, high = (_library(f, lo, False), _library(f, hi, True)) if increasing else \
        (_library(f, hi, False), _library(f, lo, True))
    return rounded(Bounds(low, high, nan), ELEMENTARY_ROUNDINGS, target,
                   exact_point=lo == hi == 0 and f(ZERO) == 0)


def _limits(f, at_minus_inf, at_plus_inf):
    """``f`` with its limits at ±∞ (and at a finite end where mpmath would go complex)."""
    def g(v, _f=f):
        if v == INF:
            return at_plus_inf
        if v == -INF:
            return at_minus_inf
        return _f(v)
    return g


def _cosh(x: Bounds, target: Target) -> Bounds:
    """Even: decreasing on (−∞, 0], increasing on [0, ∞)."""
    if x.empty:
        return x
    parts = []
    if x.lo < 0:
        parts.append(_on_domain(mp.cosh, x, target, -INF, ZERO, increasing=False))
    if x.hi >= 0:
        parts.append(_on_domain(mp.cosh, x, target, ZERO, INF))
    part = hull(*parts)
    return Bounds(max(part.lo, ONE), part.hi, x.nan)


def _pi_multiples(lo, hi, offset) -> tuple[int, int]:
    """The integers k with lo ≤ offset + kπ ≤ hi (lo, hi finite), as a range (first, last)."""
    bits = PRECISION + 20 + max(0, int(mp.mag(max(abs(lo), abs(hi), ONE))))
    with mp.workprec(bits):
        return int(mp.ceil((lo - offset) / mp.pi)), int(mp.floor((hi - offset) / mp.pi))


def _periodic(f, x: Bounds, target: Target, half_pi_offset: bool) -> Bounds:
    r"""``sin`` (extremes :math:`(-1)^k` at :math:`\pi/2 + k\pi`, ``half_pi_offset``) or ``cos`` (at
    :math:`k\pi`); NaN at ±∞."""
    if x.empty:
        return x
    nan = x.nan or not mp.isfinite(x.lo) or not mp.isfinite(x.hi)
    if not (mp.isfinite(x.lo) and mp.isfinite(x.hi)) or x.hi - x.lo >= 7:  # an infinite end, or a whole period
        return Bounds(-ONE, ONE, nan)
    with mp.workprec(PRECISION + 20):
        offset = mp.pi / 2 if half_pi_offset else ZERO
    first, last = _pi_multiples(x.lo, x.hi, offset)
    extremes = [ONE if k % 2 == 0 else -ONE for k in range(first, last + 1)]
    ends = (_library(f, x.lo, False), _library(f, x.lo, True), _library(f, x.hi, False), _library(f, x.hi, True))
    b = rounded(Bounds(min(ends + tuple(extremes)), max(ends + tuple(extremes)), nan), ELEMENTARY_ROUNDINGS,
                target, exact_point=x.point and x.lo == 0 and f(ZERO) == 0)
    return Bounds(max(b.lo, -ONE), min(b.hi, ONE), b.nan)


def _tan(x: Bounds, target: Target) -> Bounds:
    """Increasing between its poles at π/2 + kπ; every value across a pole; NaN at ±∞."""
    if x.empty:
        return x
    if not (mp.isfinite(x.lo) and mp.isfinite(x.hi)) or x.hi - x.lo >= 4:
        return Bounds(-INF, INF, True)
    with mp.workprec(PRECISION + 20):
        offset = mp.pi / 2
    first, last = _pi_multiples(x.lo, x.hi, offset)
    if first <= last:
        return Bounds(-INF, INF, x.nan)
    return _on_domain(mp.tan, x, target, x.lo, x.hi)


#: SymPy function → its oracle (by the function's name, so this module need not import codegen's classes).
ELEMENTARY = {
    "sin": lambda x, target: _periodic(mp.sin, x, target, True),
    "cos": lambda x, target: _periodic(mp.cos, x, target, False),
    "tan": _tan,
    "asin": lambda x, target: _on_domain(mp.asin, x, target, -ONE, ONE),
    "acos": lambda x, target: _on_domain(mp.acos, x, target, -ONE, ONE, increasing=False),
    "atan": lambda x, target: _on_domain(mp.atan, x, target, -INF, INF),
    "sinh": lambda x, target: _on_domain(mp.sinh, x, target, -INF, INF),
    "cosh": _cosh,
    "asinh": lambda x, target: _on_domain(mp.asinh, x, target, -INF, INF),
    "acosh": lambda x, target: _on_domain(_limits(mp.acosh, INF, INF), x, target, ONE, INF),
    "atanh": lambda x, target: _on_domain(
        lambda v: -INF if v == -1 else INF if v == 1 else mp.atanh(v), x, target, -ONE, ONE),
    "log1p": lambda x, target: _on_domain(
        lambda v: -INF if v == -1 else mp.log1p(v), x, target, -ONE, INF),
    "expm1": lambda x, target: _on_domain(_limits(mp.expm1, -ONE, INF), x, target, -INF, INF),
}


def absolute(x: Bounds) -> Bounds:
    if x.empty:
        return x
    if x.lo >= 0:
        return x
    if x.hi <= 0:
        return Bounds(-x.hi, -x.lo, x.nan)
    return Bounds(ZERO, max(-x.lo, x.hi), x.nan)


def sign(x: Bounds) -> Bounds:
    values = set()
    if not x.empty:
        if x.hi > 0:
            values.add(1)
        if x.lo < 0:
            values.add(-1)
        if x.may_be_zero():
            values.add(0)
    if x.nan:  # NaN, or whatever a comparison-based sign makes of it
        values |= {-1, 0, 1}
    if not values:
        return Bounds(INF, -INF, x.nan)
    return Bounds(mpf(min(values)), mpf(max(values)), x.nan)


def _rounding_function(f, x: Bounds) -> Bounds:
    if x.empty:
        return x
    return Bounds(f(x.lo) if mp.isfinite(x.lo) else x.lo, f(x.hi) if mp.isfinite(x.hi) else x.hi, x.nan)


def extremum(args: list[Bounds], largest: bool) -> Bounds:
    """Max/Min; an argument that may be NaN may also be skipped (C's fmax) or propagate (NumPy's maximum)."""
    pick = max if largest else min

    def of(chosen):
        parts = [a for a in chosen if not a.empty]
        if len(parts) < len(chosen):
            return None
        return Bounds(pick(a.lo for a in parts), pick(a.hi for a in parts))
    maybe_nan = [i for i, a in enumerate(args) if a.nan]
    results = []
    for drop in product((False, True), repeat=len(maybe_nan)):
        dropped = {i for i, d in zip(maybe_nan, drop) if d}
        chosen = [a for i, a in enumerate(args) if i not in dropped]
        if chosen:
            value = of(chosen)
            if value is not None:
                results.append(value)
    nan = bool(maybe_nan)
    return hull(*results, Bounds(INF, -INF, nan))


def modulo(a: Bounds, b: Bounds, target: Target) -> Bounds:
    """SymPy's (and NumPy's) Mod: a − b·floor(a/b), the sign of b."""
    if a.empty or b.empty:
        return Bounds(INF, -INF, True)
    nan = a.nan or b.nan
    span = Bounds(min(b.lo, ZERO), max(b.hi, ZERO), True)
    if b.may_be_zero() or a.may_be_infinite() or b.may_be_infinite():
        return Bounds(span.lo, span.hi, True)
    if a.point and b.point:
        fa, fb = _as_fraction(a.lo), _as_fraction(b.lo)
        r = fa - fb * math.floor(fa / fb)
        lo = fdiv(r.numerator, r.denominator, prec=PRECISION, rounding="f")
        hi = fdiv(r.numerator, r.denominator, prec=PRECISION, rounding="c")
        return rounded(Bounds(lo, hi, nan), 1, target, exact_point=True)
    quotient = _product(a, reciprocal_exact(b))
    k_lo, k_hi = mp.floor(quotient.lo), mp.floor(quotient.hi)
    if k_lo == k_hi:
        shifted = add_exact(a, _product(b, point(-k_lo)))
        return rounded(Bounds(shifted.lo, shifted.hi, nan), 2, target)
    whole = Bounds(ZERO, b.hi, nan) if b.lo > 0 else Bounds(b.lo, ZERO, nan)
    return rounded(whole, 2, target)


def reciprocal_exact(x: Bounds) -> Bounds:
    return Bounds(_down(fdiv, ONE, x.hi), _up(fdiv, ONE, x.lo), x.nan)


def add_exact(a: Bounds, b: Bounds) -> Bounds:
    return Bounds(_down(fadd, a.lo, b.lo), _up(fadd, a.hi, b.hi), a.nan or b.nan)


def heaviside(x: Bounds, at_zero: Bounds) -> Bounds:
    parts = []
    if not x.empty:
        if x.hi > 0:
            parts.append(point(ONE))
        if x.lo < 0:
            parts.append(point(ZERO))
        if x.may_be_zero():
            parts.append(at_zero)
    if x.nan:
        parts += [point(ZERO), point(ONE), at_zero]
    return hull(*parts, Bounds(INF, -INF, x.nan))


# --- conditions: the set of truth values a condition may take ----------------------------------------------
TRUE, FALSE, EITHER = frozenset({True}), frozenset({False}), frozenset({True, False})


def _compare(kind, a: Bounds, b: Bounds) -> frozenset:
    values = set()
    if a.nan or b.nan:  # an IEEE comparison with NaN is false (≠: true)
        values.add(kind is sp.Unequality)
    if a.empty or b.empty:
        return frozenset(values)
    if kind in (sp.StrictGreaterThan, sp.GreaterThan):
        a, b, kind = b, a, (sp.StrictLessThan if kind is sp.StrictGreaterThan else sp.LessThan)
    if kind is sp.StrictLessThan:
        if a.hi < b.lo:
            values.add(True)
        elif a.lo >= b.hi:
            values.add(False)
        else:
            values |= {True, False}
    elif kind is sp.LessThan:
        if a.hi <= b.lo:
            values.add(True)
        elif a.lo > b.hi:
            values.add(False)
        else:
            values |= {True, False}
    else:
        equal = set()
        if a.point and b.point and a.lo == b.lo:
            equal.add(True)
        elif a.hi < b.lo or b.hi < a.lo:
            equal.add(False)
        else:
            equal |= {True, False}
        values |= equal if kind is sp.Equality else {not e for e in equal}
    return frozenset(values)


def _logic(kind, args: list[frozenset]) -> frozenset:
    functions = {sp.And: all, sp.Or: any, sp.Xor: lambda v: sum(v) % 2 == 1,
                 sp.Not: lambda v: not v[0], sp.Implies: lambda v: (not v[0]) or v[1],
                 sp.Equivalent: lambda v: all(x == v[0] for x in v)}
    if kind is sp.ITE:
        c, a, b = args
        return frozenset((a if True in c else frozenset()) | (b if False in c else frozenset()))
    f = functions[kind]
    return frozenset(bool(f(list(choice))) for choice in product(*args))


# --- evaluation --------------------------------------------------------------------------------------------
_RELATIONS = (sp.StrictGreaterThan, sp.GreaterThan, sp.StrictLessThan, sp.LessThan, sp.Equality, sp.Unequality)
_LOGIC = (sp.And, sp.Or, sp.Xor, sp.Not, sp.Implies, sp.Equivalent, sp.ITE)


@functools.lru_cache(maxsize=4096)
def constant(node: sp.Basic, target: Target) -> Bounds:
    """A number of the spec, exact, then possibly read rounded to ``target``."""
    if node.is_Integer:
        value = int(node)
        if abs(value) < 2 ** PRECISION:
            exact = point(mpf(value))
        else:
            with mp.workprec(PRECISION + 20):
                near = mpf(value)
            exact = Bounds(_scaled_away(near, _WIDEN, False), _scaled_away(near, _WIDEN, True))
    elif node.is_Rational:
        p, q = int(node.p), int(node.q)
        exact = Bounds(fdiv(p, q, prec=PRECISION, rounding="f"), fdiv(p, q, prec=PRECISION, rounding="c"))
    elif node.is_Float:
        exact = point(mpf(node._mpf_))
    else:  # pi, E, ...
        text = sp.N(node, PRECISION // 3 + 10)
        with mp.workprec(PRECISION + 20):
            value = mpf(text._mpf_)
        exact = Bounds(_scaled_away(value, _WIDEN, False), _scaled_away(value, _WIDEN, True))
    return leaf(exact, target)


def leaf(exact: Bounds, target: Target) -> Bounds:
    """A constant or hyperparameter as a kernel may read it: exact, or rounded to ``target``."""
    if exact.point and _representable(exact.lo, target):
        return exact
    return hull(exact, rounded(exact, 0, target))


def value_of(x) -> Bounds:
    """A value the kernel holds (a float of the target type, or a Python/NumPy number): exact."""
    x = float(x)
    if math.isnan(x):
        return NAN_ONLY
    return point(mpf(x))


@functools.lru_cache(maxsize=4096)
def _program(expr: sp.Basic, arrays: frozenset) -> tuple:
    """(node, reads no array symbol) for the distinct nodes of ``expr``, children first."""
    reads_array: dict = {}
    program = []
    for node in distinct_nodes(expr):
        reads_array[node] = node in arrays or any(reads_array[a] for a in node.args)
        if not isinstance(node, ExprCondPair):
            program.append((node, not reads_array[node]))
    return tuple(program)


def evaluate(expr: sp.Basic, env: dict, target: Target, memo: dict | None = None, *, shared: dict | None = None,
             arrays: frozenset = frozenset()):
    """Bounds of ``expr`` (a frozenset of truth values for a condition) with symbols from ``env``. Nodes that
    read none of ``arrays`` are taken from and stored in ``shared`` when given (the same for every element)."""
    memo = {} if memo is None else memo
    for node, scalar in _program(expr, arrays):
        if node in memo:
            continue
        if shared is not None and scalar:
            if node not in shared:
                shared[node] = _node(node, memo, env, target)
            memo[node] = shared[node]
        else:
            memo[node] = _node(node, memo, env, target)
    return memo[expr]


def _node(node, memo, env, target):
    if isinstance(node, sp.Symbol):
        return env[node]
    if isinstance(node, sp.logic.boolalg.BooleanAtom):
        return TRUE if bool(node) else FALSE
    if node.is_Number or isinstance(node, sp.NumberSymbol):
        return constant(node, target)
    kind = type(node)
    if kind is sp.Piecewise:
        parts, reachable = [], True
        for pair in node.args:
            condition = memo[pair.cond]
            if True in condition:
                parts.append(memo[pair.expr])
            if False not in condition:
                reachable = False
                break
        if reachable:  # no branch applies: NaN
            parts.append(NAN_ONLY)
        return hull(*parts)
    args = [memo[a] for a in node.args]
    if kind in _RELATIONS:
        return _compare(kind, *args)
    if kind in _LOGIC:
        return _logic(kind, args)
    if kind is sp.Add:
        return add(args, target)
    if kind is sp.Mul:
        return multiply(args, target)
    if kind is sp.Pow:
        return power(args[0], args[1], target)
    if kind is sp.exp:
        return exp(args[0], target)
    if kind is sp.log:
        return log(args[0], target)
    if kind is sp.tanh:
        return tanh(args[0], target)
    if kind.__name__ in ELEMENTARY and len(args) == 1:
        return ELEMENTARY[kind.__name__](args[0], target)
    if kind is sp.Abs:
        return absolute(args[0])
    if kind is sp.sign:
        return sign(args[0])
    if kind is sp.floor:
        return _rounding_function(mp.floor, args[0])
    if kind is sp.ceiling:
        return _rounding_function(mp.ceil, args[0])
    if kind in (sp.Max, sp.Min):
        return extremum(args, kind is sp.Max)
    if kind is sp.Mod:
        return modulo(*args, target)
    if kind is sp.Heaviside:
        return heaviside(args[0], args[1] if len(args) > 1 else point(mpf(0.5)))
    raise TypeError(f"the exact oracle cannot evaluate {kind.__name__} in {node}")


def _hyper_env(spec, hyperparameters: dict, target: Target) -> dict:
    values = {**spec.defaults, **hyperparameters}
    return {h.symbol: leaf(value_of(values[h.name]), target) for h in spec.hyperparameters}


def init_bounds(spec, param_value, hyperparameters: dict, target: Target) -> dict:
    """Bounds of each state's value after ``init_state`` for one element of the parameter (deferred initial
    values are 0 there, as :func:`optiforge.specs.reference.init_state` has them)."""
    env = {**_hyper_env(spec, hyperparameters, target), PARAM: value_of(param_value)}
    memo: dict = {}
    out = {}
    for s in spec.state:
        if s.init is None or deferred_init(s):
            out[s.name] = point(ZERO)
        else:
            out[s.name] = evaluate(s.init, env, target, memo)
    return out


@functools.lru_cache(maxsize=256)
def array_symbols(spec) -> frozenset:
    """The symbols that hold one value per element: θ, g, array state and the temporaries that read them."""
    arrays = {PARAM, GRAD} | {s.symbol for s in spec.array_state}
    for a in spec.assignments:
        if a.value.free_symbols & arrays:
            arrays.add(a.target)
    return frozenset(arrays)


def step_bounds(spec, param_value, grad_value, state_values: dict, t: int, hyperparameters: dict, target: Target,
                shared: list | None = None) -> dict:
    """Bounds of θ and every state after one step of one element, from the kernel's own values. ``shared``
    (an empty list at the first element of a step, then the same list for the others) keeps the values that
    read no array across elements."""
    arrays = array_symbols(spec)
    if shared is not None and not shared:
        shared.extend({} for _ in range(len(spec.assignments) + 1))
    env = _hyper_env(spec, hyperparameters, target)
    env[STEP] = point(mpf(int(t)))
    env[PARAM], env[GRAD] = value_of(param_value), value_of(grad_value)
    for s in spec.state:
        env[s.symbol] = value_of(state_values[s.name])
    memo: dict = {}
    if int(t) == 1:
        for s in spec.state:
            if deferred_init(s):
                env[s.symbol] = evaluate(s.init, env, target, memo)
    for i, a in enumerate(spec.assignments):
        # a fresh memo per assignment: the same node reads a different value once its symbol is reassigned
        env[a.target] = evaluate(a.value, env, target, {}, shared=shared[i] if shared else None, arrays=arrays)
    return {"theta": env[PARAM], **{s.name: env[s.symbol] for s in spec.state}}


def verdict(bounds: Bounds, value) -> str:
    """``correct``, ``wrong`` (a finite value outside the bounds, or an infinity of the wrong sign where the
    bounds allow infinities) or ``nan_where_finite`` (NaN or ±inf where the exact value is finite and
    bounded, or NaN where it is defined)."""
    value = float(value)
    if bounds.empty and bounds.nan:  # the spec defines no value here (0·NaN, no Piecewise branch applies)
        return "correct"
    if math.isnan(value):
        return "correct" if bounds.nan else "nan_where_finite"
    if math.isinf(value):
        allowed = (bounds.hi == INF) if value > 0 else (bounds.lo == -INF)
        if allowed and not bounds.empty:
            return "correct"
        finite = not bounds.empty and mp.isfinite(bounds.lo) and mp.isfinite(bounds.hi)
        return "nan_where_finite" if finite and not bounds.nan else "wrong"
    if bounds.empty:
        return "wrong"
    return "correct" if bounds.lo <= value <= bounds.hi else "wrong"
