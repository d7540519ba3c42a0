"""Small, named IR → IR passes; :data:`PIPELINE` is the order the backends use.

Each pass preserves :meth:`codegen.ir.KernelIR.meaning` (tests check this symbolically and numerically).
"""
from .common_subexpressions import common_subexpressions
from .factor_scalars import factor_scalars
from .hoist_scalars import hoist_scalars
from .reduce_powers import reduce_powers

#: (name, pass) in application order.
PIPELINE = (
    ("hoist_scalars", hoist_scalars),
    # Before CSE: it adds host constants (and leaves some unread), which CSE then shares and drops.
    ("factor_scalars", factor_scalars),
    ("common_subexpressions", common_subexpressions),
    ("reduce_powers", reduce_powers),
)

__all__ = ["PIPELINE", "hoist_scalars", "factor_scalars", "common_subexpressions", "reduce_powers"]
