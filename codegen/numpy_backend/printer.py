"""Printers for the NumPy backend: SymPy's Python printer for host scalars, NumPy's for ufunc calls."""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from .program import Call

__all__ = ["HostPrinter", "UfuncPrinter"]


class HostPrinter(PythonCodePrinter):
    """Per-step scalars as plain Python float arithmetic (``math`` module, float64)."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})

    def _print_Rational(self, expr):
        # 1/2 would already be a float in Python 3; spell it as one so the float64 intent is visible.
        return repr(float(expr)) if expr.q != 1 else str(expr.p)

    def _print_Pow(self, expr, rational=False):
        if expr.base.is_Rational and not expr.base.is_Integer:
            return f"{float(expr.base)!r}**{self.parenthesize(expr.exp, 60)}"
        return super()._print_Pow(expr, rational)


class UfuncPrinter(NumPyPrinter):
    """``numpy.<ufunc>(a, b, out=buf)`` statements for a :class:`~.program.Call`."""

    def __init__(self, host_booleans: set[sp.Symbol]):
        super().__init__({"fully_qualified_modules": True})
        self._host_booleans = host_booleans

    def _print_Rational(self, expr):
        return repr(float(expr)) if expr.q != 1 else str(expr.p)

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
