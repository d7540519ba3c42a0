"""The NumPy backend's body printer: ufunc calls (the host prologue prints with :mod:`codegen.host_printer`)."""
from __future__ import annotations

import sympy as sp

from ..host_printer import FloatNumPyPrinter
from .program import Call

__all__ = ["UfuncPrinter"]


class UfuncPrinter(FloatNumPyPrinter):
    """``numpy.<ufunc>(a, b, out=buf)`` statements for a :class:`~.program.Call`."""

    def __init__(self, host_booleans: set[sp.Symbol], names: dict | None = None):
        super().__init__(names)
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
