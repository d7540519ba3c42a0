r"""The elementwise body of one optimizer step as a numba loop over flat arrays.

For precision A (float32 or float64) the loop reads, per element ``_i``::

    theta = _param[_i]                 # loads (arrays already hold A: see _numba_runtime.run)
    g = _grad[_i]
    m = _m[_i]
    x0 = c2*g + m*beta1                # the IR body, SSA, printed by LoopPrinter
    ...
    _param[_i] = theta_new             # stores after every read: in place is safe
    _m[_i] = x0

Scalars (hyperparameters and host symbols the body reads) are arguments of type A, computed once per step
on the host in float64; host-side conditions are booleans. Names starting with ``_`` are the loop's own
(specs cannot use them).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from optiforge.specs.dsl import GRAD, PARAM

from ..emit_common import LINE_WIDTH, comment_lines, equation_comments, wrap_lines
from ..ir import KernelIR
from .printer import LoopPrinter

__all__ = ["LoopSource", "build_loop", "build_segment_loop", "loop_scalars", "live_body"]


@dataclass(frozen=True)
class LoopSource:
    """One loop's function definition (``text``), its numba signature and the scalars it takes, in order."""

    name: str
    precision: str
    text: str
    signature: str
    scalars: tuple[sp.Symbol, ...]


def loop_scalars(ir: KernelIR) -> list[sp.Symbol]:
    """Step inputs (``t``, hyperparameters, scalar state) and host symbols the body reads, in that order."""
    read = set().union(*(expr.free_symbols for _, expr in ir.body))
    read -= {symbol for symbol, _ in ir.body} | set(ir.array_inputs)
    return [s for s in (*ir.host_inputs, *(symbol for symbol, _ in ir.host)) if s in read]


def live_body(ir: KernelIR, stored: dict[str, sp.Symbol]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The body assignments the stores need (an unchanged state's ``m_new = m`` is not one)."""
    live = set(stored.values())
    kept = []
    for symbol, expr in reversed(ir.body):
        if symbol in live:
            kept.append((symbol, expr))
            live |= expr.free_symbols
    return kept[::-1]


@dataclass(frozen=True)
class _Element:
    """What one element's update reads and writes: the arrays (symbol → loop argument name), the index name,
    the statements (loads, the IR body, stores) and the scalars the loop takes."""

    arrays: dict
    index: str
    lines: list
    scalars: list
    types: list


def _element(ir: KernelIR, precision: str, names: dict | None, depth: int) -> _Element:
    """The statements of one element's update, for a loop body indented by ``depth`` spaces."""
    printer = LoopPrinter(precision, [symbol for symbol, _ in ir.body], names)
    booleans = ir.host_booleans()
    scalars = loop_scalars(ir)
    body = dict(ir.body)
    arrays = {PARAM: "_param", GRAD: "_grad"} | {i.symbol: f"_{i.name}" for i in ir.spec.inputs} \
        | {s.symbol: f"_{s.name}" for s in ir.spec.array_state}
    index = "_i"
    while index in arrays.values():
        index += "_"
    # Outputs store the value an alias (m_new = x0) names; a state whose new value is its old one needs no store.
    values = {name: body[symbol] if isinstance(body.get(symbol), sp.Symbol) else symbol
              for name, symbol in ir.array_outputs}
    stored = {name: value for name, value in values.items() if value != ir.spec.symbol(name)}
    assignments = live_body(ir, stored)
    # What the kept assignments read, and inputs stored as they are (m_new = g: no assignment reads g).
    read = set().union(*(expr.free_symbols for _, expr in assignments), stored.values())

    lines = [f"{printer.doprint(symbol)} = {array}[{index}]" for symbol, array in arrays.items() if symbol in read]
    # one comment per spec assignment, before the statement that holds its value
    comments, rest = equation_comments(ir, [symbol for symbol, _ in assignments], names or {}, stored)
    for position, (symbol, expr) in enumerate(assignments):
        lines += comment_lines(comments.get(position, ()), False, LINE_WIDTH - depth)
        lines.append(f"{printer.doprint(symbol)} = {printer.doprint(expr)}")
    lines += comment_lines(rest, False, LINE_WIDTH - depth)
    lines += [f"{arrays[ir.spec.symbol(name)]}[{index}] = {printer.doprint(symbol)}" for name, symbol in stored.items()]
    if all(line.lstrip().startswith("#") for line in lines):  # θ and every array state keep their values
        lines.append("pass")
    types = ["boolean" if s in booleans else precision for s in scalars]
    return _Element(arrays, index, lines, [printer.doprint(s) for s in scalars], types)


def build_loop(ir: KernelIR, precision: str, names: dict | None = None) -> LoopSource:
    """The loop computing ``ir.body`` in ``precision`` ("float32" or "float64"); ``names``: the printed name of a
    symbol (:func:`codegen.names.display_names`)."""
    element = _element(ir, precision, names, 8)
    name = f"_loop_{precision}"
    parameters = [*element.arrays.values(), *element.scalars]
    types = [f"{precision}[::1]"] * len(element.arrays) + element.types
    text = "\n".join(wrap_lines([
        f"def {name}({', '.join(parameters)}):",
        f'    """One step of every element, in place: {precision} arithmetic on contiguous {precision} arrays."""',
        f"    for {element.index} in _numba_runtime.prange(_param.size):",
        *(" " * 8 + line for line in element.lines),
    ]))
    return LoopSource(name, precision, text, f"void({', '.join(types)})", tuple(loop_scalars(ir)))


def build_segment_loop(ir: KernelIR, precision: str, names: dict | None = None) -> LoopSource:
    r"""The loop of :func:`build_loop` over several tensors in one call (a multi-tensor step, as torch's fused
    optimizers take a list of tensors): ``_table[k]`` holds the addresses of tensor k's arrays (the parameter,
    the gradient, then the state, in the columns of :data:`loop arguments <build_loop>`), ``_segments[s]`` is
    (k, lo, hi), the elements ``lo ≤ i < hi`` of tensor k; segments run in parallel."""
    element = _element(ir, precision, names, 12)
    name = f"_segments_{precision}"
    taken = set(element.arrays.values()) | {element.index}
    table, segments, segment, tensor, lo, hi = (_fresh(base, taken) for base in
                                                ("_table", "_segments", "_s", "_k", "_lo", "_hi"))
    views = [f"{array} = _numba_runtime.{precision}_at({table}[{tensor}, {column}], {lo}, {hi})"
             for column, array in enumerate(element.arrays.values())]
    text = "\n".join(wrap_lines([
        f"def {name}({', '.join([table, segments, *element.scalars])}):",
        f'    """One step of the elements of several tensors, in place: {precision} arithmetic on contiguous',
        f'    {precision} arrays at the addresses in ``{table}``, over the ``{segments}`` (tensor, lo, hi)."""',
        f"    for {segment} in _numba_runtime.prange({segments}.shape[0]):",
        f"        {tensor}, {lo}, {hi} = {segments}[{segment}, 0], {segments}[{segment}, 1], {segments}[{segment}, 2]",
        *(" " * 8 + line for line in views),
        f"        for {element.index} in range({hi} - {lo}):",
        *(" " * 12 + line for line in element.lines),
    ]))
    types = ["int64[:, ::1]", "int64[:, ::1]", *element.types]
    return LoopSource(name, precision, text, f"void({', '.join(types)})", tuple(loop_scalars(ir)))


def _fresh(base: str, taken: set) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name
