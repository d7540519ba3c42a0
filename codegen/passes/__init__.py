"""Small, named IR → IR passes; :data:`PIPELINE` is the order the backends use.

Each pass preserves :meth:`codegen.ir.KernelIR.meaning` (tests check this symbolically and numerically). A
kernel computes the spec's expressions in the order written (or in the order the spec's typed ``numerics``
names for a peer), each operation rounded once; a pass reorders or refactors arithmetic only where the rewrite
is an identity on the whole declared domain (endpoints, zero, negative bases, ±∞) and overflows or underflows
only where the written form does. The rewrites state these side conditions with :mod:`.checked_rewrites`, and
one whose conditions are not proved is not applied.
"""
from .common_subexpressions import common_subexpressions
from .evaluation_order import evaluation_order
from .factor_scalars import factor_scalars
from .hoist_scalars import hoist_scalars
from .reduce_powers import reduce_powers
from .skip_zero_terms import skip_zero_terms
from .squared_temporaries import squared_temporaries
from .torch_sign import torch_sign

#: (name, pass) in application order.
PIPELINE = (
    # First: it finds the spec's temporaries in the outputs as lowering wrote them.
    ("squared_temporaries", squared_temporaries),
    # Then: it needs the hyperparameters themselves, before hoisting folds them into host constants.
    ("skip_zero_terms", skip_zero_terms),
    ("torch_sign", torch_sign),
    ("hoist_scalars", hoist_scalars),
    # Before CSE: it adds host constants (and leaves some unread), which CSE then shares and drops.
    ("factor_scalars", factor_scalars),
    ("common_subexpressions", common_subexpressions),
    ("reduce_powers", reduce_powers),
    # Last: it fixes the grouping of the products reduce_powers spelled out.
    ("evaluation_order", evaluation_order),
)

__all__ = ["PIPELINE", "squared_temporaries", "skip_zero_terms", "torch_sign", "hoist_scalars", "factor_scalars",
           "common_subexpressions", "reduce_powers", "evaluation_order"]
