r"""Reduce powers in the body to cheap operations: :math:`x^2 \to x\cdot x`, :math:`x^{1/2} \to \sqrt{x}`,
:math:`x^{-1/2} \to 1/\sqrt{x}`, :math:`x^{3/2} \to x\sqrt{x}`, and a negative power as a power of the
reciprocal: :math:`x^{-2} \to x^{-1}\cdot x^{-1}`, :math:`x^{-3/2} \to x^{-1}\cdot(\sqrt{x})^{-1}`.

Each is an identity for every real (and non-finite) :math:`x`; what the side conditions of
:mod:`.checked_rewrites` exclude is the form :math:`1/(x\cdot x)`: for :math:`|x| = 10^{20}` in float32,
:math:`x\cdot x` overflows and :math:`1/\infty = 0`, where :math:`x^{-2} = 10^{-40}` is a float32 (subnormal).
No intermediate of a reciprocal's product overflows or underflows unless the power itself does, within the
normal range, so that form is used instead.

Uses ``sympy.codegen.rewriting``: ``create_expand_pow_optimization`` for small positive integer exponents (kept
as unevaluated products so SymPy cannot fold them back) and a rule mapping half-integer exponents onto the
unevaluated ``sympy.codegen.cfunctions.Sqrt``. The rules are applied bottom up and the expression is rebuilt
without evaluation: SymPy knows nothing about ``Sqrt`` (not even that it is real), so re-evaluating a
``Min``, ``Max`` or a comparison around it would fail. Host scalars are left alone: they cost nothing per
element.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import Sqrt
from sympy.codegen.rewriting import ReplaceOptim, create_expand_pow_optimization

from optiforge.specs.expression_dag import SYMPY_REFUSALS, rebuild_unevaluated

from ..ir import KernelIR, plain_sympy

__all__ = ["reduce_powers", "POWER_RULES", "undo_power_reduction"]


def _reciprocal(x: sp.Expr) -> sp.Expr:
    r""":math:`1/x` as an operand of its own (the printers divide by the product of a product's reciprocals,
    :math:`1/(x\cdot x)`, which is what the rules avoid)."""
    return sp.UnevaluatedExpr(sp.Pow(x, -1, evaluate=False))


_half_integer_power = ReplaceOptim(
    lambda e: e.is_Pow and e.exp.is_Rational and e.exp.q == 2 and abs(e.exp.p) <= 3,
    lambda e: sp.Mul(*([Sqrt(e.base)] + [e.base] * ((e.exp.p - 1) // 2)), evaluate=False) if e.exp > 0 else
    1 / Sqrt(e.base) if e.exp == -sp.S.Half else sp.Mul(_reciprocal(Sqrt(e.base)), _reciprocal(e.base), evaluate=False),
)

#: :math:`x^{-n} \to x^{-1}\cdots x^{-1}` for :math:`2 \le n \le 4` (never :math:`1/(x\cdots x)`, whose product
#: overflows where the power is a subnormal number).
_negative_integer_power = ReplaceOptim(
    lambda e: e.is_Pow and e.exp.is_Integer and -4 <= e.exp <= -2,
    lambda e: sp.UnevaluatedExpr(sp.Mul(*[_reciprocal(e.base)] * int(-e.exp), evaluate=False)),
)

#: Applied in this order: half-integer powers first, then small integer powers.
POWER_RULES = (_half_integer_power, _negative_integer_power,
               create_expand_pow_optimization(4, base_req=lambda base: True))


#: Back to ordinary SymPy powers (used to check that the rewrite preserved the meaning).
undo_power_reduction = plain_sympy


def _reduce(node, args):
    if not node.is_Pow:
        return None
    power = sp.Pow(*args, evaluate=False) if args != node.args else node
    for rule in POWER_RULES:
        if rule.query(power):
            power = rule.value(power)
    return power


def _reduced(expr: sp.Expr) -> sp.Expr:
    try:
        return rebuild_unevaluated(expr, _reduce)
    except SYMPY_REFUSALS:
        # Building even an unevaluated product asks SymPy whether its factors commute, which for tanh(…)
        # can re-evaluate a Max around a Sqrt that SymPy cannot compare: keep this statement's powers.
        return expr


def reduce_powers(ir: KernelIR) -> KernelIR:
    """Rewrite the body's powers with :data:`POWER_RULES` (a statement SymPy refuses to rebuild keeps its
    powers, which the printers print as they are)."""
    return ir.with_(body=tuple((symbol, _reduced(expr)) for symbol, expr in ir.body))
