r"""The kernel IR: a spec lowered to a host prologue and an elementwise body, both in SSA form.

``lower(spec)`` forward-substitutes the spec's sequential assignments into one expression per output
(:math:`\theta_t` and every state variable) and applies the initial-value rules. Passes in
:mod:`codegen.passes` then move work between the two parts and share subexpressions; every pass keeps
:meth:`KernelIR.meaning` unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from optiforge.specs.dsl import GRAD, PARAM, STEP, OptimizerSpec

__all__ = ["KernelIR", "lower", "output_symbol", "plain_sympy"]


def plain_sympy(expr: sp.Basic) -> sp.Basic:
    """``expr`` with codegen-only nodes (``sympy.codegen.cfunctions.Sqrt``, unevaluated products) turned
    back into ordinary SymPy, so that its meaning can be compared and evaluated."""
    from sympy.codegen.cfunctions import Sqrt

    return expr.replace(Sqrt, sp.sqrt).doit() if expr.has(Sqrt, sp.UnevaluatedExpr) else expr


def output_symbol(name: str) -> sp.Symbol:
    """The SSA name of the new value of ``name`` (``m`` → ``m_new``)."""
    return sp.Symbol(f"{name}_new", real=True)


@dataclass(frozen=True)
class KernelIR:
    r"""One optimizer step.

    * ``host``: ``(symbol, expr)`` pairs computed once per step in float64, in order; expressions read
      hyperparameters, ``t``, scalar state and earlier host symbols.
    * ``body``: ``(symbol, expr)`` pairs evaluated per element, in order; expressions read the arrays
      (``theta``, ``g``, old array state), host symbols and earlier body symbols.
    * ``array_outputs``: state name (``"theta"`` for the parameter) → body symbol holding its new value.
    * ``scalar_outputs``: scalar-state name → host symbol holding its new value.
    """

    spec: OptimizerSpec
    host: tuple[tuple[sp.Symbol, sp.Expr], ...]
    body: tuple[tuple[sp.Symbol, sp.Expr], ...]
    array_outputs: tuple[tuple[str, sp.Symbol], ...]
    scalar_outputs: tuple[tuple[str, sp.Symbol], ...]

    @property
    def array_inputs(self) -> tuple[sp.Symbol, ...]:
        return (PARAM, GRAD) + tuple(s.symbol for s in self.spec.array_state)

    @property
    def host_inputs(self) -> tuple[sp.Symbol, ...]:
        return (STEP,) + tuple(h.symbol for h in self.spec.hyperparameters) + tuple(
            s.symbol for s in self.spec.scalar_state)

    def with_(self, **changes) -> "KernelIR":
        return replace(self, **changes)

    def meaning(self) -> dict[str, sp.Expr]:
        """Every output as one expression of the inputs (all intermediate symbols substituted)."""
        values: dict[sp.Symbol, sp.Expr] = {}
        for symbol, expr in self.host + self.body:
            values[symbol] = plain_sympy(expr).xreplace(values)
        outputs = dict(self.array_outputs) | dict(self.scalar_outputs)
        return {name: values[symbol] for name, symbol in outputs.items()}

    def host_booleans(self) -> set[sp.Symbol]:
        """Host symbols holding a truth value. A bare Symbol is a SymPy ``Boolean`` too, so an alias
        ``c3 = h0`` is a truth value only when what it names is one."""
        booleans: set[sp.Symbol] = set()
        for symbol, expr in self.host:
            if expr in booleans or (isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Symbol)):
                booleans.add(symbol)
        return booleans



def _first_step_rules(spec: OptimizerSpec) -> dict[sp.Symbol, sp.Expr]:
    """Reads of state whose initial value is data-dependent, as a selection on ``t = 1``."""
    rules = {}
    for s in spec.array_state:
        if s.init == GRAD:
            rules[s.symbol] = sp.Piecewise((GRAD, sp.Eq(STEP, 1)), (s.symbol, True))
    return rules


def lower(spec: OptimizerSpec) -> KernelIR:
    """The unoptimised IR: one body assignment per array output, one host assignment per scalar output."""
    first_step = _first_step_rules(spec)
    step_map = {k: v.xreplace(first_step) for k, v in spec.step_map().items()}
    host, scalar_outputs = [], []
    for s in spec.scalar_state:
        host.append((output_symbol(s.name), step_map[s.symbol]))
        scalar_outputs.append((s.name, output_symbol(s.name)))
    # Array outputs may read the *new* scalar state: substitute the host symbol so it is computed once.
    new_scalars = {step_map[s.symbol]: output_symbol(s.name) for s in spec.scalar_state
                   if step_map[s.symbol] != s.symbol}
    body, array_outputs = [], []
    for symbol in (PARAM,) + tuple(s.symbol for s in spec.array_state):
        body.append((output_symbol(symbol.name), step_map[symbol].subs(new_scalars)))
        array_outputs.append((symbol.name, output_symbol(symbol.name)))
    return KernelIR(spec, tuple(host), tuple(body), tuple(array_outputs), tuple(scalar_outputs))
