r"""Exact values: what a decimal literal means, evaluation at a point, certified comparison, interval enclosures.

* **Decimal literals** (:func:`exact`): every Python ``float`` or SymPy ``Float`` in a claim stands for the exact
  rational of its shortest round-trip decimal text (up to 17 significant digits for a double). So ``0.1`` is
  :math:`1/10` and ``1.000000000000001`` is not 1; a value Python computed (``3*0.1`` is
  ``0.30000000000000004``) is read as the double it is: write ``sp.Rational(3, 10)`` for three tenths. Every step kind and :class:`~derive.equivalence.Dynamics`
  applies it to its inputs, so a claim never depends on binary rounding.
* **Evaluation** (:func:`evaluate`): substitute exact values and let SymPy evaluate. Finite sums and products with
  numeric limits follow the conventional definition (an empty range gives 0, resp. 1), *not* SymPy's Karr
  convention (:math:`\sum_{i=6}^{1} 1 = -4`). :func:`defined` says whether a value is a finite real number
  (:math:`0/0`, :math:`1/0`, :math:`\log 0`, :math:`\sqrt{-1}` are not).
* **Comparison** (:func:`compare`, :func:`sign_of`): exact for rationals; for algebraic and transcendental values
  by SymPy's ``evalf(strict=True)``, which raises instead of returning digits it cannot certify.
* **Enclosures** (:func:`enclose`): outward-rounded interval arithmetic (``mpmath.iv``) over a SymPy expression,
  for replays too deep for exact arithmetic. A comparison it cannot decide raises :class:`Undecided`.
"""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from .sums import conventional, fresh_indices, ranged

__all__ = ["exact", "decimal_rational", "evaluate", "defined", "compare", "sign_of", "enclose", "Undecided",
           "conventional"]

def decimal_rational(value) -> sp.Rational:
    """The exact rational of a decimal literal's text: ``0.1`` → 1/10 (see the module docstring). A double is
    read by its shortest round-trip text (up to 17 significant digits: ``1.000000000000001`` is not 1); a
    SymPy ``Float`` of higher precision by all its digits."""
    if isinstance(value, (int, sp.Integer)):
        return sp.Integer(value)
    if isinstance(value, sp.Float) and value._prec > 53:
        return sp.Rational(mpmath.nstr(mpmath.mpf(value._mpf_), int(value._prec * 0.30103) + 2, strip_zeros=True))
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite decimal literal: {value!r}")
    return sp.Rational(repr(number))


def exact(expr):
    """``expr`` with every decimal literal replaced by the rational of its decimal text."""
    if isinstance(expr, float):
        return decimal_rational(expr)
    expr = sp.sympify(expr)
    floats = expr.atoms(sp.Float)
    return expr.xreplace({f: decimal_rational(f) for f in floats}) if floats else expr


def evaluate(expr, point: dict, functions: dict | None = None):
    """``expr`` at ``point`` (symbols → exact numbers), undefined functions replaced by ``functions``
    (class → ``Lambda``), with conventional finite sums. Bound indices are renamed first: a free symbol of the
    same name as a summation index is given its value, the index is not."""
    value = sp.sympify(expr)
    value = (fresh_indices(value) if ranged(value) else value).xreplace(point)
    if functions:
        for function, replacement in functions.items():
            if value.has(function):
                value = value.replace(function, replacement)
    return conventional(value)


def defined(value) -> bool | None:
    """True for a finite real number, False for nan/zoo/±oo/non-real, None when not a number (free symbols)."""
    value = sp.sympify(value)
    if isinstance(value, sp.logic.boolalg.BooleanAtom):
        return None
    if not value.is_number:
        return None
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.AccumBounds):
        return False
    if value.is_Rational:
        return True
    if value.is_extended_real is False or value.is_finite is False:
        return False
    if value.is_extended_real is None:
        try:
            imaginary = sp.im(value).evalf(30, strict=True)
            return not abs(imaginary) > 0
        except (PrecisionExhausted, TypeError, ValueError):
            return True  # the imaginary part is 0 to every digit evalf can certify
    return True


def sign_of(value) -> int | None:
    """The sign (−1, 0, 1) of a defined real number, certified; None if it cannot be decided."""
    value = sp.sympify(value)
    if value.is_Rational:
        return int(bool(value > 0)) - int(bool(value < 0))
    if value.is_zero:
        return 0
    try:
        approx = value.evalf(30, strict=True)
    except PrecisionExhausted:
        return 0 if _simplifies_to_zero(value) else None
    except (TypeError, ValueError):
        return None
    if approx.is_Number and approx != 0:
        return 1 if approx > 0 else -1
    return None


def _simplifies_to_zero(value) -> bool:
    try:
        return sp.nsimplify(sp.radsimp(value)) == 0 or sp.simplify(value) == 0
    except Exception:  # noqa: BLE001 - a failed simplification decides nothing
        return False


def compare(a, b) -> str:
    """'equal', 'differ' or 'unknown' for two defined numbers (exact or certified)."""
    s = sign_of(sp.sympify(a) - sp.sympify(b))
    return "unknown" if s is None else "equal" if s == 0 else "differ"


