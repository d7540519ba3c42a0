r"""Fix the order of multiplications in the body so that intermediates overflow only where the peers' do:
a host scalar :math:`c` with :math:`|c| \le 1` multiplies one array factor before the others.

torch accumulates the second moment with ``v.mul_(β₂).addcmul_(g, g, value=1 - β₂)``, i.e. :math:`((1-\beta_2)\,g)\,g`.
Evaluated as :math:`(g\,g)(1-\beta_2)`, a gradient with :math:`|g| \approx 2\cdot10^{19}` (float32) already
overflows in :math:`g\,g`, where torch's product is :math:`4\cdot10^{35}`; :math:`v = \infty` then freezes the
element. So, after :func:`~.reduce_powers.reduce_powers` has spelled :math:`g^2` as ``g*g``,

.. math:: c\,(a\,b\cdots) \;\to\; (c\,a)\,b\cdots \qquad \text{when } |c| \le 1 \text{ is proved,}

with ``c a`` kept together as an ``UnevaluatedExpr`` (the NumPy program and the C printer keep its grouping).
Bounds come from :mod:`.host_bounds` (:math:`1-\beta_2 \in (0, 1]` from :math:`\beta_2 \in [0, 1)`); a scalar
that may exceed 1 keeps its place, since multiplying it first could overflow instead. Multiplication is
commutative in IEEE arithmetic, so only the grouping matters; the meaning is unchanged.

A centred second moment :math:`\sqrt{v - \bar g^2}` (centred RMSprop) is evaluated as

.. math:: \sqrt{v - \bar g\,\bar g} \;\to\; \sqrt{(\sqrt v - |\bar g|)(\sqrt v + |\bar g|)},

which does not form :math:`\bar g^2`: torch computes ``v.addcmul(ḡ, ḡ, value=-1)`` with a fused multiply-add, so
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
:math:`\beta \le 1/2` with a non-finite :math:`x`.)
"""
from __future__ import annotations

import sympy as sp

from sympy.codegen.cfunctions import Sqrt

from optiforge.specs.dsl import GRAD

from ..ir import KernelIR
from .host_bounds import bound, host_bounds

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
        self.known = host_bounds(ir)
        self.scalars = set(self.known) | set(ir.host_inputs)
        self.states = {s.symbol for s in ir.spec.array_state}
        values: dict[sp.Symbol, sp.Basic] = {}
        for symbol, expr in ir.host:
            values[symbol] = expr.xreplace(values)
        self.host_values = values
        self.body = dict(ir.body)

    def is_scalar(self, expr) -> bool:
        return expr.free_symbols <= self.scalars

    def small(self, scalar) -> bool:
        b = bound(scalar, self.known)
        return bool(b.lo >= -1 and b.hi <= 1)

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
        if isinstance(expr, sp.Add):
            interpolated = self._lerp(args)
            if interpolated is not None:
                return interpolated
        if args == list(expr.args):
            return expr
        # reduce_powers' unevaluated products: rebuilt as written, or SymPy would fold a·a back into a²
        return expr.func(*args, evaluate=False) if isinstance(expr, (sp.Add, sp.Mul)) else expr.func(*args)

    def _lerp(self, terms) -> sp.Basic | None:
        r""":math:`p\,x + q\,y` with a state :math:`x`, a single array :math:`y` and host weights with
        :math:`p + q = 1` as :math:`x + q\,(y - x)`, or None."""
        if len(terms) != 2:
            return None
        for first, second in (terms, terms[::-1]):
            p, x = self._weighted(first)
            q, y = self._weighted(second)
            if p is None or q is None or x not in self.states or not self._gradient(y):
                continue
            if sp.expand(p.xreplace(self.host_values) + q.xreplace(self.host_values) - 1) == 0:
                return sp.Add(x, sp.Mul(q, sp.Add(y, -x, evaluate=False), evaluate=False), evaluate=False)
        return None

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
        if len(multiplicands) < 2 or c in (1, -1) or not self.small(c):  # a sign cannot overflow
            return None
        first = multiplicands[0]
        others = list(factors)
        others.remove(first)
        grouped = sp.UnevaluatedExpr(sp.Mul(c, first))
        return sp.Mul(grouped, *others, evaluate=False)


def evaluation_order(ir: KernelIR) -> KernelIR:
    """Group each proved-small host scalar with the first factor of the product it multiplies; factor centred
    second moments under a square root; write moving averages as torch's lerp."""
    orderer = _Orderer(ir)
    body = tuple((symbol, orderer.visit(expr)) for symbol, expr in ir.body)
    return ir.with_(body=body)
