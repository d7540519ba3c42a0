r"""C printer for CuPy ``ElementwiseKernel`` bodies: SymPy's C99 printer typed for one arithmetic precision.

Differences from :class:`sympy.printing.c.C99CodePrinter`, each for a reason:

* ``sqrtf``/``0.9F`` for float32 arithmetic, ``sqrt``/``0.9`` for float64 (``type_aliases``);
* :math:`\max(a, b)` and :math:`\min(a, b)` propagate NaN like ``numpy.maximum``/``torch.maximum``
  (C's ``fmaxf`` returns the non-NaN operand, which would hide a NaN gradient);
* :math:`\operatorname{sign}(x)` is NaN for NaN (C99's ``(x > 0) - (x < 0)`` gives 0), +0 for ±0 (as
  ``numpy.sign``) and typed;
* ``Piecewise`` prints as one nested ternary expression; ``Heaviside`` is NaN for NaN, like NumPy's;
  ``Xor`` is ``!=`` of truth values (SymPy's C printer expands it, with flipped comparisons);
* :class:`Remainder` is C's ``fmod`` (the sign of the dividend); ``kernel.py`` builds NumPy's ``mod``
  (the sign of the divisor) from it;
* a number is a literal of the arithmetic type holding the double nearest to it (:mod:`codegen.literals`),
  rounded to float32 in a float32 kernel, as NumPy casts a float64 scalar: SymPy's literal where it reads back
  as that value, else the shortest one that does (SymPy writes an integer beyond int64 as a C integer, which
  the compiler truncates, and a float32 literal with 9 digits of the exact value); a rational whose numerator
  and denominator the type holds exactly stays ``p.0/q.0`` (one rounding of the exact quotient), any other is
  one literal (``1.0e30F/1.3e60F`` would divide by an overflowed inf);
* number symbols (π, e) are literals of the arithmetic type; ``Abs`` is always ``fabs`` and a cube root
  is ``pow`` (NaN for a negative base, as NumPy says), never C's integer ``abs`` or ``cbrt``;
* names are printed through ``c_names`` (``kernel.py`` maps every symbol to a unique C identifier: ASCII,
  no C/C++ keyword, math function or name the kernel template owns — ``i``, ``n``, the typedefs);
  a name starting with ``_`` is rejected (CuPy's own);
* a product divides by its divisors after every other factor has multiplied, as NumPy's does: SymPy's printer
  takes :math:`x^{-1}` for a divisor only where it knows that :math:`x` commutes (not for an
  ``UnevaluatedExpr``), and printed ``m*1.0F/(nu + fabsf(z))*(floorf(m) - 1)``, which divides before the
  last multiply (finite in float32 where NumPy's :math:`m(\lfloor m\rfloor - 1)` overflows); a product with a
  divisor prints ``a/b``, not SymPy's ``a*1.0F/b`` (``(a*1)/b`` is ``a/b`` exactly in IEEE arithmetic);
* an ``UnevaluatedExpr`` holding a sum that prints with a leading ``-`` (a grouping fixed by
  :mod:`codegen.passes.evaluation_order`) prints in parentheses: SymPy's sum printer takes the leading ``-`` of
  a term's text for the term's sign, so :math:`s + (-g/10 + \theta)` would print as ``s - (g/10 + theta)``.

Operands that a printed form repeats (``Max``, ``Min``, ``sign``, ``Heaviside``) must be atoms, so the
text stays linear in the expression: ``kernel.py`` names them first.
"""
from __future__ import annotations

import re

import numpy
import sympy as sp
from sympy.codegen.ast import String, float32, float64, real
from sympy.printing.c import C99CodePrinter
from sympy.printing.precedence import PRECEDENCE

from ..literals import fits_int64, nearest_double, reads_back, unprintable_infinity

__all__ = ["Cast", "KernelPrinter", "Remainder", "ZeroSignedLike", "ARITHMETIC_TYPES", "TEMPLATE_NAMES", "C_RESERVED"]

#: arithmetic precision → SymPy type used for literals, math functions and declarations
ARITHMETIC_TYPES = {"float32": float32, "float64": float64}

