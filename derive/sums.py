r"""Finite sums and range maxima, read with their ranges.

* A bound index is a local name: :func:`fresh_indices` renames every index to a fresh Dummy before any
  manipulation, so pulling a factor into :math:`\sum_i` can never capture a free symbol that happens to be
  called ``i``.
* A summand's sign is judged on its range: :math:`\sum_{i=a}^{b} f(i) \ge 0` is shown from :math:`f(a+k) \ge 0`
  for every integer :math:`k \ge 0`, never from the assumptions declared on ``i`` (an index declared positive may
  be summed from 0).
* Empty ranges are empty: :math:`\sum_{i=a}^{b} f = 0` and :math:`\max_{i=a}^{b} f = 0` for :math:`b < a`
  (:func:`conventional`). SymPy's closed forms follow Karr's convention, which agrees for
  :math:`b \ge a - 1` only; the falsification sweep evaluates small :math:`t` conventionally.
* :class:`RangeMax` is :math:`\max(0, f(a), \dots, f(b))`, the running maximum of nonnegative terms (AdaMax's
  :math:`u_t`). Its normal form (:func:`normalize`) uses two rules, both exact for this definition: peeling the
  last term, :math:`\max_{i=a}^{b} f = \max(\max_{i=a}^{b-1} f, f(b))` for :math:`b \ge a`, and homogeneity,
  :math:`c \max_i f = \max_i c f` for :math:`c \ge 0`.
"""
from __future__ import annotations

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.printing.precedence import PRECEDENCE, PRECEDENCE_VALUES

__all__ = ["RangeMax", "fresh_indices", "is_nonnegative", "nonnegative_on", "expand_sums", "normalize", "ranged"]


class RangeMax(ExprWithLimits):
    r""":math:`\max_{i=a}^{b} f(i) := \max(0, f(a), \dots, f(b))` (0 for an empty range)."""

    def _eval_is_nonnegative(self):
        return True

    def _eval_is_extended_real(self):
        return True

    def _eval_is_finite(self):
        return self.function.is_finite

    def doit(self, **hints):
        return conventional(self)

    def _latex(self, printer):
        i, a, b = self.limits[0]
        return r"\max_{%s=%s}^{%s} %s" % (printer._print(i), printer._print(a), printer._print(b),
                                          printer.parenthesize(self.function, 0))

    def _sympystr(self, printer):
        i, a, b = self.limits[0]
        return f"RangeMax({printer._print(self.function)}, ({printer._print(i)}, {printer._print(a)}, {printer._print(b)}))"


#: Finite ranges up to this length are expanded term by term (longer ones use SymPy's ``doit`` with b ≥ a).
EXPAND_LIMIT = 4000


def conventional(expr):
    """Evaluate sums, products and range maxima whose limits are numbers, by their conventional definition
    (an empty range gives 0, 1 and 0 respectively; nested ranges from the inside out)."""
    kinds = (sp.Sum, sp.Product, RangeMax)
    if not isinstance(expr, sp.Basic) or not expr.has(*kinds):
        return expr
    if not isinstance(expr, kinds):
        return expr.func(*[conventional(a) for a in expr.args])
    kind, function = type(expr), expr.function
    if len(expr.limits) > 1:  # Sum(f, inner, outer) = Sum(Sum(f, inner), outer)
        nested = function
        for limit in expr.limits:
            nested = kind(nested, limit)
        return conventional(nested)
    index, low, high = expr.limits[0]
    low, high = conventional(low), conventional(high)
    if not (low.is_number and high.is_number and low.is_integer and high.is_integer):
        return kind(conventional(function), (index, low, high))
    empty = {sp.Sum: sp.Integer(0), sp.Product: sp.Integer(1)}.get(kind, sp.Integer(0))
    if high < low:
        return empty
    if high - low >= EXPAND_LIMIT:  # long, non-empty range: SymPy's closed form is the conventional value
        return kind(function, (index, low, high)).doit()
    terms = [conventional(function.xreplace({index: sp.Integer(k)})) for k in range(int(low), int(high) + 1)]
    if kind is sp.Sum:
        return sp.Add(*terms)
    if kind is sp.Product:
        return sp.Mul(*terms)
    return sp.Max(0, *terms)


PRECEDENCE_VALUES["RangeMax"] = PRECEDENCE["Mul"]  # (max_i f)^p is printed with parentheses

_RANGED = (sp.Sum, sp.Product, RangeMax)


