r"""The names emitted code gives the IR's symbols, so that it keeps the spec's words.

* A host or body statement that computes exactly the value of a spec temporary (the same expression of the
  inputs, node for node) carries the temporary's name: adabound's ``lower`` and ``upper``, NAdam's ``mu``.
  Where the passes computed a temporary in another form (RAdam's :math:`\rho_\infty` appears only as
  :math:`-\rho_\infty`, spelled from :math:`-2/(1-\beta_2)`), the statement keeps a numbered name: writing the
  temporary as the spec does would round differently.
* An array output that is an alias of a body statement (``m_new = x0``) names that statement.
* The names the passes invent (``h``, ``c``, ``x``, ``d`` and a number) are numbered from 0 in order of
  definition, each prefix on its own.

Only the printed text changes: the IR keeps its symbols, so every printer orders sums and products exactly
as before (SymPy sorts their arguments by name).
"""
from __future__ import annotations

import re

import sympy as sp

from optiforge.specs.expression_dag import SYMPY_REFUSALS, free_symbols, rebuild, tree_sizes

from .ir import KernelIR, plain_sympy, with_new_args

__all__ = ["display_names", "PASS_NAME", "fresh_symbols", "used_names"]

#: Names of pass-introduced statements: host CSE ``h``, hoisted constants ``c``, body CSE ``x``, squared
#: temporaries ``d``, each with a number.
PASS_NAME = re.compile(r"([hcxd])(\d+)")

def used_names(ir: KernelIR) -> set[str]:
    """Every name the spec declares or the IR defines or reads."""
    names = {s.name for s in ir.spec.symbols()}
    for symbol, _ in ir.host + ir.body:
        names.add(symbol.name)
    names.update(s.name for s in free_symbols(*(expr for _, expr in ir.host + ir.body)))
    return names


def fresh_symbols(prefix: str, ir: KernelIR):
    """``prefix0, prefix1, …`` skipping every name the IR already uses (deterministic names for the symbols
    a pass or a backend introduces)."""
    taken = used_names(ir)
    return (s for s in sp.numbered_symbols(prefix, real=True) if s.name not in taken)


#: Values with more nodes than this (estimated before substituting, so that SymPy never evaluates a large
#: expression) are not compared with the spec's temporaries: the names worth keeping are of small values.
COMPARED_SIZE = 60


#: Functions rebuilt unevaluated when meanings are compared: SymPy's Mod/floor/ceiling expand their argument
#: for a gcd (minutes for a (x/10)**30 of a few nodes).
_UNEVALUATED = (sp.Mod, sp.floor, sp.ceiling)


def _meanings(statements, limit: int = COMPARED_SIZE) -> dict:
    """Symbol → its value as an expression of the inputs after ``statements`` (in order; a symbol may be
    assigned again), or a ``Dummy`` where that value has more than ``limit`` nodes (an estimate bounds the
    work: a larger value is never built)."""
    meaning: dict = {}
    for symbol, expr in statements:
        value = None
        try:  # plain_sympy evaluates (Max of a Piecewise may be refused): a refusal leaves the value unknown
            expr = plain_sympy(expr) if isinstance(expr, sp.Basic) else expr
            sizes = tree_sizes(expr)
            estimate = sizes[expr] + sum(tree_sizes(meaning[s])[meaning[s]] for s in expr.free_symbols
                                         if s in meaning)
            if estimate <= limit:
                value = rebuild(expr, lambda node, args: meaning[node] if node in meaning else
                                with_new_args(node, args) if isinstance(node, _UNEVALUATED) else None)
        except SYMPY_REFUSALS:
            pass
        # a value not built is unknown (a symbol nothing equals), never the symbol's earlier value
        meaning[symbol] = sp.Dummy() if value is None else value
    return meaning


def _spec_words(ir: KernelIR, taken: set[str]) -> dict[sp.Symbol, str]:
    spec = ir.spec
    values = _meanings([(a.target, a.value) for a in spec.assignments])
    temporaries: dict = {}
    for a in spec.assignments:  # a temporary is assigned once; a value read before any other name for it wins
        if a.target in spec.temporaries and a.target in values and not values[a.target].is_Atom:
            temporaries.setdefault(values[a.target], a.target)
    outputs = {s for _, s in ir.array_outputs + ir.scalar_outputs}
    names: dict[sp.Symbol, str] = {}
    for symbol, value in _meanings(ir.host + ir.body).items():  # (SSA: each symbol once)
        temporary = temporaries.get(value)
        if temporary is not None and symbol not in outputs and temporary.name not in taken:
            names[symbol] = temporary.name
            taken.add(temporary.name)
    return names


def display_names(ir: KernelIR) -> dict[sp.Symbol, str]:
    """Symbol → the name the emitted code prints for it (only the symbols that get another name)."""
    statements = [symbol for symbol, _ in ir.host + ir.body]
    # Every name the emitted code prints as it is: the spec's inputs and every IR symbol (a temporary the IR
    # reads by name included), less the pass-introduced names, which are all renamed below.
    printed = {s.name for s in ir.host_inputs + ir.array_inputs}
    printed |= {s.name for s in statements}
    printed |= {s.name for _, e in ir.host + ir.body for s in e.free_symbols}
    spec_names = {s.name for s in ir.spec.symbols()}
    renumbered = [s for s in statements if PASS_NAME.fullmatch(s.name) and s.name not in spec_names]
    taken = printed - {s.name for s in renumbered}
    names = _spec_words(ir, taken)
    body = dict(ir.body)
    for name, output in ir.array_outputs:
        aliased = body.get(output)
        if isinstance(aliased, sp.Symbol) and aliased in body and aliased not in names:
            names[aliased] = output.name  # the alias statement itself is not printed (see the backends)
    # A host statement that only names another (c0 = h0: the body reads c0, the host h0) is one variable: the
    # named statement prints under the alias's name and the alias line is not printed (see
    # emit_common.host_prologue_lines). Not where the body reads both (a backend passes each body scalar
    # once) nor for a scalar output (stored after the NumPy backend casts the body's scalars).
    host = dict(ir.host)
    body_reads = {s for _, e in ir.body for s in e.free_symbols}
    scalar_outputs = {s for _, s in ir.scalar_outputs}
    shared = {target: alias for alias, target in ir.host
              if isinstance(target, sp.Symbol) and target in host and target not in body_reads
              and not {alias, target} & scalar_outputs}
    shared = {target: alias for target, alias in shared.items() if alias not in shared}  # no chains
    aliases = set(shared.values())
    counters: dict[str, int] = {}
    for symbol in renumbered:  # in order of definition (a shared pair where its named statement is)
        alias = shared.get(symbol)
        if symbol in names or symbol in aliases or (alias is not None and (
                alias in names or not PASS_NAME.fullmatch(alias.name) or alias.name in spec_names)):
            continue
        prefix = PASS_NAME.fullmatch((alias or symbol).name).group(1)
        while True:
            candidate = f"{prefix}{counters.get(prefix, 0)}"
            counters[prefix] = counters.get(prefix, 0) + 1
            if candidate not in taken:
                break
        names[symbol] = candidate
        taken.add(candidate)
        if alias is not None:
            names[alias] = candidate
    for target, alias in shared.items():  # one name for the pair: a spec word where either has one
        names[target] = names[alias] = names.get(target) or names.get(alias) or alias.name
    return {s: n for s, n in names.items() if n != s.name}
