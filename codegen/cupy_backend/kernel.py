r"""The elementwise body of one optimizer step as CuPy ``ElementwiseKernel`` arguments.

For precision A (float32 or float64) the operation reads, per element::

    const A theta = (A)(param);          // loads: storage type -> arithmetic type
    const A g = (A)(grad);
    const A x0 = beta1*m + c2*g;         // the IR body, SSA, printed by KernelPrinter
    ...
    param = (T)(theta_new);              // stores after every read: in place is safe
    m = m_new;

State arrays already have the arithmetic type, so they are read and written directly. Scalars (hyper-
parameters and host symbols the body reads) are kernel arguments of type A, computed once per step on
the host in float64; host-side conditions are ``bool`` arguments.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.ast import Assignment, CodeBlock, Variable, value_const

from optiforge.generated._cupy_runtime import KernelSource
from optiforge.specs.dsl import GRAD, PARAM

from ..ir import KernelIR
from .printer import ARITHMETIC_TYPES, Cast, KernelPrinter

__all__ = ["build_kernel", "PARAM_ARG", "GRAD_ARG"]

#: Kernel argument names of the parameter and gradient storage (their dtypes are placeholders T and G).
PARAM_ARG, GRAD_ARG = sp.Symbol("param"), sp.Symbol("grad")


def _kernel_scalars(ir: KernelIR) -> list[sp.Symbol]:
    """Hyperparameters and host symbols the body reads, in declaration order."""
    read = set().union(*(expr.free_symbols for _, expr in ir.body))
    candidates = [h.symbol for h in ir.spec.hyperparameters] + [symbol for symbol, _ in ir.host]
    return [s for s in candidates if s in read]


def build_kernel(ir: KernelIR, precision: str) -> KernelSource:
    """``ElementwiseKernel`` arguments computing ``ir.body`` in ``precision`` ("float32"/"float64")."""
    names = {s.name for s in ir.spec.symbols()} | {s.name for s, _ in ir.host + ir.body}
    if names & {PARAM_ARG.name, GRAD_ARG.name}:
        raise ValueError(f"{ir.spec.name}: symbols named 'param' or 'grad' clash with the kernel arguments")
    printer = KernelPrinter(precision)
    arithmetic = ARITHMETIC_TYPES[precision]
    ctype = printer.doprint(arithmetic)
    booleans = ir.host_booleans()
    scalars = _kernel_scalars(ir)
    read = set().union(*(expr.free_symbols for _, expr in ir.body))
    state = [s.symbol for s in ir.spec.array_state]

    statements = []
    for symbol, storage in ((PARAM, PARAM_ARG), (GRAD, GRAD_ARG)):
        if symbol in read:
            statements.append(Variable(symbol, type=arithmetic, attrs={value_const}).as_Declaration(
                value=Cast(storage, ctype)))
    for symbol, expr in ir.body:
        statements.append(Variable(symbol, type=arithmetic, attrs={value_const}).as_Declaration(value=expr))
    outputs = dict(ir.array_outputs)
    statements.append(Assignment(PARAM_ARG, Cast(outputs[PARAM.name], "T")))
    statements += [Assignment(s, outputs[s.name]) for s in state]

    def param(type_name, symbol):
        return f"{type_name} {printer.doprint(symbol)}"
    in_params = [param("G", GRAD_ARG)] + [param("bool" if s in booleans else precision, s) for s in scalars]
    out_params = [param("T", PARAM_ARG)] + [param(precision, s) for s in state]
    return KernelSource(
        name=f"optiforge_{ir.spec.name}_{precision}",
        in_params=", ".join(in_params),
        out_params=", ".join(out_params),
        operation=printer.doprint(CodeBlock(*statements)),
        scalars=tuple(s.name for s in scalars),
        precision=precision,
    )
