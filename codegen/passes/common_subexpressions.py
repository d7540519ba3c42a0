r"""Share common subexpressions with ``sympy.cse``, separately in the host prologue and in the body.

After forward substitution :math:`m_t` appears both as the new state and inside the parameter update;
CSE computes it once (``x0 = …; m_new = x0; theta_new = … x0 …``).
"""
from __future__ import annotations

import sympy as sp

from ..ir import KernelIR
from ._naming import fresh_symbols

__all__ = ["common_subexpressions"]


def _cse_block(assignments, names, keep: set[sp.Symbol], opaque: frozenset = frozenset()):
    """CSE over an SSA block; symbols in ``keep`` (read by the other block or outputs) stay defined, and those
    in ``opaque`` also stay what the expressions after them read."""
    if not assignments:
        return ()
    targets = [s for s, _ in assignments]
    values, full = {}, {}
    for symbol, expr in assignments:  # forward-substitute the block so CSE sees every repetition
        full[symbol] = expr.xreplace(values)
        if symbol not in opaque:
            values[symbol] = full[symbol]
    exprs = [full[s] for s in targets if s in keep]
    replacements, reduced = sp.cse(exprs, symbols=names, order="canonical")
    kept = [s for s in targets if s in keep]
    return tuple(replacements) + tuple(zip(kept, reduced))


def _read_as_powers(block) -> frozenset:
    """Symbols of ``block`` that an expression of it raises to a power: substituted, their value's power would
    be distributed over its factors (see :mod:`.squared_temporaries`)."""
    symbols = {s for s, _ in block}
    return frozenset(node.base for _, e in block for node in sp.preorder_traversal(e)
                     if isinstance(node, sp.Pow) and node.base in symbols)


def common_subexpressions(ir: KernelIR) -> KernelIR:
    """Apply ``sympy.cse`` to the host block and to the body block."""
    body_reads = set().union(*(e.free_symbols for _, e in ir.body)) if ir.body else set()
    host_keep = {s for s, _ in ir.host if s in body_reads} | {s for _, s in ir.scalar_outputs}
    opaque = _read_as_powers(ir.body)
    body_keep = {s for _, s in ir.array_outputs} | opaque
    host = _cse_block(ir.host, fresh_symbols("h", ir), host_keep)
    body = _cse_block(ir.body, fresh_symbols("x", ir), body_keep, opaque)
    return ir.with_(host=host, body=body)
