"""The JAX backend's descriptor :data:`JAX` and its body builder: ``generated/jax/<name>.py`` holds one pure
function of the step, ``step_unchecked(param, grad, state, t, _hp) -> (param, state)``, in ``jnp``.

Per-step scalars are ``jnp`` scalars of the host dtype (float64 under ``jax_enable_x64``, else float32),
computed from ``t`` and the hyperparameters inside the traced function, so ``jax.jit`` compiles one program
for every step and hyperparameter value; the scalars the body reads are then cast once to the compute dtype
(float32 for float16/bfloat16/float32 parameters, float64 for float64), as in the other backends.
"""
from __future__ import annotations

import sympy as sp

from optiforge.specs.dsl import GRAD, PARAM, STEP, OptimizerSpec
from optiforge.specs.expression_dag import free_symbols

from ..backend import Backend, ModuleBody
from ..driver import Lowered
from ..emit_common import (LINE_WIDTH, comment_lines, equation_comments, indent, init_hyperparameter_lines,
                           init_state_lines)
from ..host_printer import HostPrinter
from ..numba_backend.loop import live_body, loop_scalars
from .printer import JaxBodyPrinter, JaxHostPrinter

__all__ = ["JAX", "jax_module_body"]


def _host_lines(ir, printer: HostPrinter, read: set) -> list[str]:
    """The step inputs the host prologue or the body reads, as ``_host`` scalars, then the host assignments
    (a constant as a ``_host`` scalar too, so no arithmetic runs in Python floats)."""
    spec = ir.spec
    inputs = [(STEP, "t")] + [(h.symbol, f"_hp[{h.name!r}]") for h in spec.hyperparameters]
    inputs += [(s.symbol, f"state[{s.name!r}]") for s in spec.scalar_state]
    lines = [f"{printer.doprint(symbol)} = jnp.asarray({source}, _host)" for symbol, source in inputs if symbol in read]
    for symbol, expr in ir.host:
        name = printer.doprint(symbol)
        # as the other backends: powsimp merges the bases CSE split ((24/25)**x, not 24**x * 25**(-x))
        value = printer.doprint(sp.powsimp(expr, combine="base")) if free_symbols(expr) else \
            f"jnp.asarray({printer.doprint(expr)}, _host)"
        if value != name:
            lines.append(f"{name} = {value}")
    return lines


