r"""Skip a term whose switch hyperparameter is 0, as the peers do, so that a non-finite array does not turn
:math:`0\cdot\infty` into NaN.

torch guards optional terms with the hyperparameter: ``if weight_decay != 0: grad = grad.add(param,
alpha=weight_decay)``, ``if momentum > 0: buf.mul_(momentum)…`` (pytorch_optimizer and torch_optimizer alike).
With :math:`\lambda = 0` and :math:`\theta = \infty` the guarded update keeps :math:`g`, where
:math:`g + \lambda\theta` gives NaN. This pass rewrites every term :math:`\lambda X` of a sum, with :math:`\lambda`
a *switch* and :math:`X` reading an array, as

.. math:: \lambda X \;\to\; \begin{cases} 0 & \lambda = 0 \\ \lambda X & \text{otherwise,} \end{cases}

the same value wherever :math:`X` is finite (so :meth:`~codegen.ir.KernelIR.meaning` is unchanged); the condition
is a host boolean after :func:`~.hoist_scalars.hoist_scalars`. Inside a branch of a ``Piecewise`` that already
excludes :math:`\lambda = 0` (torch SGD's ``momentum = 0 ∨ t = 1``), the term is left alone.

Switches are the hyperparameters named ``weight_decay`` or ``momentum`` (also with a prefix such as the
combinators' ``wd_weight_decay``) whose domain contains 0: the names every peer guards. Other factors are not
switches: torch computes ``lerp(m, g, 1 − β₁)`` with :math:`\beta_1 = 0` as :math:`g - 0\cdot(g - m)`, NaN for an
infinite :math:`m`, and so does :math:`\beta_1 m + (1 - \beta_1)g`.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import free_symbols, walk

from ..ir import KernelIR, piecewise, with_new_args

__all__ = ["skip_zero_terms", "SWITCH_NAMES", "switches", "switch_cases"]

#: names (or name endings after ``_``) of the hyperparameters whose zero disables the terms they multiply
SWITCH_NAMES = ("weight_decay", "momentum")


def switches(spec) -> set[sp.Symbol]:
    """The switch hyperparameters of ``spec``: named in :data:`SWITCH_NAMES`, with 0 in their domain."""
    return {h.symbol for h in spec.hyperparameters
            if any(h.name == n or h.name.endswith("_" + n) for n in SWITCH_NAMES) and h.domain.contains(0) == sp.true}


def switch_cases(spec) -> list[dict]:
    """Substitutions covering every case of the switches: each one 0 or a positive symbol (then ``Eq(s, 0)``
    is False). A guarded expression equals the unguarded one in every case; SymPy proves each case alone
    where the Piecewise as a whole defeats ``simplify``."""
    cases = [{}]
    for s in sorted(switches(spec), key=sp.default_sort_key):
        cases = [{**c, s: value} for c in cases for value in (sp.S.Zero, sp.Dummy(s.name, positive=True))]
    return cases if len(cases) > 1 else []


def _excluded_zeros(condition: sp.Basic, candidates: set[sp.Symbol]) -> set[sp.Symbol]:
    """Switches ``s`` for which ``condition`` is implied by ``s = 0``: the branches after it have ``s != 0``."""
    terms = sp.Or.make_args(condition)
    return {s for s in candidates if sp.Eq(s, 0) in terms}


class _Skipper:
    def __init__(self, ir: KernelIR):
        self.switches = switches(ir.spec)
        self.arrays = set(ir.array_inputs) | {symbol for symbol, _ in ir.body}
        self.visited: dict = {}

    def visit(self, expr: sp.Basic, nonzero: frozenset) -> sp.Basic:
        """``expr`` with its switch terms guarded, given the switches known nonzero where it is evaluated."""
        if not self.switches:
            return expr
        return walk((expr, nonzero), self._visit, self.visited)

    def _visit(self, key):
        """A :func:`~optiforge.specs.expression_dag.walk` visit of ``(expr, nonzero)``."""
        expr, nonzero = key
        if expr.is_Atom:
            return expr
        if isinstance(expr, sp.Piecewise):
            pieces, known = [], nonzero
            for value, condition in expr.args:
                pieces.append(((yield (value, known)), condition))
                known = known | _excluded_zeros(condition, self.switches)
            return piecewise(expr, pieces)
        args = []
        for a in expr.args:
            args.append((yield (a, nonzero)))
        if isinstance(expr, sp.Add):
            return sp.Add(*[self._guard(term, nonzero) for term in args])
        return with_new_args(expr, args)

    def _guard(self, term: sp.Basic, nonzero: frozenset) -> sp.Basic:
        factors = sp.Mul.make_args(term)
        guards = sorted({f for f in factors if f in self.switches and f not in nonzero}, key=sp.default_sort_key)
        if not guards or not free_symbols(term) & self.arrays:
            return term
        zero = sp.Or(*[sp.Eq(s, 0) for s in guards])
        return sp.Piecewise((sp.S.Zero, zero), (term, True))


def skip_zero_terms(ir: KernelIR) -> KernelIR:
    """Guard every array term multiplied by a switch hyperparameter with ``switch = 0 → 0``."""
    skipper = _Skipper(ir)
    body = tuple((symbol, skipper.visit(expr, frozenset())) for symbol, expr in ir.body)
    return ir.with_(body=body)
