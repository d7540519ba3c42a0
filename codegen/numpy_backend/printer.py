"""Printers for the NumPy backend: NumPy float64 scalars for the host prologue, ufunc calls for the body."""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from .program import Call

__all__ = ["HostPrinter", "UfuncPrinter"]


class _FloatNumPyPrinter(NumPyPrinter):
    """NumPy's printer with fully qualified names and rationals spelled as float literals."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True})

    def _print_Rational(self, expr):
        # 1/2 would already be a float in Python 3; spell it as one so the float intent is visible.
        return repr(float(expr)) if expr.q != 1 else str(expr.p)

    def _print_NumberSymbol(self, expr):  # π, e, the golden ratio …: float64 literals
        return repr(float(expr))

    _print_Pi = _print_Exp1 = _print_GoldenRatio = _print_EulerGamma = _print_Catalan = _print_NumberSymbol


class HostPrinter(_FloatNumPyPrinter):
    """Per-step scalars in float64 with NumPy's scalar functions, so a hoisted subexpression of a branch
    that is not taken (``sqrt`` of a negative, a division by zero) gives NaN/inf instead of raising.
    ``Piecewise`` stays a lazy Python conditional expression."""

    def _print_Pow(self, expr, rational=False):
        if expr.base.is_Rational and not expr.base.is_Integer:
            return f"{float(expr.base)!r}**{self.parenthesize(expr.exp, 60)}"
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


class UfuncPrinter(_FloatNumPyPrinter):
    """``numpy.<ufunc>(a, b, out=buf)`` statements for a :class:`~.program.Call`."""

    def __init__(self, host_booleans: set[sp.Symbol]):
        super().__init__()
        self._host_booleans = host_booleans

    def _print_NaN(self, expr):
        return "numpy.nan"

    def call(self, call: Call) -> list[str]:
        args = [self._print(a) for a in call.args]
        out = self._print(call.out)
        if call.ufunc != "select":
            return [f"numpy.{call.ufunc}({', '.join(args)}, out={out})"]
        condition = call.args[0]
        if condition in self._host_booleans or isinstance(condition, sp.logic.boolalg.BooleanAtom):
            return [f"numpy.copyto({out}, {args[1]} if {args[0]} else {args[2]})"]
        if args[1] == out:
            # The destination already holds the "then" values (e.g. a state kept where the condition holds):
            # overwrite only the other elements.
            return [f"numpy.copyto({out}, {args[2]}, where=~{args[0]})"]
        lines = [] if args[2] == out else [f"numpy.copyto({out}, {args[2]})"]
        return lines + [f"numpy.copyto({out}, {args[1]}, where={args[0]})"]
