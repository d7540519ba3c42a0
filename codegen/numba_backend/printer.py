r"""Python printer for the bodies of numba loops: one element of the IR body in one arithmetic precision.

Built on the shared :class:`~optiforge.codegen.host_printer.HostPrinter` (NumPy's scalar
functions, NaN-propagating ``numpy.maximum``/``numpy.minimum`` for :math:`\max`/:math:`\min`, ``Piecewise``
as a lazy conditional expression), with these differences, each for a reason:

* every literal of a float32 body is ``numpy.float32(…)``: numba types a Python ``2`` or ``0.5`` as int64 or
  float64, and ``float32 * int64`` is float64 there, which would silently run the loop in double precision;
* literals of a float64 body print as the exact double (``repr``), never SymPy's 15 significant digits;
* ``Add`` and ``Mul`` evaluate in the order of the NumPy backend's ufunc program (the shared ``sum_terms``
  and ``product_factors`` of ``codegen/operation_order.py``): positive terms left to right, then each
  negative one subtracted; numbers and inputs first in a product, then the divisors' product divides. Each
  IEEE operation then rounds, overflows and produces NaN exactly as there;
* relations and logic print as Python operators on scalars (exclusive or as ``!=`` of truth values),
  ``Heaviside`` as its NaN-propagating branches (numba has no ``numpy.heaviside``).
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.codeprinter import CodePrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import AbstractPythonCodePrinter

from optiforge.runtime.backends import PRECISIONS

from ..operation_order import product_factors, sum_terms
from ..host_printer import HostPrinter

__all__ = ["LoopPrinter"]



class LoopPrinter(HostPrinter):
    """Expressions of an elementwise body in ``precision``; ``body_symbols`` are the body's own SSA names
    (the NumPy backend multiplies inputs and scalars before them)."""

    def __init__(self, precision: str, body_symbols=(), names: dict | None = None):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        super().__init__(names)
        self.precision = precision
        self._body_symbols = frozenset(body_symbols)
        #: placeholder → printed operand, while a branch built on the placeholder prints
        self._operands: dict[sp.Dummy, str] = {}

    # -- literals of the arithmetic type

    def _literal(self, text: str) -> str:
        return text if self.precision == "float64" else f"numpy.float32({text})"

    def _print_Integer(self, expr):
        return self._literal(str(expr.p))

    def _print_Rational(self, expr):
        return self._print_Integer(expr) if expr.q == 1 else self._literal(repr(float(expr)))

    def _print_Float(self, expr):
        return self._literal(repr(float(expr)))

    def _print_NaN(self, expr):
        return self._literal("numpy.nan")

    def _print_Infinity(self, expr):
        return self._literal("numpy.inf")

    def _print_NegativeInfinity(self, expr):
        return self._literal("-numpy.inf")

    def _print_NumberSymbol(self, expr):  # π, e, …
        return self._literal(repr(float(expr)))

    _print_Pi = _print_Exp1 = _print_GoldenRatio = _print_EulerGamma = _print_Catalan = _print_NumberSymbol

    # -- arithmetic in the NumPy backend's order

    def _operand(self, expr, level: int, strict: bool = False) -> str:
        """``expr`` as an operand of an operator of precedence ``level``. A typed literal is a call and a
        non-negative float literal an atom: neither needs parentheses."""
        if expr.is_Number and (self.precision != "float64" or not expr.is_negative):
            return self._print(expr)
        return self.parenthesize(expr, level, strict=strict)

    def _factor(self, expr) -> str:
        return self._operand(expr, PRECEDENCE["Mul"])

    def _print_Add(self, expr, order=None):
        positive, negative = sum_terms(expr)
        if positive:
            text = " + ".join(self.parenthesize(a, PRECEDENCE["Add"]) for a in positive)
        else:  # unary minus binds tighter than * and looser than **: -a*b is (-a)*b, exactly -(a*b)
            text = "-" + self.parenthesize(negative.pop(0), PRECEDENCE["Mul"], strict=True)
        return text + "".join(f" - {self.parenthesize(a, PRECEDENCE['Add'])}" for a in negative)

    def _print_Mul(self, expr):
        negate, numerator, denominator = product_factors(expr, self._body_symbols)
        text = "*".join(self._factor(a) for a in numerator) if numerator else self._print(sp.S.One)
        if len(denominator) == 1:
            text += "/" + self._factor(denominator[0])
        elif denominator:
            text += f"/({'*'.join(self._factor(d) for d in denominator)})"
        return f"-{text}" if negate else text

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == -1:
            return f"{self._print(sp.S.One)}/{self._factor(base)}"
        if exponent == sp.S.Half:
            return f"numpy.sqrt({self._print(base)})"
        # An integer exponent stays an integer: numba's float32 ** int is float32 (and exact for 2).
        power = str(exponent.p) if exponent.is_Integer else self._operand(exponent, PRECEDENCE["Pow"])
        return f"{self._operand(base, PRECEDENCE['Pow'], strict=True)}**{power}"

    # -- branches and logic on scalars

    def _print_Heaviside(self, expr):
        x = expr.args[0]
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        # No branch for NaN: it falls through to NaN, like numpy.heaviside. The branches compare a placeholder:
        # SymPy would fold relations of the operand itself (and refuse one whose reality it cannot decide).
        operand = sp.Dummy("operand", real=True)
        self._operands[operand] = self._operand(x, PRECEDENCE["Relational"], strict=True)
        try:
            return self._print(sp.Piecewise((sp.S.Zero, operand < 0), (at_zero, sp.Eq(operand, 0)),
                                            (sp.S.One, operand > 0), evaluate=False))
        finally:
            del self._operands[operand]

    def _print_Dummy(self, expr):
        return self._operands[expr] if expr in self._operands else super()._print_Dummy(expr)

    def _print_Not(self, expr):
        return f"(not ({self._print(expr.args[0])}))"

    def _print_Xor(self, expr):
        # As numpy.logical_xor of the comparisons: SymPy's rewrite into and/or gives False where one side
        # compares a NaN (false) and the other is true.
        text = f"({self._print(expr.args[0])})"
        for operand in expr.args[1:]:  # nested: Python reads a != b != c as a != b and b != c
            text = f"({text} != ({self._print(operand)}))"
        return text

    _print_Relational = AbstractPythonCodePrinter._print_Relational
    _print_And = CodePrinter._print_And
    _print_Or = CodePrinter._print_Or
