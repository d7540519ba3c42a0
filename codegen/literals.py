r"""A spec's numbers as the kernels compute with them: the float64 nearest to the exact value, printed so that it
reads back as that double.

A constant of a spec is exact (an ``Integer``, a ``Rational``, a ``Float`` of any precision, π, e); a kernel
computes with :math:`\operatorname{fl}_{64}(c)`, the double nearest to it (ties to even), and a float32 kernel with
:math:`\operatorname{fl}_{32}(\operatorname{fl}_{64}(c))`, as NumPy casts a float64 scalar into a float32 array.
Beyond the float64 range a constant is :math:`\pm\infty`; an integer beyond int64 is a double like any other
number (no backend has a wider integer type).
"""
from __future__ import annotations

from fractions import Fraction

import numpy
import sympy as sp
from mpmath.libmp import finf, fnan, fninf

__all__ = ["INT64_MIN", "INT64_MAX", "fits_int64", "nearest_double", "python_literal", "reads_back",
           "unprintable_infinity"]

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1

#: Digits of a number symbol's (π, e, …) decimal approximation before it is rounded to a double: 40 digits
#: (133 bits) leave a tie between two doubles undecided only for a value within 2⁻¹³³ of it.
_GUARD_DIGITS = 40


def fits_int64(number) -> bool:
    """``number`` is a SymPy integer an int64 holds."""
    return number.is_Integer and INT64_MIN <= number.p <= INT64_MAX


def _ratio(p: int, q: int) -> float:
    """The double nearest to p/q (``q > 0``): Python's int division rounds once; ±inf beyond the range."""
    try:
        return p / q
    except OverflowError:
        return numpy.inf if p > 0 else -numpy.inf


def nearest_double(number: sp.Expr) -> float:
    r"""The double nearest to ``number`` (a SymPy number or a number symbol), ties to even, :math:`\pm\infty`
    beyond the float64 range; NaN for NaN."""
    number = sp.sympify(number)
    if number.is_Rational:
        return _ratio(number.p, number.q)
    if isinstance(number, sp.Float):
        mpf = number._mpf_
        if mpf in (fnan, finf, fninf):
            return {fnan: numpy.nan, finf: numpy.inf, fninf: -numpy.inf}[mpf]
        sign, mantissa, exponent, bits = mpf
        mantissa = -mantissa if sign else mantissa
        if exponent + bits > 1025:  # at least 2**1024: beyond the largest double
            return numpy.inf if mantissa > 0 else -numpy.inf
        if exponent + bits < -1076:  # below half the smallest subnormal: a zero of the sign
            return -0.0 if sign else 0.0
        return _ratio(mantissa << exponent, 1) if exponent >= 0 else _ratio(mantissa, 1 << -exponent)
    if number.is_number and number.is_extended_real:
        if number in (sp.oo, -sp.oo):
            return numpy.inf if number == sp.oo else -numpy.inf
        return nearest_double(sp.Float(number.evalf(_GUARD_DIGITS), _GUARD_DIGITS))
    raise TypeError(f"not a real number: {number!r}")


def unprintable_infinity() -> ValueError:
    """The error of a printer that meets ``zoo``: the spec's validation refuses it (float64 gives +inf, -inf or
    NaN for a division by zero, by the operands' signs, which SymPy's unsigned infinity no longer holds), so one
    in a kernel is SymPy evaluating a value it was to leave as written."""
    return ValueError("zoo (SymPy's unsigned infinity) in a kernel expression: SymPy evaluated a division by zero "
                      "that the kernel must compute as written (float64 would give +inf, -inf or NaN by the signs)")


def python_literal(value: float) -> str:
    """``value`` as Python source that reads back as it: ``repr`` (17 significant digits where needed), and
    ``numpy.inf``/``-numpy.inf``/``numpy.nan``."""
    if numpy.isnan(value):
        return "numpy.nan"
    if numpy.isinf(value):
        return "numpy.inf" if value > 0 else "-numpy.inf"
    return repr(float(value))


def reads_back(text: str, value: float, precision: str) -> bool:
    """A decimal literal ``text`` (C's ``F`` suffix allowed) is ``value`` rounded to ``precision`` ("float32" or
    "float64") once a compiler rounds it to the nearest number of that type: it lies strictly between the midpoints to ``value``'s
    neighbours (±inf: beyond the midpoint to the largest finite number); false for any other text."""
    dtype = numpy.dtype(precision).type
    try:
        exact = Fraction(text.rstrip("Ff"))
    except ValueError:  # not a decimal literal (INFINITY, 1.0F/3.0F)
        return False
    largest = Fraction(float(numpy.finfo(dtype).max))
    beyond = largest + (largest - Fraction(float(numpy.nextafter(numpy.finfo(dtype).max, dtype(0))))) / 2
    with numpy.errstate(over="ignore"):
        value = dtype(value)
    if numpy.isinf(value):
        return exact >= beyond if value > 0 else exact <= -beyond
    if value == 0 and text.lstrip().startswith("-") != bool(numpy.signbit(value)):
        return False

    def midpoint(direction: int) -> Fraction:  # to the neighbour below (-1) or above (1)
        with numpy.errstate(over="ignore"):
            neighbour = numpy.nextafter(value, dtype(direction * numpy.inf))
        if numpy.isinf(neighbour):
            return direction * beyond
        return (Fraction(float(value)) + Fraction(float(neighbour))) / 2
    return midpoint(-1) < exact < midpoint(1)