#: Names the kernel template itself uses: CuPy's loop index ``i`` and size ``n``, the typedefs of the
#: parameter (``T``) and gradient (``G``) storage types, CuPy's half types. A spec symbol with one of
#: these names gets a ``_`` suffix. (The argument names ``param``/``grad`` are checked in ``kernel.py``.)
TEMPLATE_NAMES = frozenset({"i", "n", "T", "G", "float16", "bfloat16"})

#: Identifiers a kernel variable must not take: C++ keywords and alternative tokens, CUDA built-in
#: variables, the math functions and macros the printed code or CUDA headers define, CuPy's types.
C_RESERVED = TEMPLATE_NAMES | frozenset("""
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t
    class co_await co_return co_yield compl concept const const_cast consteval constexpr constinit continue
    decltype default delete do double dynamic_cast else enum explicit export extern false float for friend
    goto if inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private
    protected public register reinterpret_cast requires restrict return short signed sizeof static
    static_assert static_cast struct switch template this thread_local throw true try typedef typeid
    typename union unsigned using virtual void volatile wchar_t while xor xor_eq entry
    threadIdx blockIdx blockDim gridDim warpSize std
    sqrt sqrtf fabs fabsf exp expf log logf tanh tanhf pow powf floor floorf ceil ceilf fmod fmodf nan nanf
    sin sinf cos cosf tan tanf asin asinf acos acosf atan atanf sinh sinhf cosh coshf asinh asinhf acosh acoshf
    atanh atanhf log1p log1pf expm1 expm1f
    isnan isinf isfinite signbit copysign fmax fmin abs min max NAN INFINITY HUGE_VAL HUGE_VALF M_PI M_E
    half float32 float64 float16 int8 int16 int32 int64 uint8 uint16 uint32 uint64 complex64 complex128
    CArray CIndexer CUPY_FOR size_t ptrdiff_t
""".split())


#: ``*1.0F/`` or ``*1.0/``: SymPy's C printer writes the reciprocal of a divisor it keeps whole as ``1.0F/b``.
_TIMES_ONE_OVER = re.compile(r"\*1\.0F?/")


class Remainder(sp.Function):
    r"""C's ``fmod(a, b)``: :math:`a - b\,\mathrm{trunc}(a/b)`, exact, with the sign of ``a``."""

    nargs = 2
    is_real = True


