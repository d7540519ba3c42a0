r"""Python printer for the bodies of numba loops: one element of the IR body in one arithmetic precision.

Built on the shared :class:`~optiforge.codegen.host_printer.HostPrinter` (NumPy's scalar
functions, NaN-propagating ``numpy.maximum``/``numpy.minimum`` for :math:`\max`/:math:`\min`, ``Piecewise``
as a lazy conditional expression), with these differences, each for a reason:

* every literal of a float32 body is ``numpy.float32(…)``: numba types a Python ``2`` or ``0.5`` as int64 or
  float64, and ``float32 * int64`` is float64 there, which would silently run the loop in double precision;
* a number prints as the double nearest to it (``repr``, never SymPy's 15 significant digits), an integer beyond
  int64 too (numba has no wider integer);
* ``Add`` and ``Mul`` evaluate in the order of the NumPy backend's ufunc program (the shared ``sum_terms``
  and ``product_factors`` of ``codegen/operation_order.py``): positive terms left to right, then each
  negative one subtracted; numbers and inputs first in a product, then the divisors' product divides. Each
  IEEE operation then rounds, overflows and produces NaN exactly as there;
* relations and logic print as Python operators on scalars (exclusive or as ``!=`` of truth values),
  ``Heaviside`` as its NaN-propagating branches (numba has no ``numpy.heaviside``);
* a power with a negative integer exponent is ``(1/x**n)``: numba's ``x**-n`` divides inside its own
  implementation, which raises ZeroDivisionError at ``x = 0`` whatever the loop's error model, where NumPy
  gives inf; ``Mod`` is Python's ``%`` on floats (NumPy's ``mod``: the sign of the divisor, a zero remainder
  signed like the divisor), not numba's ``numpy.mod``, which makes every zero remainder +0; ``Max``/``Min`` are
  numba's ``numpy.maximum``/``numpy.minimum`` with the operands swapped (numba keeps the first of two equal
  operands, NumPy the second: the sign of a zero); ``sign`` adds +0 to numba's ``numpy.sign``, which keeps the
  sign of a zero where NumPy's gives +0.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.codeprinter import CodePrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import AbstractPythonCodePrinter

from optiforge.runtime.backends import PRECISIONS

from ..host_printer import HostPrinter
from ..literals import fits_int64, nearest_double, python_literal
from ..operation_order import product_factors, sum_terms

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
        return self._literal(str(expr.p) if fits_int64(expr) else python_literal(nearest_double(expr)))

    def _print_Rational(self, expr):
        return self._print_Integer(expr) if expr.q == 1 else self._literal(python_literal(nearest_double(expr)))

    def _print_Float(self, expr):
        return self._literal(python_literal(nearest_double(expr)))

    def _print_NaN(self, expr):
        return self._literal("numpy.nan")

    def _print_Infinity(self, expr):
        return self._literal("numpy.inf")

    def _print_NegativeInfinity(self, expr):
        return self._literal("-numpy.inf")

    def _print_NumberSymbol(self, expr):  # π, e, …
        return self._literal(python_literal(nearest_double(expr)))

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
        if fits_int64(exponent) and exponent.is_negative:  # numba's own x**-n raises at x = 0
            return f"({self._print(sp.S.One)}/{self._print_Pow(sp.Pow(base, -exponent, evaluate=False))})"
        # An integer exponent stays an integer: numba's float32 ** int is float32 (and exact for 2).
        power = str(exponent.p) if fits_int64(exponent) else self._operand(exponent, PRECEDENCE["Pow"])
        return f"{self._operand(base, PRECEDENCE['Pow'], strict=True)}**{power}"

    def _print_Max(self, expr):
        return self._swapped_fold("maximum", expr.args)

    def _print_Min(self, expr):
        return self._swapped_fold("minimum", expr.args)

    def _swapped_fold(self, function: str, args) -> str:
        # numba's numpy.minimum(a, b) is a where a ≤ b, NumPy's is b where a = b (-0.0 for minimum(0.0, -0.0)):
        # with the operands swapped numba's gives NumPy's value, signed zeros and NaN included.
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"numpy.{function}({self._print(arg)}, {text})"
        return text

    def _print_sign(self, expr):
        # numba's numpy.sign keeps the sign of a zero, NumPy's gives +0: adding +0 turns −0 into +0 and leaves
        # ±1 and NaN as they are.
        return f"({self._module_format('numpy.sign')}({self._print(expr.args[0])}) + {self._print(sp.S.Zero)})"

    def _print_Mod(self, expr):
        dividend, divisor = expr.args
        return (f"({self.parenthesize(dividend, PRECEDENCE['Mul'], strict=True)} % "
                f"{self.parenthesize(divisor, PRECEDENCE['Mul'])})")

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
