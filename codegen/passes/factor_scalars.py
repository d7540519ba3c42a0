r"""Factor sign-proved host scalars out of powers in the body, so a root or a denominator costs fewer
per-element operations.

For a power :math:`(s\,A + e)^q` of an array expression whose array terms share a host-scalar factor
:math:`s` (and whose other terms :math:`e` are host scalars),

.. math:: (s\,A + e)^q = s^q \left(A + \tfrac{e}{s}\right)^q,

an identity for :math:`s > 0` and any real :math:`q` (principal powers), and for :math:`s \ge 0` when the base
is a single product (no :math:`e/s`), :math:`q > 0`, and :math:`q` is an integer or :math:`A \ge 0`
(at :math:`s = 0`, :math:`0^q A^q = 0\cdot\mathrm{NaN}` for :math:`A < 0` where :math:`(0\cdot A)^q = 0`:
:math:`\theta - \sqrt{(1-\beta^t)\,g}` at :math:`\beta = 1`). The new host values must keep the written form's
float range (:mod:`.checked_rewrites`): :math:`|q| \le 1` (a root or a reciprocal: :math:`A^3` overflows where
:math:`(s\,A)^3` need not), :math:`s^q` and :math:`e/s` normal and finite, and :math:`s^q` merged into
the scalar factors :math:`P` around the power (:math:`P\,s^q`, which :func:`~.hoist_scalars.hoist_scalars`
folds into one host constant) overflowing or underflowing only where :math:`P` does. :math:`s^q` then joins
the scalar factors around the power. Applied bottom up, Adam's bias correction leaves the square root and then
the denominator:

.. math:: \frac{c_3\,m}{\epsilon + \sqrt{c_1 v}} \;\to\; \frac{c_3\,m}{\epsilon + \sqrt{c_1}\sqrt{v}}
          \;\to\; \frac{k\,m}{e + \sqrt{v}}, \qquad k = \frac{c_3}{\sqrt{c_1}},\ e = \frac{\epsilon}{\sqrt{c_1}},

one multiply fewer per element. Signs and ranges come from :mod:`.host_bounds` (SymPy cannot prove
:math:`1-\beta^t > 0`); when a side condition is not proved the power is left alone.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import rebuild

from ..ir import KernelIR
from .checked_rewrites import (AllOf, AnyOf, Facts, InFloatRange, IntegerExponent, Nonnegative, Positive,
                               RootOrReciprocal, SafeScaling, holds)
from .hoist_scalars import hoist_scalars

__all__ = ["factor_scalars", "common_scalar_factor", "power_of_product"]


def common_scalar_factor(base: sp.Expr, facts: Facts) -> sp.Expr:
    """The product of the sign-proved (:math:`\\ge 0`) host-scalar factors shared by every array term of ``base``
    (1 when there is none)."""
    array_terms = [t for t in sp.Add.make_args(base) if not facts.is_scalar(t)]
    if not array_terms:
        return sp.S.One
    shared = None
    for term in array_terms:
        factors = {f for f in sp.Mul.make_args(term) if facts.is_scalar(f) and f != 1 and facts.nonnegative(f)}
        shared = factors if shared is None else shared & factors
    return sp.Mul(*sorted(shared, key=sp.default_sort_key)) if shared else sp.S.One


def power_of_product(power: sp.Pow, around: sp.Expr, facts: Facts):
    r"""``(s^q, rest^q, side conditions)`` for :math:`(s\,A + e)^q = s^q (A + e/s)^q`, the power multiplied by
    the host factors ``around`` (1 for none); None where the base has no shared host factor."""
    base, exponent = power.args
    if not exponent.is_Number or facts.is_scalar(base):
        return None
    factor = common_scalar_factor(base, facts)
    if factor == 1:
        return None
    terms = sp.Add.make_args(base)
    single_product = len(terms) == 1
    # Divide term by term; for a single product this just drops the factor (no 0/0 when s = 0).
    rest = base / factor if single_product else sp.Add(*[t / factor for t in terms])
    scaled = sp.Pow(factor, exponent)
    exact = Positive(factor)
    if single_product and exponent > 0:
        exact = AnyOf((exact, AllOf((Nonnegative(factor), AnyOf((IntegerExponent(exponent), Nonnegative(rest)))))))
    conditions = [exact, RootOrReciprocal(exponent), InFloatRange(scaled), SafeScaling(around, scaled)]
    conditions += [SafeScaling(t, 1 / factor) for t in terms if facts.is_scalar(t)]
    return scaled, sp.Pow(rest, exponent), conditions


def factor_scalars(ir: KernelIR) -> KernelIR:
    """Pull host-scalar factors out of the body's powers where :func:`power_of_product`'s side conditions hold,
    then hoist the new scalar work."""
    facts = Facts(ir)

    def factored(power, around):
        candidate = power_of_product(power, around, facts)
        if candidate is None:
            return None
        scaled, rest, conditions = candidate
        return sp.Mul(scaled, rest) if all(holds(c, facts) for c in conditions) else None

    def visit(node, args):
        # A power is rewritten where its parent is known: the host factors of a product around it scale s^q.
        if node.is_Atom:
            return None
        around = sp.Mul(*[a for a in args if facts.is_scalar(a)]) if isinstance(node, sp.Mul) else sp.S.One
        new = [(factored(a, around) or a) if a.is_Pow else a for a in args]
        return node.func(*new) if new != list(node.args) else None

    def rewrite(expr):
        expr = rebuild(expr, visit)
        return (factored(expr, sp.S.One) or expr) if expr.is_Pow else expr

    body = tuple((symbol, rewrite(expr)) for symbol, expr in ir.body)
    return hoist_scalars(ir.with_(body=body))