def jax_module_body(spec: OptimizerSpec, lowered: Lowered, host_printer: HostPrinter) -> ModuleBody:
    """``init_state`` and ``step_unchecked`` of the JAX module: the host scalars, their casts, then the body as
    array expressions, returning the new parameter and state."""
    ir = lowered.ir
    names = lowered.names
    body_printer = JaxBodyPrinter([symbol for symbol, _ in ir.body], names)
    body = dict(ir.body)
    values = {name: body[symbol] if isinstance(body.get(symbol), sp.Symbol) else symbol
              for name, symbol in ir.array_outputs}
    stored = {name: value for name, value in values.items() if value != ir.spec.symbol(name)}
    assignments = live_body(ir, stored)
    body_reads = set().union(*(expr.free_symbols for _, expr in assignments), stored.values())
    scalars = [s for s in loop_scalars(ir) if s in body_reads]
    host_reads = set(free_symbols(*(expr for _, expr in ir.host))) | set(scalars)

    lines = ["_dtype = _jax_runtime.compute_dtype(NAME, param)"]
    host = _host_lines(ir, host_printer, host_reads)
    if host:
        lines += ["# Per-step scalars, traced: a new t or hyperparameter value reuses the compiled step.",
                  "_host = _jax_runtime.host_dtype()", *host]
    booleans = ir.host_booleans()
    casts = [f"{body_printer.doprint(s)} = {host_printer.doprint(s)}.astype(_dtype)" for s in scalars
             if s not in booleans]
    if casts:
        lines += ["# The scalars the body reads, in the compute dtype.", *casts]
    arrays = {PARAM: "param.astype(_dtype)", GRAD: "grad.astype(_dtype)"}
    arrays |= {i.symbol: f"{i.name}.astype(_dtype)" for i in spec.inputs}  # keyword-only (Backend.render)
    arrays |= {s.symbol: f"state[{s.name!r}]" for s in spec.array_state}
    lines += [f"{body_printer.doprint(symbol)} = {source}" for symbol, source in arrays.items() if symbol in body_reads]
    comments, rest = equation_comments(ir, [symbol for symbol, _ in assignments], names, stored)
    for position, (symbol, expr) in enumerate(assignments):
        lines += comment_lines(comments.get(position, ()), False, LINE_WIDTH - 4)
        lines.append(f"{body_printer.doprint(symbol)} = {body_printer.doprint(expr)}")
    lines += comment_lines(rest, False, LINE_WIDTH - 4)

    def output(name: str, old: str) -> str:
        return body_printer.doprint(stored[name]) if name in stored else old
    new_param = output(PARAM.name, "param")
    new_param = new_param if new_param == "param" else f"{new_param}.astype(param.dtype)"
    new_state = [f"{s.name!r}: {output(s.name, f'state[{s.name!r}]')}," for s in spec.array_state]
    new_state += [f"{name!r}: {host_printer.doprint(symbol)}," for name, symbol in ir.scalar_outputs]
    returned = f"return {new_param}, {{}}" if not new_state else \
        "\n".join([f"return {new_param}, {{", *("    " + line for line in new_state), "}"])
    step_unchecked = indent(lines + [returned], 4)

    array_lines = init_state_lines(spec, host_printer, "jnp")[:len(spec.array_state)]
    scalar_lines = [f"{s.name!r}: jnp.asarray({'0.0' if s.init is None else host_printer.doprint(s.init)}, "
                    "_jax_runtime.host_dtype())," for s in spec.scalar_state]
    # traced hyperparameters (optax.inject_hyperparams initialises under jit) pass the JAX runtime's check
    resolve = [line.replace("_runtime.", "_jax_runtime.") for line in init_hyperparameter_lines(spec)]
    init_state = (f"{indent(resolve, 4)}\n"
                  "    _dtype = _jax_runtime.compute_dtype(NAME, param)\n"
                  "    return {\n"
                  f"{indent(array_lines + scalar_lines, 8)}\n"
                  "    }")
    return ModuleBody(init_state=init_state, step_unchecked=step_unchecked)


_STEP = '''def step(param, grad, state, t, **hyperparameters):
    """One update, as a pure function: ``(new_param, new_state)``; ``param``, ``grad`` and
    ``state`` are not modified. Concrete hyperparameters and ``t`` are checked first
    (ValueError/TypeError); traced ones (inside ``jax.jit``) are taken as they are."""
    _hp = _jax_runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)
    t = _jax_runtime.check_step(NAME, t)
    return step_unchecked(param, grad, state, t, _hp)'''

#: The JAX backend: pure ``jnp`` functions of the step, for ``jax.jit`` and ``optiforge.optax``.
JAX = Backend(
    name="jax",
    title="JAX",
    imports=("from optiforge.runtime import jax_support as _jax_runtime, kernel_support as _runtime\n"
             "from optiforge.runtime.jax_support import jnp"),
    build_body=jax_module_body,
    step_unchecked_doc=""":func:`step` without the checks: ``_hp`` maps every hyperparameter to a number or a
    traced scalar, ``t`` is the step (an integer or a traced integer scalar). Pure and traceable
    (``jax.jit``, ``vmap``, ``pmap``): per-step scalars in the host dtype, the body in the compute
    dtype; returns the new parameter (in ``param``'s dtype) and the new state.""",
    array_type="``jax.Array``",
    array_library="_jax_runtime.array_library()",
    init_state_doc="""Fresh state for ``param`` (a JAX array): arrays of the compute dtype (float32 for
    float16/bfloat16 params), scalar state as scalars of the host dtype.""",
    step=_STEP,
    step_unchecked_parameters="param, grad, state, t, _hp",
    input_check="_jax_runtime.check_inputs(NAME, grad, {inputs})",
    host_printer=JaxHostPrinter,
)
