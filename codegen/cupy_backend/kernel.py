r"""The elementwise body of one optimizer step as CuPy ``ElementwiseKernel`` arguments.

For precision A (float32 or float64) the operation reads, per element::

    const A theta = (A)(param);          // loads: storage type -> arithmetic type
    const A g = (A)(grad);
    const A x0 = beta1*m + c2*g;         // the IR body, SSA, printed by KernelPrinter
    ...
    param = (T)(theta_new);              // stores after every read: in place is safe
    m = m_new;

State arrays already have the arithmetic type, so they are read and written directly. Scalars (the step,
hyperparameters, scalar state and host symbols the body reads) are kernel arguments of type A, computed
once per step on the host in float64; host-side conditions are ``bool`` arguments, and so are body
statements holding a condition several selections share.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.ast import Assignment, Variable, bool_, value_const

from optiforge.runtime.cupy_support import KernelSource
from optiforge.specs.dsl import GRAD, PARAM
from optiforge.specs.expression_dag import free_symbols, rebuild_unevaluated

from ..emit_common import LINE_WIDTH, comment_lines, equation_comments
from ..ir import KernelIR, truth_valued
from ..names import fresh_symbols
from .printer import ARITHMETIC_TYPES, C_RESERVED, Cast, KernelPrinter, Remainder, ZeroSignedLike

__all__ = ["build_kernel", "c_identifiers", "PARAM_ARG", "GRAD_ARG"]

#: Kernel argument names of the parameter and gradient storage (their dtypes are placeholders T and G).
PARAM_ARG, GRAD_ARG = sp.Symbol("param"), sp.Symbol("grad")


def _kernel_scalars(ir: KernelIR, body) -> list[sp.Symbol]:
    """Host inputs (``t``, hyperparameters, scalar state) and host symbols the body reads, in declaration
    order."""
    read = free_symbols(*(expr for _, expr in body)) if body else set()
    candidates = list(ir.host_inputs) + [symbol for symbol, _ in ir.host]
    return [s for s in candidates if s in read]


class _OperandNamer:
    """Body statements rewritten so that every operand a printed form repeats is an atom: n-ary ``Max``
    and ``Min`` become chains of binary ones, the operands of ``Max``, ``Min``, ``sign``, ``Heaviside``
    are named, and ``Mod(a, b)`` (NumPy's, the sign of ``b``) becomes C's remainder ``r = fmod(a, b)``
    corrected by ``b`` where the signs of ``r`` and ``b`` differ, and a zero ``r`` signed like ``b``, as
    ``numpy.mod`` computes it."""

    def __init__(self, ir: KernelIR):
        self.names = fresh_symbols("a", ir)
        self.statements: list[tuple[sp.Symbol, sp.Expr]] = []
        self.memo: dict = {}

    def atom(self, expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom:
            return expr
        symbol = next(self.names)
        self.statements.append((symbol, expr))
        return symbol

    def visit(self, node, args):
        if isinstance(node, (sp.Max, sp.Min)):
            operands = [self.atom(a) for a in args]
            acc = operands[0]
            for operand in operands[1:]:
                acc = self.atom(node.func(acc, operand, evaluate=False))
            return acc
        if isinstance(node, (sp.sign, sp.Heaviside)):
            return node.func(*[self.atom(a) for a in args], evaluate=False)
        if isinstance(node, sp.Mod):
            dividend, divisor = (self.atom(a) for a in args)
            r = self.atom(Remainder(dividend, divisor))
            wrong_sign = sp.And(sp.Ne(r, 0), sp.Xor(r < 0, divisor < 0), evaluate=False)
            return sp.Piecewise((r + divisor, wrong_sign), (ZeroSignedLike(divisor), sp.Eq(r, 0)), (r, True),
                                evaluate=False)
        return None

    def rewrite(self, body):
        for symbol, expr in body:
            value = rebuild_unevaluated(expr, self.visit) if expr.has(sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.Mod) \
                else expr
            self.statements.append((symbol, value))
        return self.statements


def c_identifiers(symbols, display: dict | None = None) -> dict[sp.Symbol, str]:
    """A unique C identifier for each symbol: its name (``display``'s, else its own) when that is ASCII and not
    reserved (:data:`~.printer.C_RESERVED`), else the name with non-ASCII characters spelled ``Uxxxx`` and ``_``
    appended until it is free."""
    display = display or {}
    names: dict[sp.Symbol, str] = {}
    taken = set()

    def shown(s):
        return display.get(s, s.name)
    ordered = sorted(set(symbols), key=lambda s: (not (shown(s).isascii() and shown(s) not in C_RESERVED), shown(s)))
    for symbol in ordered:
        name = "".join(ch if ch.isascii() else f"U{ord(ch):04x}" for ch in shown(symbol))
        while name in C_RESERVED or name in taken:
            name += "_"
        taken.add(name)
        names[symbol] = name
    return names


def build_kernel(ir: KernelIR, precision: str, names: dict | None = None) -> KernelSource:
    """``ElementwiseKernel`` arguments computing ``ir.body`` in ``precision`` ("float32"/"float64");
    ``names``: the printed name of a symbol (:func:`codegen.names.display_names`)."""
    names = names or {}
    if {s.name for s in ir.spec.symbols()} & {PARAM_ARG.name, GRAD_ARG.name} or \
            {*names.values(), *(s.name for s, _ in ir.host + ir.body)} & {PARAM_ARG.name, GRAD_ARG.name}:
        raise ValueError(f"{ir.spec.name}: symbols named 'param' or 'grad' clash with the kernel arguments")
    body = _OperandNamer(ir).rewrite(ir.body)
    # A statement that only names another (m_new = x0, x0 = a2) is not declared: each chain of such names is one
    # C variable, declared once, under an output's name where the chain has one. No copy; and every
    # expression keeps its symbols, so the printer orders sums and products as before.
    # (a chain may end at the loaded parameter or gradient: g_prev_new = g stores g; not at a state, which is
    # the array element itself and may be stored before the chain is)
    values = dict(body)

    def resolved(symbol):
        while isinstance(values.get(symbol), sp.Symbol):
            symbol = values[symbol]
        return symbol
    # A state whose new value is its old one is never stored, so it may end a chain too.
    unchanged = {s.symbol for s in ir.spec.array_state if resolved(dict(ir.array_outputs)[s.name]) == s.symbol}
    loaded = {PARAM, GRAD, *ir.extra_inputs} | unchanged
    aliases = {symbol: expr for symbol, expr in body
               if isinstance(expr, sp.Symbol) and (expr in dict(body) or expr in loaded)}
    chains: dict[sp.Symbol, list[sp.Symbol]] = {}
    for symbol, _ in body:
        root = symbol
        while root in aliases:
            root = aliases[root]
        chains.setdefault(root, [root] if root in loaded else []).append(symbol)
    outputs = [symbol for _, symbol in ir.array_outputs]
    heads = {root: root if root in loaded else next((s for s in outputs if s in chain), chain[-1])
             for root, chain in chains.items()}
    symbols = free_symbols(*(e for _, e in body)) | {s for s, _ in body} | set(ir.array_inputs)
    c_names = c_identifiers((symbols | set(ir.host_inputs)) - {s for root, chain in chains.items() for s in chain
                                                                if s != heads[root]}, names)
    c_names.update({s: c_names[heads[root]] for root, chain in chains.items() for s in chain})
    printer = KernelPrinter(precision, c_names)
    arithmetic = ARITHMETIC_TYPES[precision]
    ctype = printer.doprint(arithmetic)
    booleans = ir.host_booleans()
    body_booleans = truth_valued(body, booleans)
    scalars = _kernel_scalars(ir, body)
    read = free_symbols(*(expr for _, expr in body)) if body else set()
    state = [s.symbol for s in ir.spec.array_state]

    # A declared input arrives as the argument <name>_in (in the gradient's storage type G), loaded like g.
    taken = set(c_names.values()) | {PARAM_ARG.name, GRAD_ARG.name} | C_RESERVED
    input_args = {}
    for symbol in ir.extra_inputs:
        name = f"{c_names[symbol]}_in"
        while name in taken:
            name += "_"
        taken.add(name)
        input_args[symbol] = sp.Symbol(name)
    statements = []
    for symbol, storage in ((PARAM, PARAM_ARG), (GRAD, GRAD_ARG), *input_args.items()):
        if symbol in read:
            statements.append(Variable(symbol, type=arithmetic, attrs={value_const}).as_Declaration(
                value=Cast(storage, ctype)))
    outputs = dict(ir.array_outputs)
    declared = [(symbol, expr) for symbol, expr in body if symbol not in aliases]
    # one comment per spec assignment, before the declaration that holds its value
    declaring = {s: root for root, chain in chains.items() for s in chain}  # symbol → its declared statement
    comments, rest = equation_comments(ir, [symbol for symbol, _ in declared], names,
                                       {name: declaring.get(symbol, symbol) for name, symbol in outputs.items()})
    def statement(node) -> str:
        text = printer.doprint(node)
        return text if text.endswith(";") else text + ";"
    lines = [statement(node) for node in statements]
    for position, (symbol, expr) in enumerate(declared):
        kind = bool_ if symbol in body_booleans else arithmetic
        lines += comment_lines(comments.get(position, ()), True, LINE_WIDTH - 12)
        lines.append(statement(Variable(symbol, type=kind, attrs={value_const}).as_Declaration(value=expr)))
    lines += comment_lines(rest, True, LINE_WIDTH - 12)
    lines.append(statement(Assignment(PARAM_ARG, Cast(outputs[PARAM.name], "T"))))
    lines += [statement(Assignment(s, outputs[s.name])) for s in state if s not in unchanged]

    def param(type_name, symbol):
        return f"{type_name} {printer.doprint(symbol)}"
    in_params = [param("G", GRAD_ARG)] + [param("G", a) for a in input_args.values()] \
        + [param("bool" if s in booleans else precision, s) for s in scalars]
    out_params = [param("T", PARAM_ARG)] + [param(precision, s) for s in state]
    return KernelSource(
        name=f"optiforge_{ir.spec.name}_{precision}",
        in_params=", ".join(in_params),
        out_params=", ".join(out_params),
        operation="\n".join(lines),
        scalars=tuple(names.get(s, s.name) for s in scalars),
        precision=precision,
    )
