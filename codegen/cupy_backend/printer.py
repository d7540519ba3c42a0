r"""C printer for CuPy ``ElementwiseKernel`` bodies: SymPy's C99 printer typed for one arithmetic precision.

Differences from :class:`sympy.printing.c.C99CodePrinter`, each for a reason:

* ``sqrtf``/``0.9F`` for float32 arithmetic, ``sqrt``/``0.9`` for float64 (``type_aliases``);
* :math:`\max(a, b)` and :math:`\min(a, b)` propagate NaN like ``numpy.maximum``/``torch.maximum``
  (C's ``fmaxf`` returns the non-NaN operand, which would hide a NaN gradient);
* :math:`\operatorname{sign}(x)` is NaN for NaN (C99's ``(x > 0) - (x < 0)`` gives 0) and typed;
* ``Piecewise`` prints as one nested ternary expression;
* names CuPy or the kernel template own (``i``, ``n``, ``_*``, the typedefs) are renamed or rejected.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.ast import String, float32, float64, real
from sympy.printing.c import C99CodePrinter
from sympy.printing.precedence import PRECEDENCE

__all__ = ["Cast", "KernelPrinter", "ARITHMETIC_TYPES", "TEMPLATE_NAMES"]

#: arithmetic precision → SymPy type used for literals, math functions and declarations
ARITHMETIC_TYPES = {"float32": float32, "float64": float64}

#: Names the kernel template itself uses: CuPy's loop index ``i`` and size ``n``, the typedefs of the
#: parameter (``T``) and gradient (``G``) storage types, CuPy's half types. A spec symbol with one of
#: these names gets a ``_`` suffix. (The argument names ``param``/``grad`` are checked in ``kernel.py``.)
TEMPLATE_NAMES = frozenset({"i", "n", "T", "G", "float16", "bfloat16"})


class Cast(sp.Expr):
    """``(ctype)(expr)``: an explicit C conversion (loads into and stores from the arithmetic type)."""

    def __new__(cls, expr, ctype: str):
        return sp.Expr.__new__(cls, sp.sympify(expr), String(ctype))

    @property
    def expr(self):
        return self.args[0]

    @property
    def ctype(self) -> str:
        return self.args[1].text


class KernelPrinter(C99CodePrinter):
    """Statements and expressions of an elementwise body in ``precision`` ("float32" or "float64")."""

    def __init__(self, precision: str):
        self.arithmetic_type = ARITHMETIC_TYPES[precision]
        super().__init__({"type_aliases": {real: self.arithmetic_type}, "math_macros": {}})
        self.reserved_words = set(self.reserved_words) | TEMPLATE_NAMES

    def _print_Symbol(self, expr):
        if expr.name.startswith("_"):
            raise ValueError(f"symbol {expr.name!r}: names starting with '_' are reserved by CuPy kernels")
        return super()._print_Symbol(expr)

    def _literal(self, value: int) -> str:
        return self._print(sp.Float(value))

    def _print_Cast(self, expr: Cast) -> str:
        return f"({expr.ctype})({self._print(expr.expr)})"

    def _print_Sqrt(self, expr) -> str:
        return self._print_math_func(expr, known="sqrt")

    def _nan_propagating_fold(self, args, wins: str) -> str:
        # (a <wins> b || a != a) ? a : b  -- picks a when it wins or is NaN, else b (NaN if b is NaN).
        printed = [self.parenthesize(a, PRECEDENCE["Relational"]) for a in args]
        acc = printed[0]
        for operand in printed[1:]:
            acc = f"(({acc} {wins} {operand} || {acc} != {acc}) ? {acc} : {operand})"
        return acc

    def _print_Max(self, expr) -> str:
        return self._nan_propagating_fold(expr.args, ">")

    def _print_Min(self, expr) -> str:
        return self._nan_propagating_fold(expr.args, "<")

    def _print_sign(self, expr) -> str:
        x = self.parenthesize(expr.args[0], PRECEDENCE["Relational"])
        # Zero and NaN fall through to x itself: sign(±0) = ±0, sign(NaN) = NaN.
        return f"({x} > 0 ? {self._literal(1)} : ({x} < 0 ? {self._literal(-1)} : {x}))"

    def _print_NaN(self, expr) -> str:
        # A quiet NaN of the arithmetic type; nanf/nan exist in CUDA device code and in the host C library.
        return 'nanf("")' if self.arithmetic_type == float32 else 'nan("")'

    def _print_Piecewise(self, expr) -> str:
        if expr.args[-1].cond != sp.true:  # no branch applies: NaN, as SymPy and the NumPy backend say
            expr = sp.Piecewise(*expr.args, (sp.nan, True))
        text = self._print(expr.args[-1].expr)
        for value, condition in reversed(expr.args[:-1]):
            text = f"(({self._print(condition)}) ? ({self._print(value)}) : ({text}))"
        return text
