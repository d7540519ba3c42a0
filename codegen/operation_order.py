"""The order of the IEEE operations of a sum and a product, shared by the printers that must agree on it (the
NumPy ufunc program and the numba loop printer), so that each operation rounds, overflows and produces NaN in
the same place whatever the target. (The pass ``codegen.passes.evaluation_order`` regroups the IR itself.)"""
from __future__ import annotations

import sympy as sp

__all__ = ["sum_terms", "product_factors"]


def sum_terms(expr: sp.Add) -> tuple[list, list]:
    """The evaluation order of a sum: ``positive`` terms added left to right, then each of ``negative``
    (negated back) subtracted: ``a - b + c`` is ``(a + c) - b``."""
    positive = [a for a in expr.args if not a.could_extract_minus_sign()]
    negative = [-a for a in expr.args if a.could_extract_minus_sign()]
    return positive, negative


def product_factors(expr: sp.Mul, computed) -> tuple[bool, list, list]:
    """The evaluation order of a product: ``numerator`` multiplied left to right, divided by the product of
    ``denominator``, then negated if ``negate``. Numbers and symbols not in ``computed`` (inputs, host
    scalars) come first, so each multiply by a constant is one call on a fresh operand."""
    coefficient, factors = expr.as_coeff_mul()
    numerator, denominator = [], []
    for f in factors:
        if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
            denominator.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
        else:
            numerator.append(f)
    negate = coefficient == -1
    if coefficient not in (1, -1):
        numerator.insert(0, coefficient)
    numerator.sort(key=lambda a: not (a.is_Number or a.is_Symbol and a not in computed))
    return negate, numerator, denominator
