r"""Fix the order of multiplications in the body so that intermediates overflow only where the peers' do:
a host scalar :math:`c` with :math:`|c| \le 1` multiplies one array factor before the others.

torch accumulates the second moment with ``v.mul_(β₂).addcmul_(g, g, value=1 - β₂)``, i.e. :math:`((1-\beta_2)\,g)\,g`.
Evaluated as :math:`(g\,g)(1-\beta_2)`, a gradient with :math:`|g| \approx 2\cdot10^{19}` (float32) already
overflows in :math:`g\,g`, where torch's product is :math:`4\cdot10^{35}`; :math:`v = \infty` then freezes the
element. So, after :func:`~.reduce_powers.reduce_powers` has spelled :math:`g^2` as ``g*g``,

.. math:: c\,(a\,b\cdots) \;\to\; (c\,a)\,b\cdots \qquad \text{when } |c| \le 1 \text{ is proved,}

with ``c a`` kept together as an ``UnevaluatedExpr`` (the NumPy program and the C printer keep its grouping).
The side condition :math:`|c| \le 1` (:class:`~.checked_rewrites.AtMostOne`) is proved from the domains
(:math:`1-\beta_2 \in [2^{-53}, 1]` from :math:`\beta_2 \in [0, 1)`); a scalar that may exceed 1 keeps its
place, since multiplying it first could overflow instead. Multiplication is commutative in IEEE arithmetic, so
only the grouping matters; the meaning is unchanged.

A centred second moment :math:`\sqrt{v - \bar g^2}` (centred RMSprop) is evaluated as

.. math:: \sqrt{v - \bar g\,\bar g} \;\to\; \sqrt{(\sqrt v - |\bar g|)(\sqrt v + |\bar g|)},

which does not form :math:`\bar g^2` (an identity for every :math:`v` and :math:`\bar g`, ±∞ and NaN
included, so it has no side condition, and it overflows and underflows less than the written form): torch
computes ``v.addcmul(ḡ, ḡ, value=-1)`` with a fused multiply-add, so
:math:`v = \infty` with a finite :math:`\bar g` whose square overflows gives :math:`\infty` (the element keeps
its value), where :math:`\infty - \infty` would give NaN. Both sides are real exactly where
:math:`v \ge \bar g^2 \ge 0` and NaN elsewhere.

A moving average of a state :math:`x` with weights that sum to 1 is evaluated as torch's ``lerp`` does:

.. math:: \beta\,x + (1-\beta)\,y \;\to\; x + (1-\beta)\,(y - x),

so an infinite :math:`x` followed by a finite :math:`y` gives NaN, as in torch (``m.lerp_(g, 1 - β₁)``: Adam, RAdam,
NAdam, Adamax; pytorch_optimizer likewise), not :math:`\infty`; it matters where the parameter moves by the
average alone (RAdam's first steps, sign-based updates). Only averages of the gradient (or the decayed
gradient) are rewritten, as torch's moment updates are: it accumulates squares with ``mul_``/``addcmul_``, and
other interpolations keep the form their spec gives them (torch_optimizer's Lookahead computes
:math:`\alpha\theta + (1-\alpha)\phi`). (torch switches to :math:`y - \beta\,(y - x)` for
:math:`1-\beta \ge 1/2`; the first form is kept for every :math:`\beta`, which differs from torch only for
:math:`\beta \le 1/2` with a non-finite :math:`x`.) torch_optimizer's own optimizers average with
``m.mul_(β).add_(g, alpha=1 - β)`` instead (:math:`\infty` stays :math:`\infty`). The spec chooses:
``numerics.averages`` is ``"lerp"`` for the former, ``"as_written"`` (the default) keeps
:math:`\beta\,x + (1-\beta)\,y` (:class:`~specs.dsl.Numerics`).
"""
from __future__ import annotations

import sympy as sp

from sympy.codegen.cfunctions import Sqrt

from optiforge.specs.dsl import GRAD, PARAM
from optiforge.specs.expression_dag import forward_substituted, rebuild_unevaluated, with_args_unevaluated

from ..ir import KernelIR
from .checked_rewrites import AtMostOne, Facts, holds
from .squared_temporaries import VALUE_LIMIT

__all__ = ["evaluation_order"]


