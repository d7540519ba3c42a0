r"""Hoist per-step scalars out of the elementwise body into the host prologue.

Every maximal subexpression that reads only hyperparameters, ``t`` and scalar state is computed once per
step on the host (in float64) and replaced by a symbol ``c0, c1, …``. Scalar factors and terms of a
product or sum are gathered first, so

.. math:: \theta - \frac{\eta\, m}{1-\beta_1^t} \;\to\; \theta + c_0 m, \qquad c_0 = -\frac{\eta}{1-\beta_1^t}

and ``pow(beta1, t)`` is never evaluated per element. Conditions of ``Piecewise`` that depend on the step
only (``t = 1``, :math:`\rho_t > 5`) become host booleans.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import reads_only, walk

from ..ir import KernelIR, piecewise, with_new_args
from ..names import fresh_symbols

__all__ = ["hoist_scalars"]


class _Hoister:
    def __init__(self, ir: KernelIR):
        self.scalars = set(ir.host_inputs) | {s for s, _ in ir.host}
        self.names = fresh_symbols("c", ir)
        self.hoisted: dict[sp.Basic, sp.Symbol] = {}
        self.host: list[tuple[sp.Symbol, sp.Basic]] = []
        self.visited: dict[sp.Basic, sp.Basic] = {}
        self._scalar: dict[sp.Basic, bool] = {}

    def is_scalar(self, expr: sp.Basic) -> bool:
        """Reads only hyperparameters, ``t``, scalar state and host symbols (memoised bottom up)."""
        return reads_only(expr, self.scalars, self._scalar)

    def name(self, expr: sp.Basic) -> sp.Basic:
        if expr.is_Atom:
            return expr
        if expr not in self.hoisted:
            symbol = next(self.names)
            if not isinstance(expr, sp.logic.boolalg.Boolean):
                symbol = sp.Symbol(symbol.name, real=True)
            self.hoisted[expr] = symbol
            self.host.append((symbol, expr))
        return self.hoisted[expr]

    def visit(self, expr: sp.Basic) -> sp.Basic:
        return walk(expr, self._visit, self.visited)

    def _visit(self, expr: sp.Basic):
        """A :func:`~optiforge.specs.expression_dag.walk` visit: yields the subexpressions it rewrites."""
        if expr.is_Atom:
            return expr
        if self.is_scalar(expr):
            return self.name(expr)
        if isinstance(expr, (sp.Add, sp.Mul)):
            scalar = [a for a in expr.args if self.is_scalar(a)]
            rest = []
            for a in expr.args:
                if not self.is_scalar(a):
                    rest.append((yield a))
            if scalar:
                combined = expr.func(*scalar)
                # A bare number or symbol needs no host work; anything else is named once.
                rest.insert(0, combined if combined.is_Atom or (combined.is_Number) else self.name(combined))
            return expr.func(*rest)
        if isinstance(expr, sp.Piecewise):  # (SymPy merges its nested branches: the kernels' select structure)
            pieces = []
            for value, condition in expr.args:
                pieces.append(((yield value), (yield condition)))
            return piecewise(expr, pieces)
        args = []
        for a in expr.args:
            args.append((yield a))
        # (rebuilt as lowering builds: no SymPy rule re-evaluates a function of the hoisted names)
        return with_new_args(expr, args)


def hoist_scalars(ir: KernelIR) -> KernelIR:
    """Move scalar-only subexpressions of the body into ``ir.host``."""
    hoister = _Hoister(ir)
    body = tuple((symbol, hoister.visit(expr)) for symbol, expr in ir.body)
    return ir.with_(host=ir.host + tuple(hoister.host), body=body)