# --- interval enclosures ------------------------------------------------------------------------------------
class Undecided(Exception):
    """An interval comparison or branch that the enclosure cannot decide."""


class Undefined(Exception):
    """The value is certainly undefined (division by an exact 0, square root of a certainly negative number)."""


iv = mpmath.iv


def _interval(number: sp.Expr):
    number = sp.sympify(number)
    if number.is_Integer:
        return iv.mpf(int(number))
    if number.is_Rational:
        return iv.mpf(int(number.p)) / iv.mpf(int(number.q))
    if number is sp.pi:
        return iv.pi
    if number is sp.E:
        return iv.e
    raise Undecided(f"no enclosure for {number}")


def _point(x) -> bool:
    return x.a == x.b


def _positive(x) -> bool | None:
    if x.a > 0:
        return True
    if x.b <= 0:
        return False
    return None


def _compare(op, a, b) -> bool:
    d = a - b
    if op in ("<", ">"):
        d = d if op == ">" else -d
        if d.a > 0:
            return True
        if d.b <= 0:
            return False
    elif op in ("<=", ">="):
        d = d if op == ">=" else -d
        if d.a >= 0:
            return True
        if d.b < 0:
            return False
    elif op in ("==", "!="):
        if _point(d) and d.a == 0:
            return op == "=="
        if d.a > 0 or d.b < 0:
            return op == "!="
    raise Undecided(f"cannot decide {op} on overlapping intervals")


def _truth(condition, env):
    if condition is sp.true or condition is True:
        return True
    if condition is sp.false or condition is False:
        return False
    if isinstance(condition, sp.core.relational.Relational):
        return _compare(condition.rel_op, enclose(condition.lhs, env), enclose(condition.rhs, env))
    if isinstance(condition, sp.And):
        return all(_truth(c, env) for c in condition.args)
    if isinstance(condition, sp.Or):
        return any(_truth(c, env) for c in condition.args)
    if isinstance(condition, sp.Not):
        return not _truth(condition.args[0], env)
    raise Undecided(f"condition {condition}")


def enclose(expr, env: dict):
    """An ``mpmath.iv`` interval containing the value of ``expr`` (symbols → intervals in ``env``)."""
    if expr in env:
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        if expr in (sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise Undefined(str(expr))
        return _interval(expr)
    if isinstance(expr, sp.Add):
        total = iv.mpf(0)
        for a in expr.args:
            total += enclose(a, env)
        return total
    if isinstance(expr, sp.Mul):
        total = iv.mpf(1)
        for a in expr.args:
            total *= enclose(a, env)
        return total
    if isinstance(expr, sp.Pow):
        base, power = enclose(expr.base, env), expr.exp
        if power.is_Integer:
            if power < 0:
                if _point(base) and base.a == 0:
                    raise Undefined("division by 0")
                if base.a <= 0 <= base.b:
                    raise Undecided("division by an interval containing 0")
                return iv.mpf(1) / base ** int(-power)
            return base ** int(power)
        if power == sp.S.Half:
            if base.b < 0:
                raise Undefined("square root of a negative number")
            if base.a < 0:
                raise Undecided("square root of an interval containing negative numbers")
            return iv.sqrt(base)
        exponent = enclose(power, env)
        if base.a <= 0:
            if _point(base) and base.a == 0 and exponent.a > 0:
                return iv.mpf(0)
            raise Undecided("power of a base that is not positive")
        return iv.exp(exponent * iv.log(base))
    if isinstance(expr, sp.exp):
        return iv.exp(enclose(expr.args[0], env))
    if isinstance(expr, sp.log):
        x = enclose(expr.args[0], env)
        if x.b <= 0:
            raise Undefined("log of a number ≤ 0")
        if x.a <= 0:
            raise Undecided("log of an interval reaching 0")
        return iv.log(x)
    if isinstance(expr, sp.Abs):
        x = enclose(expr.args[0], env)
        if x.a >= 0:
            return x
        if x.b <= 0:
            return -x
        return iv.mpf([0, max(-x.a, x.b)])
    if isinstance(expr, sp.sign):
        x = enclose(expr.args[0], env)
        if _point(x) and x.a == 0:
            return iv.mpf(0)
        if x.a > 0:
            return iv.mpf(1)
        if x.b < 0:
            return iv.mpf(-1)
        raise Undecided("sign of an interval containing 0")
    if isinstance(expr, (sp.Max, sp.Min)):
        values = [enclose(a, env) for a in expr.args]
        if isinstance(expr, sp.Max):
            return iv.mpf([max(v.a for v in values), max(v.b for v in values)])
        return iv.mpf([min(v.a for v in values), min(v.b for v in values)])
    if isinstance(expr, sp.Piecewise):
        for value, condition in expr.args:
            if _truth(condition, env):
                return enclose(value, env)
        raise Undefined("no branch of the Piecewise applies")
    if isinstance(expr, sp.tanh):
        return iv.tanh(enclose(expr.args[0], env)) if hasattr(iv, "tanh") else _tanh(enclose(expr.args[0], env))
    raise Undecided(f"no enclosure rule for {type(expr).__name__}")


def _tanh(x):
    two = iv.exp(2 * x)
    return (two - 1) / (two + 1)