def _factors(expr: sp.Basic) -> list[sp.Basic]:
    """The multiplicands of a product, looking through the unevaluated products of ``reduce_powers``."""
    out = []
    for f in sp.Mul.make_args(expr):
        if isinstance(f, sp.UnevaluatedExpr) and isinstance(f.args[0], sp.Mul):
            out += _factors(f.args[0])
        else:
            out.append(f)
    return out


class _Orderer:
    def __init__(self, ir: KernelIR):
        self.facts = Facts(ir)
        self.scalars = self.facts.scalars
        self.states = {s.symbol for s in ir.spec.array_state}
        # Values beyond the limit stay symbols: p + q = 1 is then not recognised, and the average is left as is.
        self.host_values = forward_substituted(ir.host, VALUE_LIMIT)
        self.body = dict(ir.body)
        self.lerp = ir.spec.numerics.averages == "lerp"
        self.addcmul = ir.spec.numerics.squares == "addcmul"

    def is_scalar(self, expr) -> bool:
        return expr.free_symbols <= self.scalars

    def small(self, scalar) -> bool:
        return holds(AtMostOne(scalar), self.facts)

    def visit(self, expr: sp.Basic) -> sp.Basic:
        if expr.is_Atom:
            return expr
        args = [self.visit(a) for a in expr.args]
        if isinstance(expr, sp.Mul):
            ordered = self._order(args)
            if ordered is not None:
                return ordered
        if isinstance(expr, Sqrt):
            factored = self._difference_of_squares(args[0])
            if factored is not None:
                return Sqrt(factored)
        if isinstance(expr, sp.Add) and self.lerp:
            interpolated = self._lerp(args)
            if interpolated is not None:
                return interpolated
        if args == list(expr.args):
            return expr
        # reduce_powers' unevaluated products: rebuilt as written, or SymPy would fold a·a back into a² (and
        # compare the CSE symbols, of unknown sign, in a Min or a condition)
        return with_args_unevaluated(expr, args)

    def _lerp(self, terms) -> sp.Basic | None:
        r""":math:`p\,x + q\,y` with a state :math:`x`, a single array :math:`y` and host weights with
        :math:`p + q = 1` as :math:`x + q\,(y - x)`, or None. A term may be a body symbol holding such a product,
        or skipped when a switch is 0 (:mod:`.skip_zero_terms`): then the average is used only where it is not,
        and the other term alone where it is."""
        if len(terms) != 2:
            return None
        for first, second in (terms, terms[::-1]):
            guard, first_term = self._unguarded(first)
            p, x = self._weighted(first_term)
            q, y = self._weighted(self.body.get(second, second))
            if p is None or q is None or x not in self.states or not self._gradient(y):
                continue
            if sp.expand(p.xreplace(self.host_values) + q.xreplace(self.host_values) - 1) == 0:
                lerp = sp.Add(x, sp.Mul(q, sp.Add(y, -x, evaluate=False), evaluate=False), evaluate=False)
                return lerp if guard is None else sp.Piecewise((second, guard), (lerp, True))
        return None

    def _unguarded(self, term):
        """(condition, term) for a term skipped under a condition (``Piecewise((0, c), (term, True))``), else
        (None, term); a body symbol stands for its value."""
        if isinstance(term, sp.Piecewise) and len(term.args) == 2 and term.args[0][0] == 0 and \
                term.args[1][1] == sp.true:
            return term.args[0][1], self.body.get(term.args[1][0], term.args[1][0])
        return None, self.body.get(term, term)

    def _gradient(self, y) -> bool:
        """Whether ``y`` is the gradient, or a body symbol holding the gradient plus other terms (the decayed
        gradient g + λθ): what torch's moment updates ``lerp`` towards."""
        return y == GRAD or (y in self.body and GRAD in sp.Add.make_args(self.body[y]))

    def _weighted(self, term):
        """(host weight, array operand) of a term ``weight*operand``, or (None, None)."""
        if not isinstance(term, sp.Mul):
            return None, None
        scalar = [a for a in term.args if self.is_scalar(a)]
        rest = [a for a in term.args if not self.is_scalar(a)]
        if len(rest) != 1 or not scalar:
            return None, None
        return sp.Mul(*scalar), rest[0]

    def _difference_of_squares(self, radicand) -> sp.Basic | None:
        r""":math:`a - b\,b` (array a and b, as reduce_powers spells the square) as
        :math:`(\sqrt a - |b|)(\sqrt a + |b|)`, or None."""
        if not isinstance(radicand, sp.Add) or len(radicand.args) != 2:
            return None
        for a, square in (radicand.args, radicand.args[::-1]):
            coefficient, rest = square.as_coeff_Mul()
            if coefficient != -1 or not isinstance(rest, sp.UnevaluatedExpr) or self.is_scalar(a):
                continue
            factors = _factors(rest)
            if len(factors) == 2 and factors[0] == factors[1] and not self.is_scalar(factors[0]):
                root, magnitude = Sqrt(a), sp.Abs(factors[0])
                return sp.Mul(root - magnitude, root + magnitude, evaluate=False)
        return None

    def _order(self, args) -> sp.Basic | None:
        scalar = [a for a in args if self.is_scalar(a)]
        rest = [a for a in args if not self.is_scalar(a)]
        if not scalar or len(rest) != 1 or not isinstance(rest[0], sp.UnevaluatedExpr):
            # c·a·b with a, b separate Mul arguments never occurs after reduce_powers (SymPy would have written
            # a·a as a²); what matters are the products it spelled out.
            return None
        factors = _factors(rest[0])
        multiplicands = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
        c = sp.Mul(*scalar)
        if len(multiplicands) < 2 or c in (1, -1):  # a sign cannot overflow
            return None
        # A scalar that may exceed 1 keeps its place (multiplied first it could overflow instead), except in a
        # square c·a·a with numerics.squares == "addcmul": addcmul_(a, a, value=c) computes (c·a)·a whatever c.
        addcmul = self.addcmul and len(multiplicands) == 2 and multiplicands[0] == multiplicands[1]
        if not (self.small(c) or addcmul):
            return None
        first = multiplicands[0]
        others = list(factors)
        others.remove(first)
        grouped = sp.UnevaluatedExpr(sp.Mul(c, first))
        return sp.Mul(grouped, *others, evaluate=False)


