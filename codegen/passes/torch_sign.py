r"""Evaluate :math:`\operatorname{sign}` as torch does where the spec asks for it
(``numerics.sign_of_nan == "zero"``, :class:`~specs.dsl.Numerics`): 0 for NaN.

``torch.sign(nan)`` is 0 (so are ``sign_`` and ``sgn``), where ``numpy.sign``, JAX and the generated kernels
(:math:`\operatorname{sign}(\mathrm{NaN}) = \mathrm{NaN}`) propagate NaN. A NaN gradient therefore leaves a
sign-based update (Lion, signSGD, Signum, Rprop) where it is in torch.optim, pytorch_optimizer and
torch_optimizer, and turns the parameter into NaN in optax. For a spec that follows the former
(``numerics=TORCH_NUMERICS``), every :math:`\operatorname{sign}(x)` of the body becomes

.. math:: \begin{cases} 1 & x > 0 \\ -1 & x < 0 \\ 0 & \text{otherwise,} \end{cases}

the same value for every real :math:`x` (:meth:`~codegen.ir.KernelIR.meaning` is unchanged); comparisons with
NaN are false, so NaN gives 0.
"""
from __future__ import annotations

import sympy as sp
from sympy.functions.elementary.piecewise import piecewise_fold

from ..ir import KernelIR

__all__ = ["torch_sign", "TORCH_LIBRARIES"]

#: Peers whose name starts with one of these run on torch (for the tests that run the peers; the kernels read
#: the spec's ``numerics``, never its ``peers``).
TORCH_LIBRARIES = ("torch.optim.", "pytorch_optimizer.", "torch_optimizer.")


def _sign_as_torch(x: sp.Expr) -> sp.Expr:
    x = piecewise_fold(x)
    if isinstance(x, sp.Piecewise):  # into the branches: a Piecewise compared with 0 is no array condition
        return sp.Piecewise(*[(_sign_as_torch(value), condition) for value, condition in x.args])
    return sp.sign(x).rewrite(sp.Piecewise)  # (1, x > 0), (−1, x < 0), (0, True)


def torch_sign(ir: KernelIR) -> KernelIR:
    """``sign(x)`` → torch's sign (NaN → 0) in the body, where ``numerics.sign_of_nan`` is ``"zero"``."""
    if ir.spec.numerics.sign_of_nan != "zero":
        return ir
    body = tuple((symbol, expr.replace(sp.sign, _sign_as_torch)) for symbol, expr in ir.body)
    return ir.with_(body=body)
