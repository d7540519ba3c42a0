r"""SymPy expressions as DAGs: walks and rewrites that visit each distinct subexpression once.

A spec written in Python shares subexpressions freely (``d = g + 1; e = d*d + d``), and forward
substitution shares them again, so an expression of a few dozen distinct nodes can be a tree of
:math:`3^{17}` nodes. SymPy's own ``preorder_traversal``, ``free_symbols``, ``xreplace`` and ``replace``
walk the tree; everything here walks the DAG (memoised on the subexpression), so its cost is linear in
the number of distinct nodes.
"""
from __future__ import annotations

from typing import Callable, Iterator

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

__all__ = ["distinct_nodes", "walk", "reads_only", "free_symbols", "substitute", "rebuild", "tree_sizes", "rebuild_unevaluated", "with_args_unevaluated",
           "SYMPY_REFUSALS", "forward_substituted"]

#: What SymPy raises when it refuses to build an expression it is asked for (comparisons of non-real values,
#: a Piecewise it cannot fold, a modulo by zero, arguments of Min/Max it cannot compare, ...).
SYMPY_REFUSALS = (TypeError, ValueError, ArithmeticError, NotImplementedError, AttributeError, RecursionError)


def distinct_nodes(*exprs: sp.Basic) -> Iterator[sp.Basic]:
    """Every distinct subexpression of ``exprs`` (the expressions themselves included), once each,
    children before parents."""
    seen: set = set()
    for root in exprs:
        if root in seen:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                yield node
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args) if arg not in seen)


def walk(root, visit: Callable, memo: dict):
    """``memo[root]``, computing it depth first without Python recursion (a chain of thousands of nodes would
    exceed the interpreter's limit): ``visit(node)`` is a generator that yields each expression whose result it
    needs, receives that result (``memo[expr]``, computed first), and returns ``node``'s result. Each key is
    computed once; a visit's yields happen in its own order, so results that name things name them in the
    order a recursive walk would."""
    if root in memo:
        return memo[root]
    stack = [(root, visit(root))]
    received = None
    while stack:
        key, steps = stack[-1]
        try:
            needed = steps.send(received)
        except StopIteration as done:
            stack.pop()
            memo[key] = received = done.value
            continue
        if needed in memo:
            received = memo[needed]
        else:
            stack.append((needed, visit(needed)))
            received = None
    return memo[root]


def free_symbols(*exprs: sp.Basic) -> set[sp.Symbol]:
    """``set().union(e.free_symbols for e in exprs)`` in time linear in the distinct nodes."""
    return {node for node in distinct_nodes(*exprs) if isinstance(node, sp.Symbol)}


def rebuild(expr: sp.Basic, visit: Callable[[sp.Basic, tuple], sp.Basic | None],
            memo: dict | None = None) -> sp.Basic:
    """Bottom-up rewrite: ``visit(node, new_args)`` returns the replacement of ``node`` given its already
    rewritten arguments, or ``None`` for "rebuild with the new arguments (SymPy evaluates them)".
    Each distinct node is visited once (``memo`` may be shared across calls)."""
    memo = {} if memo is None else memo
    for node in distinct_nodes(expr):
        if node in memo:
            continue
        args = tuple(memo[a] for a in node.args)
        result = visit(node, args)
        if result is None:
            result = node.func(*args) if args != node.args else node
        memo[node] = result
    return memo[expr]


def substitute(expr: sp.Basic, mapping: dict, memo: dict | None = None) -> sp.Basic:
    """``expr.xreplace(mapping)`` on the DAG (SymPy evaluates each rebuilt node, as ``xreplace`` does)."""
    return rebuild(expr, lambda node, args: mapping.get(node), memo)


def with_args_unevaluated(node: sp.Basic, args) -> sp.Basic:
    """``node`` with ``args``, built *without* evaluation where its class allows it, so no SymPy rule
    (comparisons of ``Min``/``Max``, reality checks of relations, Piecewise folding) runs on codegen-only
    nodes."""
    if isinstance(node, (ExprCondPair, sp.Piecewise)):
        # Their constructors fold and rewrite each condition (an ITE into comparisons), evaluate=False or not.
        return sp.Basic.__new__(node.func, *args)
    if isinstance(node, (sp.Add, sp.Mul, sp.Pow, sp.Min, sp.Max, sp.core.relational.Relational,
                         sp.Piecewise, sp.Function, sp.logic.boolalg.BooleanFunction)):
        try:
            return node.func(*args, evaluate=False)
        except TypeError:  # a class without the keyword: its constructor does not evaluate
            pass
    return node.func(*args)


def rebuild_unevaluated(expr: sp.Basic, visit: Callable[[sp.Basic, tuple], sp.Basic | None]) -> sp.Basic:
    """Like :func:`rebuild`, but a node whose arguments changed is rebuilt by :func:`with_args_unevaluated`."""
    def unevaluated(node, args):
        replaced = visit(node, args)
        if replaced is not None or args == node.args:
            return replaced
        return with_args_unevaluated(node, args)
    return rebuild(expr, unevaluated)


def tree_sizes(*exprs: sp.Basic) -> dict[sp.Basic, int]:
    """Number of nodes of each subexpression written out as a tree (the cost of printing it inline)."""
    sizes: dict[sp.Basic, int] = {}
    for node in distinct_nodes(*exprs):
        sizes[node] = 1 + sum(sizes[a] for a in node.args)
    return sizes


def forward_substituted(statements, limit: int) -> dict:
    """``{symbol: value}`` for ``(symbol, expr)`` statements in order, each ``expr`` with the earlier values
    substituted, keeping only values of at most ``limit`` tree nodes (a larger one, or one SymPy refuses to
    build, stays its symbol in the later values): without the bound, chains of temporaries substitute to
    trees exponential in their length."""
    values: dict = {}
    for symbol, expr in statements:
        values.pop(symbol, None)
        try:
            value = substitute(expr, values)
        except SYMPY_REFUSALS:
            continue
        if tree_sizes(value)[value] <= limit:
            values[symbol] = value
    return values


def reads_only(expr: sp.Basic, allowed: set, memo: dict) -> bool:
    """Whether every symbol ``expr`` reads is in ``allowed``, decided bottom up over the DAG and remembered per
    node in ``memo`` (one dict per ``allowed``, kept by the caller across queries)."""
    if expr not in memo:
        for node in distinct_nodes(expr):
            if node not in memo:
                memo[node] = node in allowed if isinstance(node, sp.Symbol) else all(memo[a] for a in node.args)
    return memo[expr]
