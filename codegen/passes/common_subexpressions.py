r"""Share common subexpressions with ``sympy.cse``, separately in the host prologue and in the body.

CSE runs over a block's statements as they are (each statement's symbol is an atom to the others), so its
cost stays linear in the block however long the chains of statements are; lowering already named the
values several statements read. A repeated subexpression becomes a statement ``x0 = …`` placed before its
first reader; statements nothing reads any more are dropped, and so are aliases ``x = y`` that are not
outputs.

``sympy.cse`` rebuilds what it touches with SymPy's evaluation, which may leave the real fragment the kernels
compute (``|exp(tanh(√g))|`` becomes an expression in ``atan2(0, g)``, SymPy's complex reading of √g for
g < 0), or refuse to (a ``Min`` over arguments it cannot compare): such a block (its result not in the fragment,
:func:`codegen.ir.in_real_fragment`) keeps its statements as they are.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import SYMPY_REFUSALS, free_symbols, substitute

from ..ir import KernelIR, in_real_fragment
from ..names import fresh_symbols

__all__ = ["common_subexpressions"]


def _in_dependency_order(statements) -> list:
    """``statements`` reordered (stably) so that each comes after the statements it reads."""
    defined_by = {symbol: index for index, (symbol, _) in enumerate(statements)}
    reads = [sorted(defined_by[s] for s in free_symbols(expr) if s in defined_by) for _, expr in statements]
    placed, order = set(), []

    def place(index):
        stack = [index]
        while stack:
            top = stack[-1]
            waiting = [d for d in reads[top] if d not in placed and d != top]
            if waiting:
                stack.append(waiting[0])
                continue
            stack.pop()
            if top not in placed:
                placed.add(top)
                order.append(statements[top])

    for index in range(len(statements)):
        place(index)
    return order


def _cse_block(assignments, names, keep: set[sp.Symbol], readers_outside: set[sp.Symbol]):
    """CSE over an SSA block; symbols in ``keep`` (read by the other block, or outputs) stay defined."""
    if not assignments:
        return ()
    targets = [s for s, _ in assignments]
    try:
        replacements, reduced = sp.cse([e for _, e in assignments], symbols=names, order="canonical")
        statements = _in_dependency_order(list(replacements) + list(zip(targets, reduced)))
    except SYMPY_REFUSALS:  # e.g. a Min rebuilt over an argument SymPy cannot compare ("not comparable")
        statements = None
    if statements is None or not all(in_real_fragment(expr) for _, expr in statements):
        statements = list(assignments)
    # Aliases x = y that nothing outside needs by name: read y instead.
    alias = {}
    for symbol, expr in statements:
        expr = substitute(expr, alias) if alias else expr
        if isinstance(expr, sp.Symbol) and symbol not in keep and symbol not in readers_outside:
            alias[symbol] = expr
    statements = [(s, substitute(e, alias)) for s, e in statements if s not in alias]
    live = set(keep)
    kept = []
    for symbol, expr in reversed(statements):
        if symbol in live:
            kept.append((symbol, expr))
            live |= free_symbols(expr)
    return tuple(reversed(kept))


def common_subexpressions(ir: KernelIR) -> KernelIR:
    """Apply ``sympy.cse`` to the host block and to the body block."""
    body_reads = free_symbols(*(e for _, e in ir.body)) if ir.body else set()
    host_keep = {s for s, _ in ir.host if s in body_reads} | {s for _, s in ir.scalar_outputs}
    body_keep = {s for _, s in ir.array_outputs}
    host = _cse_block(ir.host, fresh_symbols("h", ir), host_keep, body_reads)
    body = _cse_block(ir.body, fresh_symbols("x", ir), body_keep, set())
    return ir.with_(host=host, body=body)
