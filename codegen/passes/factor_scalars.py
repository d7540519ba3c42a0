r"""Factor sign-proved host scalars out of powers in the body, so a root or a denominator costs fewer
per-element operations.

For a power :math:`(s\,A + e)^q` of an array expression whose array terms share a host-scalar factor
:math:`s` (and whose other terms :math:`e` are host scalars),

.. math:: (s\,A + e)^q = s^q \left(A + \tfrac{e}{s}\right)^q,

valid for :math:`s > 0` and any real :math:`q` (principal powers), and for :math:`s \ge 0` when the base
is a single product (no :math:`e/s`) and :math:`q > 0`. :math:`s^q` then joins the scalar factors
around the power and :func:`~.hoist_scalars.hoist_scalars` folds it into one host constant. Applied bottom
up, Adam's bias correction leaves the square root and then the denominator:

.. math:: \frac{c_3\,m}{\epsilon + \sqrt{c_1 v}} \;\to\; \frac{c_3\,m}{\epsilon + \sqrt{c_1}\sqrt{v}}
          \;\to\; \frac{k\,m}{e + \sqrt{v}}, \qquad k = \frac{c_3}{\sqrt{c_1}},\ e = \frac{\epsilon}{\sqrt{c_1}},

one multiply fewer per element. Signs come from :mod:`.host_bounds` (SymPy cannot prove
:math:`1-\beta^t > 0`); when a sign is not proved the power is left alone.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.rewriting import ReplaceOptim, optimize

from ..ir import KernelIR
from .hoist_scalars import hoist_scalars
from .host_bounds import host_bounds, sign

__all__ = ["factor_scalars", "common_scalar_factor"]


def common_scalar_factor(base: sp.Expr, is_scalar, sign_of) -> tuple[sp.Expr, str | None]:
    """The product of the sign-proved scalar factors shared by every array term of ``base``, and its sign
    (``"positive"`` or ``"nonnegative"``); ``(1, None)`` when there is none."""
    array_terms = [t for t in sp.Add.make_args(base) if not is_scalar(t)]
    if not array_terms:
        return sp.S.One, None
    shared = None
    for term in array_terms:
        factors = {f for f in sp.Mul.make_args(term) if is_scalar(f) and sign_of(f)}
        shared = factors if shared is None else shared & factors
    if not shared:
        return sp.S.One, None
    factor = sp.Mul(*sorted(shared, key=sp.default_sort_key))
    return factor, sign_of(factor)


def _factor_out(power: sp.Pow, is_scalar, sign_of) -> sp.Expr | None:
    """``power`` with the shared scalar factor of its base pulled out, or ``None`` when that is unsound
    or pointless."""
    base, exponent = power.args
    if not exponent.is_Number or is_scalar(base):
        return None
    factor, factor_sign = common_scalar_factor(base, is_scalar, sign_of)
    single_product = len(sp.Add.make_args(base)) == 1
    if factor_sign == "positive" or (factor_sign == "nonnegative" and single_product and exponent > 0):
        # Divide term by term; for a single product this just drops the factor (no 0/0 when s = 0).
        rest = base / factor if single_product else sp.Add(*[t / factor for t in sp.Add.make_args(base)])
        return sp.Mul(sp.Pow(factor, exponent), sp.Pow(rest, exponent))
    return None


def factor_scalars(ir: KernelIR) -> KernelIR:
    """Pull sign-proved host-scalar factors out of the body's powers, then hoist the new scalar work."""
    known = host_bounds(ir)
    scalars = set(known) | set(ir.host_inputs)

    def is_scalar(expr):
        return expr.free_symbols <= scalars

    def sign_of(expr):
        return sign(expr, known)

    rule = ReplaceOptim(lambda e: e.is_Pow and _factor_out(e, is_scalar, sign_of) is not None,
                        lambda e: _factor_out(e, is_scalar, sign_of))
    body = tuple((symbol, optimize(expr, [rule])) for symbol, expr in ir.body)
    return hoist_scalars(ir.with_(body=body))
