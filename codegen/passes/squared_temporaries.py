r"""Compute a temporary that the spec squares once, and square it, as the peers do; SymPy would distribute the
square over its factors, whose own squares may overflow.

AdaDelta (torch, optax) computes :math:`\Delta = \sqrt{u+\epsilon}\,/\sqrt{v+\epsilon}\cdot\tilde g`, then
``u.mul_(ρ).addcmul_(Δ, Δ, value=1 - ρ)``. Forward substitution writes :math:`\Delta^2` as
:math:`(u+\epsilon)\,\tilde g^2/(v+\epsilon)`: with :math:`v = \infty` (the square of a huge gradient overflowed,
in torch too) that is :math:`\infty/\infty = \mathrm{NaN}`, where torch's :math:`\Delta = 0` and :math:`u` stays
finite. This pass gives every temporary ``T`` (a ``let`` of the spec) that an assignment raises to an integer
power, and whose value is a product (the only values SymPy distributes a power over), a body symbol of its
own, and substitutes it (:func:`~codegen.ir.replace_product` also finds :math:`T^2` among the distributed
factors):

.. math:: u_{\text{new}} = \rho u + (1-\rho)\,\frac{(u+\epsilon)\,\tilde g^2}{v+\epsilon}
    \;\to\; d_0 = \frac{\sqrt{u+\epsilon}\,\tilde g}{\sqrt{v+\epsilon}},\quad u_{\text{new}} = \rho u + (1-\rho)\,d_0^2.

Lowering already computes such a temporary under its own name where it reads an array (:func:`codegen.ir.lower`:
SymPy would distribute the power over the substituted product, :math:`(a/b)^2 \to a^2/b^2`, which overflows
where the written form does not, and may push it into a ``Piecewise`` where no substitution finds it again);
this pass catches the squares of a value that lowering substituted all the same.

The body symbol holds exactly the temporary's value, so :meth:`~codegen.ir.KernelIR.meaning` is unchanged;
:func:`~.evaluation_order.evaluation_order` then multiplies :math:`((1-\rho)\,d_0)\,d_0` as ``addcmul`` does.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import forward_substituted, free_symbols

from ..ir import INLINE_LIMIT, KernelIR, replace_product, squared
from ..names import fresh_symbols

__all__ = ["squared_temporaries", "squared", "VALUE_LIMIT"]

#: Nodes of a temporary's forward-substituted value beyond which it is left alone: lowering gives a value
#: that large, read more than once, a name of its own (:data:`~codegen.ir.INLINE_LIMIT`), so no power is
#: distributed over it; and substituting chains of temporaries without a bound is exponential in their length.
VALUE_LIMIT = 4 * INLINE_LIMIT


def squared_temporaries(ir: KernelIR) -> KernelIR:
    """A body symbol for each :func:`squared` temporary whose value reads an array and is a product; the
    outputs read it."""
    spec = ir.spec
    value_of = {a.target: a.value for a in spec.assignments}
    # Substitution keeps a sum a sum (but for a cancellation, which this pass may miss: it changes rounding only).
    targets = [s for s in squared(spec) if isinstance(value_of[s].as_coeff_Mul()[1], (sp.Mul, sp.Pow, sp.Symbol))]
    if not targets:
        return ir
    # The spec's step map, assignment by assignment, for the assignments the squared temporaries read (a value
    # beyond VALUE_LIMIT is left out).
    needed, statements = set(targets), []
    for assignment in reversed(spec.assignments):
        if assignment.target in needed:
            statements.append((assignment.target, assignment.value))
            needed |= free_symbols(assignment.value)
    values = forward_substituted(statements[::-1], VALUE_LIMIT)
    arrays = set(ir.array_inputs)
    names = fresh_symbols("d", ir)
    body, introduced = list(ir.body), []
    for target in targets:
        if target not in values:
            continue
        _, value = values[target].as_coeff_Mul()  # a sign or a rational factor stays outside: (−Δ)² = Δ²
        if not isinstance(value, (sp.Mul, sp.Pow)) or not value.free_symbols & arrays:
            continue
        # Exact wherever subs finds the value: the body symbol is the same expression of the same inputs (an
        # output whose lowering rewrote an input of it, e.g. a state read at its initial-value rule, holds
        # another expression, and is left alone).
        symbol = next(names)
        replaced = [(s, replace_product(e, value, symbol)) for s, e in body]
        if all(new == old for (_, new), (_, old) in zip(replaced, body)):
            continue  # no output reads it in this form
        body = replaced
        introduced.append((symbol, value))
    return ir.with_(body=tuple(introduced) + tuple(body)) if introduced else ir
