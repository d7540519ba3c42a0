"""Deterministic fresh names for pass-introduced symbols."""
from __future__ import annotations

import sympy as sp

from optiforge.specs.expression_dag import free_symbols

from ..ir import KernelIR


def used_names(ir: KernelIR) -> set[str]:
    names = {s.name for s in ir.spec.symbols()}
    for symbol, _ in ir.host + ir.body:
        names.add(symbol.name)
    names.update(s.name for s in free_symbols(*(expr for _, expr in ir.host + ir.body)))
    return names


def fresh_symbols(prefix: str, ir: KernelIR):
    """``prefix0, prefix1, …`` skipping every name the IR already uses."""
    taken = used_names(ir)
    return (s for s in sp.numbered_symbols(prefix, real=True) if s.name not in taken)
