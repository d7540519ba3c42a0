r"""The JAX backend's printers: the host prologue and the elementwise body as ``jnp`` expressions.

Both are the shared printers with ``jnp`` for ``numpy`` and these differences, each for a reason:

* a ``Piecewise`` (and an ``ITE``) is ``jnp.where``, not a Python conditional: its condition is a traced
  scalar or array, which Python's ``if`` cannot read (both arms are computed; ``where`` picks one, so a NaN in
  the arm not taken does not leak);
* ``and``/``or``/``not`` are ``jnp.logical_and``/``logical_or``/``logical_not`` (Python's need a truth value);
* literals of the body stay Python numbers, which JAX types weakly: ``0.5*m`` keeps ``m``'s dtype (an integer
  beyond int32 prints as a float, which JAX would otherwise refuse);
* the body evaluates sums and products in the NumPy backend's order (the numba printer's
  :class:`~optiforge.codegen.numba_backend.printer.LoopPrinter`, which this extends).
"""
from __future__ import annotations

import sympy as sp

from ..host_printer import HostPrinter
from ..numba_backend.printer import LoopPrinter

__all__ = ["JaxHostPrinter", "JaxBodyPrinter"]

_INT32 = 2**31 - 1


class _JaxFunctions:
    """What both JAX printers print differently from their NumPy parents."""

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return "jnp." + text[len("numpy."):] if text.startswith("numpy.") else text

    def _nested(self, function: str, args) -> str:
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"jnp.{function}({text}, {self._print(arg)})"
        return text

    def _print_Max(self, expr):  # NaN-propagating, like numpy.maximum
        return self._nested("maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("minimum", expr.args)

    def _print_NaN(self, expr):
        return "jnp.nan"

    def _print_Infinity(self, expr):
        return "jnp.inf"

    def _print_NegativeInfinity(self, expr):
        return "-jnp.inf"

    def _print_Heaviside(self, expr):  # NaN → NaN, as numpy.heaviside
        at_zero = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"jnp.heaviside({self._print(expr.args[0])}, {at_zero})"

    def _print_Piecewise(self, expr):
        pieces = list(expr.args)
        text = self._print(sp.nan) if pieces[-1].cond != sp.true else self._print(pieces.pop().expr)
        for value, condition in reversed(pieces):
            text = f"jnp.where({self._print(condition)}, {self._print(value)}, {text})"
        return text

    def _print_ITE(self, expr):
        condition, then, otherwise = (self._print(a) for a in expr.args)
        return f"jnp.where({condition}, {then}, {otherwise})"

    def _logic(self, function: str, args) -> str:
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"jnp.{function}({text}, {self._print(arg)})"
        return text

    def _print_And(self, expr):
        return self._logic("logical_and", expr.args)

    def _print_Or(self, expr):
        return self._logic("logical_or", expr.args)

    def _print_Not(self, expr):
        return f"jnp.logical_not({self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"


class JaxHostPrinter(_JaxFunctions, HostPrinter):
    """Per-step scalars as traced ``jnp`` scalars of the host dtype (float64 under ``jax_enable_x64``)."""


class JaxBodyPrinter(_JaxFunctions, LoopPrinter):
    """The elementwise body on arrays of the compute dtype, in the NumPy backend's operation order."""

    def __init__(self, body_symbols=(), names: dict | None = None):
        super().__init__("float64", body_symbols, names)  # "float64": literals as exact Python floats

    def _print_Integer(self, expr):
        return str(expr.p) if abs(expr.p) <= _INT32 else repr(float(expr.p))

    def _print_Pow(self, expr, rational=False):
        if expr.exp == sp.S.Half:
            return f"jnp.sqrt({self._print(expr.base)})"
        return super()._print_Pow(expr, rational)