def ranged(expr) -> bool:
    return isinstance(expr, sp.Basic) and expr.has(*_RANGED)


def fresh_indices(expr):
    """Every bound index of a sum / product / range maximum renamed to a fresh integer Dummy chosen by the
    object's nesting height (an innermost range uses one Dummy, a range around it the next, …): equal ranges then
    compare equal wherever they sit, and no free symbol can be captured."""
    def height(e):
        if not isinstance(e, sp.Basic) or not e.has(*_RANGED):
            return 0
        inner = max((height(a) for a in e.args), default=0)
        return inner + (len(e.limits) if isinstance(e, _RANGED) else 0)

    def rename(e):
        if not isinstance(e, sp.Basic) or not e.has(*_RANGED):
            return e
        if isinstance(e, _RANGED):
            function = rename(e.function)
            level = height(function)
            limits = []
            for k, (index, low, high) in enumerate(e.limits):
                dummy = _DUMMIES.setdefault(level + k, sp.Dummy(f"k{level + k}", integer=True))
                function = function.xreplace({index: dummy})
                limits.append((dummy, rename(low), rename(high)))
            return type(e)(function, *limits)
        return e.func(*[rename(a) for a in e.args])

    return rename(sp.sympify(expr))


_DUMMIES: dict = {}


def _range_forms(function, index, low, high):
    r"""The term as a function of :math:`k \ge 0` with index :math:`= a + k` and with index :math:`= b - k`:
    a property shown for either holds on the whole range :math:`[a, b]`."""
    k = sp.Dummy("k", integer=True, nonnegative=True)
    return [function.xreplace({index: low + k}), function.xreplace({index: high - k})]


def nonnegative_on(expr, within) -> bool:
    r""":func:`is_nonnegative` under index hypotheses ``((j, a, b), …)`` (:math:`a \le j \le b`)."""
    if is_nonnegative(expr):
        return True
    for j, a, b in within:
        if any(is_nonnegative(form) for form in _range_forms(sp.sympify(expr), j, a, b)):
            return True
    return False