def evaluation_order(ir: KernelIR) -> KernelIR:
    """Group each proved-small host scalar with the first factor of the product it multiplies; factor centred
    second moments under a square root; write moving averages as torch's lerp (where ``numerics`` says so)."""
    orderer = _Orderer(ir)
    theta_new = dict(ir.array_outputs)[PARAM.name]
    body = tuple((symbol, _onto_parameter(orderer.visit(expr)) if symbol == theta_new else orderer.visit(expr))
                 for symbol, expr in ir.body)
    return ir.with_(body=_shared(body, {symbol for _, symbol in ir.array_outputs}))


def _onto_parameter(expr: sp.Basic) -> sp.Basic:
    r""":math:`\theta + t_1 + t_2 + \cdots` as :math:`((\theta + t_1) + t_2) + \cdots`, one term at a time onto the
    parameter as the peers' ``p.add_`` calls do (torch_optimizer's AggMo subtracts each velocity on its own: summed
    first, huge ones overflow), in one grouping for every backend (a printer may order a flat sum its own way)."""
    if not isinstance(expr, sp.Add) or PARAM not in expr.args or len(expr.args) < 3:
        return expr
    acc = PARAM
    for term in expr.args:
        if term != PARAM:
            acc = sp.Add(sp.UnevaluatedExpr(acc) if isinstance(acc, sp.Add) else acc, term, evaluate=False)
    return acc


def _shared(body, outputs: set) -> tuple:
    """``body`` with an expression that an earlier symbol already holds read from that symbol (a rewritten
    average used twice), and without the symbols nothing reads any more (a term a rewrite absorbed)."""
    defined: dict = {}
    out = []
    for symbol, expr in body:
        expr = rebuild_unevaluated(expr, lambda node, args: defined.get(node)) if defined else expr
        if not expr.is_Atom:
            defined.setdefault(expr, symbol)
        out.append((symbol, expr))
    while True:
        read = set().union(*(e.free_symbols for _, e in out))
        kept = [(s, e) for s, e in out if s in outputs or s in read]
        if len(kept) == len(out):
            return tuple(kept)
        out = kept
