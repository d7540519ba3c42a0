r"""Share common subexpressions with ``sympy.cse``, separately in the host prologue and in the body.

After forward substitution :math:`m_t` appears both as the new state and inside the parameter update;
CSE computes it once (``x0 = …; m_new = x0; theta_new = … x0 …``).
"""
from __future__ import annotations

import sympy as sp

from ..ir import KernelIR
from ._naming import fresh_symbols

__all__ = ["common_subexpressions"]


def _cse_block(assignments, names, keep: set[sp.Symbol]):
    """CSE over an SSA block; symbols in ``keep`` (read by the other block or outputs) stay defined."""
    if not assignments:
        return ()
    targets = [s for s, _ in assignments]
    values = {}
    for symbol, expr in assignments:  # forward-substitute the block so CSE sees every repetition
        values[symbol] = expr.xreplace(values)
    exprs = [values[s] for s in targets if s in keep]
    replacements, reduced = sp.cse(exprs, symbols=names, order="canonical")
    kept = [s for s in targets if s in keep]
    return tuple(replacements) + tuple(zip(kept, reduced))


def common_subexpressions(ir: KernelIR) -> KernelIR:
    """Apply ``sympy.cse`` to the host block and to the body block."""
    body_reads = set().union(*(e.free_symbols for _, e in ir.body)) if ir.body else set()
    host_keep = {s for s, _ in ir.host if s in body_reads} | {s for _, s in ir.scalar_outputs}
    body_keep = {s for _, s in ir.array_outputs}
    host = _cse_block(ir.host, fresh_symbols("h", ir), host_keep)
    body = _cse_block(ir.body, fresh_symbols("x", ir), body_keep)
    return ir.with_(host=host, body=body)