def is_nonnegative(expr) -> bool:
    r"""SymPy's ``is_nonnegative``, extended to finite ranges read on their range: a sum (possibly empty) of
    summands that are :math:`\ge 0` for every index of the range is :math:`\ge 0`; a range maximum is
    :math:`\ge 0`; sums and products of such expressions are :math:`\ge 0`."""
    expr = sp.sympify(expr)
    if isinstance(expr, RangeMax):
        return True
    if isinstance(expr, sp.Sum):
        if len(expr.limits) != 1 or not expr.limits[0][1].is_integer:
            return False
        index, low, high = expr.limits[0]
        return any(is_nonnegative(form) for form in _range_forms(expr.function, index, low, high))
    if ranged(expr):  # never trust an assumption read off a bound index elsewhere in the expression
        if isinstance(expr, (sp.Add, sp.Mul)):
            return all(is_nonnegative(a) for a in expr.args)
        if isinstance(expr, sp.Pow) and expr.exp.is_real and is_nonnegative(expr.base):
            return bool(expr.exp.is_nonnegative) or (expr.base.is_positive is True)
        return False
    if expr.is_nonnegative or positive_polynomial(expr):
        return True
    if isinstance(expr, (sp.Add, sp.Mul)):
        return all(is_nonnegative(a) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_real and positive_polynomial(expr.base):
        return True
    if isinstance(expr, sp.Max):
        return any(is_nonnegative(a) for a in expr.args)
    return False


def positive_polynomial(expr) -> bool:
    r"""Whether ``expr`` is a polynomial with rational coefficients in one real symbol :math:`s` that has no real
    root where the assumptions of :math:`s` allow it (:math:`[0, \infty)` for a nonnegative :math:`s`, else
    :math:`\mathbb{R}`; counted exactly by Sturm's theorem) and is positive at one point there: then it is
    positive on that whole set (e.g. :math:`p^2 - p + 1`)."""
    expr = sp.sympify(expr)
    if len(expr.free_symbols) != 1 or not expr.is_polynomial():
        return False
    (symbol,) = expr.free_symbols
    if not symbol.is_real:
        return False
    try:
        poly = sp.Poly(expr, symbol)
    except sp.PolynomialError:
        return False
    if poly.degree() < 1 or not (poly.domain.is_ZZ or poly.domain.is_QQ):
        return False
    low = sp.Integer(0) if symbol.is_nonnegative else None
    return poly.count_roots(low, None) == 0 and poly.eval(sp.Integer(1) if low is not None else sp.Integer(0)) > 0


def expand_sums(expr):
    r"""Normal form for finite sums with a symbolic upper limit: rename the indices (:func:`fresh_indices`), peel
    the last terms of each :math:`\sum_{i=a}^{n}` so all sums run to the same limit, push scalar factors inside,
    merge sums with equal ranges and expand the summand (SymPy does not merge :math:`\beta\sum f + \sum h`)."""
    from optiforge.specs import STEP

    expr = fresh_indices(expr)
    sums = [s for s in expr.atoms(sp.Sum) if len(s.limits) == 1]
    if not sums:
        return expr
    uppers = {s.limits[0][2] for s in sums}
    lowest = min(uppers, key=lambda u: sp.simplify(u - STEP) if u.has(STEP) else 0)
    replacements = {}
    for s in sums:
        (i, a, b), f = s.limits[0], s.function
        peeled = sp.Integer(0)
        steps = sp.simplify(b - lowest)
        if not (steps.is_integer and steps.is_nonnegative):
            continue
        while sp.simplify(b - lowest) != 0:
            peeled += f.xreplace({i: b})
            b = b - 1
        replacements[s] = sp.Sum(f, (i, a, b)) + peeled
    expr = sp.expand(expr.xreplace(replacements))
    merged: dict = {}
    rest = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        inner = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(inner) == 1 and len(inner[0].limits) == 1:
            s = inner[0]
            coefficient = term / s
            index = s.limits[0][0]
            if index in coefficient.free_symbols:  # cannot happen after renaming; never capture
                rest += term
                continue
            merged[s.limits] = merged.get(s.limits, 0) + coefficient * s.function
        else:
            rest += term
    total = rest
    for limits, summand in merged.items():
        summand = sp.simplify(sp.expand(sp.powsimp(sp.expand(summand), force=False)))
        if summand != 0:
            total += sp.Sum(summand, *limits).doit() if not summand.has(limits[0][0]) else sp.Sum(summand, *limits)
    return total


def _provably_at_least(high, low) -> bool:
    difference = sp.simplify(high - low)
    return bool(difference.is_integer and difference.is_nonnegative)


def normalize(expr):
    r"""Normal form for range maxima (see the module docstring): peel each :math:`\max_{i=a}^{b}` down to the
    smallest upper limit present, and move nonnegative factors that do not depend on the index inside."""
    expr = fresh_indices(expr)
    maxima = list(expr.atoms(RangeMax))
    if not maxima:
        return expr
    uppers = [m.limits[0][2] for m in maxima]
    lowest = uppers[0]
    for u in uppers[1:]:
        if _provably_at_least(lowest, u):
            lowest = u
    replacements = {}
    for m in maxima:
        (i, a, b), f = m.limits[0], m.function
        if not _provably_at_least(b, lowest) or not _provably_at_least(lowest, a - 1):
            continue
        value = None
        while sp.simplify(b - lowest) != 0:  # b ≥ lowest + 1 ≥ a: the range is not empty, peel f(b)
            value = f.xreplace({i: b}) if value is None else sp.Max(value, f.xreplace({i: b}))
            b = b - 1
        core = RangeMax(f, (i, a, b))
        replacements[m] = core if value is None else sp.Max(core, value)
    expr = expr.xreplace(replacements)
    return _homogeneous(expr)


def _homogeneous(expr):
    """c·max_i f → max_i c·f for c ≥ 0 independent of the index; then expand powers in the terms."""
    if not isinstance(expr, sp.Basic) or not expr.has(RangeMax):
        return expr
    args = [_homogeneous(a) for a in expr.args]
    expr = expr.func(*args) if args else expr
    if isinstance(expr, sp.Mul):
        maxima = [f for f in expr.args if isinstance(f, RangeMax)]
        if len(maxima) == 1:
            m = maxima[0]
            factor = sp.Mul(*[f for f in expr.args if f is not m])
            index = m.limits[0][0]
            if index not in factor.free_symbols and is_nonnegative(factor):
                return RangeMax(sp.powsimp(sp.expand(factor * m.function)), *m.limits)
    if isinstance(expr, RangeMax):
        return RangeMax(sp.powsimp(sp.expand(expr.function)), *expr.limits)
    return expr
