"""The host printer every backend shares: per-step scalars in float64 with NumPy's scalar functions.

The NumPy, numba and CuPy modules compute their host prologue with it, and the numba loop printer builds on it.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from .literals import fits_int64, nearest_double, python_literal, unprintable_infinity

__all__ = ["FloatNumPyPrinter", "HostPrinter"]


class FloatNumPyPrinter(NumPyPrinter):
    """NumPy's printer with fully qualified names and every number but an int64 integer spelled as the double
    nearest to it, in a literal that reads back as that double (:mod:`codegen.literals`; SymPy's own printers
    write 15 significant digits, and an integer beyond int64 that NumPy cannot convert); ``names`` maps a
    symbol to the name it prints as (:func:`codegen.names.display_names`)."""

    def __init__(self, names: dict | None = None):
        super().__init__({"fully_qualified_modules": True})
        self._names = names or {}

    def _print_Symbol(self, expr):
        name = self._names.get(expr)
        return name if name is not None else super()._print_Symbol(expr)

    def _print_Integer(self, expr):
        return str(expr.p) if fits_int64(expr) else python_literal(nearest_double(expr))

    def _print_Rational(self, expr):
        # 1/2 would already be a float in Python 3; spell it as one so the float intent is visible.
        return python_literal(nearest_double(expr)) if expr.q != 1 else self._print_Integer(expr)

    def _print_Float(self, expr):
        return python_literal(nearest_double(expr))

    def _print_NumberSymbol(self, expr):  # π, e, the golden ratio …: float64 literals
        return python_literal(nearest_double(expr))

    def _print_ComplexInfinity(self, expr):
        raise unprintable_infinity()

    _print_Pi = _print_Exp1 = _print_GoldenRatio = _print_EulerGamma = _print_Catalan = _print_NumberSymbol


class HostPrinter(FloatNumPyPrinter):
    """Per-step scalars in float64 with NumPy's scalar functions, so a hoisted subexpression of a branch
    that is not taken (``sqrt`` of a negative, a division by zero) gives NaN/inf instead of raising.
    ``Piecewise`` stays a lazy Python conditional expression."""

    def _print_Pow(self, expr, rational=False):
        if expr.base.is_Rational and not expr.base.is_Integer:
            base = self._print(expr.base)
            return f"{f'({base})' if expr.base.is_negative else base}**{self.parenthesize(expr.exp, 60)}"
        return super()._print_Pow(expr, rational)

    def _print_Piecewise(self, expr):
        if expr.args[-1].cond != sp.true:  # no branch applies: NaN (Python's printer would say None)
            expr = sp.Piecewise(*expr.args, (sp.nan, True))
        return PythonCodePrinter._print_Piecewise(self, expr)

    def _print_Heaviside(self, expr):
        # NumPy's scalar function, not SymPy's rewrite as a Piecewise (which gives 1 at NaN)
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(expr.args[1]) if len(expr.args) > 1 else 0.5})"

    def _print_ITE(self, expr):
        # SymPy's printer rewrites ITE as a Piecewise of truth values, which SymPy's logic refuses to build
        condition, then, otherwise = (self._print(a) for a in expr.args)
        return f"(({then}) if ({condition}) else ({otherwise}))"

    def _nested(self, function: str, args) -> str:
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"numpy.{function}({text}, {self._print(arg)})"
        return text

    def _print_Max(self, expr):  # NaN-propagating, like the kernels' maximum
        return self._nested("maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("minimum", expr.args)