class ZeroSignedLike(sp.Function):
    r"""A zero with the sign of its argument: :math:`-0` where it is negative, else :math:`+0` (the value of
    NumPy's ``mod`` whose remainder is zero)."""

    nargs = 1
    is_real = True


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

    def __init__(self, precision: str, c_names: dict | None = None):
        self.arithmetic_type = ARITHMETIC_TYPES[precision]
        super().__init__({"type_aliases": {real: self.arithmetic_type}, "math_macros": {}})
        self.reserved_words = set(self.reserved_words) | C_RESERVED
        self.c_names = c_names or {}

    def _print_Symbol(self, expr):
        if expr.name.startswith("_"):
            raise ValueError(f"symbol {expr.name!r}: names starting with '_' are reserved by CuPy kernels")
        if expr in self.c_names:
            return self.c_names[expr]
        return super()._print_Symbol(expr)

    def _print_Mul(self, expr) -> str:
        # C's * and / are left-associative and of one precedence: a*1.0F/b is (a*1.0F)/b, which is a/b.
        divisors = [f for f in expr.args if f.is_Pow and f.exp.is_Number and f.exp.is_negative]
        if all(f.is_commutative for f in divisors):  # SymPy's printer divides last
            return _TIMES_ONE_OVER.sub("/", super()._print_Mul(expr))
        others = sp.Mul(*[f for f in expr.args if f not in divisors], evaluate=False)
        text = self.parenthesize(others, PRECEDENCE["Mul"]) if others.is_Add else self._print(others)
        divisors = [f.base if f.exp == -1 else sp.Pow(f.base, -f.exp, evaluate=False) for f in divisors]
        if len(divisors) == 1:
            return f"{text}/{self.parenthesize(divisors[0], PRECEDENCE['Mul'], strict=False)}"
        return f"{text}/({'*'.join(self.parenthesize(d, PRECEDENCE['Mul']) for d in divisors)})"

    def _print_UnevaluatedExpr(self, expr) -> str:
        inner = self._print(expr.args[0])
        return f"({inner})" if isinstance(expr.args[0], sp.Add) and inner.startswith("-") else inner

    # -- numbers: the double nearest to each, as a literal of the arithmetic type

    def _number(self, value: float, text: str | None = None) -> str:
        """``value`` (a double) as a literal of the arithmetic type: ``text`` (SymPy's) where it reads back as the
        value rounded to that type, else the shortest literal that does."""
        precision = "float32" if self.arithmetic_type == float32 else "float64"
        if text is not None and reads_back(text, value, precision):
            return text
        if numpy.isnan(value):
            return self._print_NaN(sp.nan)
        with numpy.errstate(over="ignore"):
            rounded = numpy.float32(value) if precision == "float32" else numpy.float64(value)
        if numpy.isinf(rounded):
            return "INFINITY" if rounded > 0 else "-INFINITY"
        return f"{str(rounded)}F" if precision == "float32" else repr(float(rounded))

    def _print_Float(self, expr) -> str:
        return self._number(nearest_double(expr), super()._print_Float(expr))

    def _print_Integer(self, expr) -> str:
        return super()._print_Integer(expr) if fits_int64(expr) else self._number(nearest_double(expr))

    def _print_Rational(self, expr) -> str:
        exact = 2 ** (24 if self.arithmetic_type == float32 else 53)
        if abs(expr.p) <= exact and expr.q <= exact:
            return super()._print_Rational(expr)
        return self._number(nearest_double(expr))

    def _print_NumberSymbol(self, expr) -> str:
        return self._number(nearest_double(expr))

    def _print_ComplexInfinity(self, expr) -> str:
        raise unprintable_infinity()

    _print_Pi = _print_Exp1 = _print_GoldenRatio = _print_EulerGamma = _print_Catalan = _print_NumberSymbol

    def _print_Abs(self, expr) -> str:
        # SymPy prints abs() for an integer-valued argument (floor(x), an integer hyperparameter): that is
        # C's int abs, which would truncate the double holding it.
        return self._print_math_func(expr, known="fabs")

    def _print_Pow(self, expr) -> str:
        if expr.exp == sp.Rational(1, 3):  # not cbrt: NumPy's power gives NaN for a negative base
            return self._print_math_func(sp.Function("pow")(expr.base, expr.exp), known="pow")
        return super()._print_Pow(expr)

    def _print_Remainder(self, expr) -> str:
        return self._print_math_func(expr, known="fmod")

    def _print_ZeroSignedLike(self, expr) -> str:
        x = self.parenthesize(expr.args[0], PRECEDENCE["Relational"])
        return f"({x} < 0 ? -{self._literal(0)} : {self._literal(0)})"

    def _print_Xor(self, expr) -> str:
        printed = [f"(bool)({self._print(a)})" for a in expr.args]
        text = printed[0]
        for operand in printed[1:]:
            text = f"({text} != {operand})"
        return text

    def _print_ITE(self, expr) -> str:
        # SymPy's printer rewrites ITE as a Piecewise of truth values, which SymPy's logic refuses to build
        condition, then, otherwise = (self._print(a) for a in expr.args)
        return f"(({condition}) ? ({then}) : ({otherwise}))"

    def _print_Heaviside(self, expr) -> str:
        x = self.parenthesize(expr.args[0], PRECEDENCE["Relational"])
        half = self._print(expr.args[1]) if len(expr.args) > 1 else self._print(sp.Rational(1, 2))
        # NaN fails every comparison and falls through to x itself, as numpy.heaviside gives NaN.
        return (f"({x} < 0 ? {self._literal(0)} : ({x} == 0 ? ({half}) : ({x} > 0 ? {self._literal(1)} : {x})))")

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
        # Zero and NaN fall through to x + 0: sign(±0) = +0 as numpy.sign says (−0 + 0 is +0), sign(NaN) = NaN.
        return f"({x} > 0 ? {self._literal(1)} : ({x} < 0 ? {self._literal(-1)} : {x} + {self._literal(0)}))"

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
