"""Deterministic fresh names for pass-introduced symbols."""
from __future__ import annotations

import sympy as sp

from ..ir import KernelIR


def used_names(ir: KernelIR) -> set[str]:
    names = {s.name for s in ir.spec.symbols()}
    for symbol, expr in ir.host + ir.body:
        names.add(symbol.name)
        names.update(s.name for s in expr.free_symbols)
    return names


def fresh_symbols(prefix: str, ir: KernelIR):
    """``prefix0, prefix1, …`` skipping every name the IR already uses."""
    taken = used_names(ir)
    return (s for s in sp.numbered_symbols(prefix, real=True) if s.name not in taken)
