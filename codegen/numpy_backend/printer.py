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

    def calls(self, calls) -> list[str]:
        """The lines of a program's calls; a selection on a host boolean whose operands have calls of their own
        (``Call.arms``) becomes ``if``/``else``, each arm computing only its operand."""
        items: list[tuple[list[str], int]] = []  # (lines, how many calls they print)

        def take(count: int) -> list[str]:
            taken: list[str] = []
            while count:
                lines, n = items.pop()
                taken[:0] = lines
                count -= n
            return taken
        for call in calls:
            then_count, else_count = call.arms
            if then_count or else_count:
                otherwise = take(else_count)
                items.append((self._branches(call, take(then_count), otherwise), then_count + else_count + 1))
            else:
                items.append((self.call(call), 1))
        return [line for lines, _ in items for line in lines]

    def _branches(self, call: Call, then: list[str], otherwise: list[str]) -> list[str]:
        condition, first, second = (self._print(a) for a in call.args)
        out = self._print(call.out)
        then = then + ([f"numpy.copyto({out}, {first})"] if first != out else [])
        otherwise = otherwise + ([f"numpy.copyto({out}, {second})"] if second != out else [])
        if not then:
            return [f"if not {condition}:", *("    " + line for line in otherwise)]
        lines = [f"if {condition}:", *("    " + line for line in then)]
        return lines + (["else:", *("    " + line for line in otherwise)] if otherwise else [])

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
