"""Emit ``generated/numpy/<name>.py`` from a lowered spec."""
from __future__ import annotations

import sympy as sp

from specs.dsl import GRAD, PARAM, OptimizerSpec

from ..driver import lower_and_optimize
from ..emit_common import banner, domain_constructor, indent, module_docstring
from .printer import HostPrinter, UfuncPrinter
from .program import build_program

__all__ = ["render_numpy_module"]


def _init_lines(spec: OptimizerSpec, printer: HostPrinter) -> list[str]:
    lines = []
    for s in spec.array_state:
        if s.init == PARAM:
            value = "param.astype(_dtype, copy=True)"
        elif s.init is None or s.init == GRAD or s.init == 0:
            value = "numpy.zeros(param.shape, _dtype)"
        else:
            value = f"numpy.full(param.shape, {printer.doprint(s.init)}, _dtype)"
        note = "  # replaced by the first gradient at t = 1" if s.init == GRAD else ""
        lines.append(f"{s.name!r}: {value},{note}")
    lines += [f"{s.name!r}: float({printer.doprint(s.init)})," for s in spec.scalar_state]
    return lines


def render_numpy_module(spec: OptimizerSpec, generator_version: str) -> str:
    """The complete module text (deterministic for a given spec and generator)."""
    ir = lower_and_optimize(spec).ir
    program = build_program(ir)
    host_printer = HostPrinter()
    ufunc_printer = UfuncPrinter(program.host_booleans)

    hypers = [h.name for h in spec.hyperparameters]
    scalar_names = [s.name for s in spec.scalar_state]
    unpack = [f"{n} = numpy.float64(_hp[{n!r}])" for n in hypers] + [
        f"{n} = numpy.float64(state[{n!r}])" for n in scalar_names]
    host = [f"{host_printer.doprint(sym)} = {host_printer.doprint(expr)}" for sym, expr in ir.host]

    arrays = {PARAM.name, GRAD.name, "_theta_out"} | {s.name for s in spec.array_state}
    registers = {f"_buf{i}" for i in range(program.float_buffers)} | {f"_mask{i}" for i in range(program.mask_buffers)}
    used = [a for call in program.calls for a in call.args] + [v for _, v in program.copies]
    cast = sorted({a.name for a in used if isinstance(a, sp.Symbol) and a.name not in arrays | registers
                   and a not in program.host_booleans})
    # 0-d arrays of the compute dtype: measured cheaper as ufunc operands than NumPy scalars.
    as_arrays = ", ".join(f"numpy.asarray({c}, _dtype)" for c in cast)
    casts = [f"{', '.join(cast)} = {as_arrays}"] if cast else []

    reads = {a.name for a in used if isinstance(a, sp.Symbol)} | set(program.outputs)
    block = ["_n = _hi - _lo", "_theta_out = _theta_all[_lo:_hi]"]
    loads = program.float_buffers
    if PARAM.name in reads:
        block.append(f"theta = _runtime.load(_theta_out, _buffers[{loads}][:_n])")
    if GRAD.name in reads:
        block.append(f"g = _runtime.load(_grad_all[_lo:_hi], _buffers[{loads + 1}][:_n])")
    block += [f"{s.name} = _{s.name}_all[_lo:_hi]" for s in spec.array_state if s.name in reads]
    block += [f"_buf{i} = _buffers[{i}][:_n]" for i in range(program.float_buffers)]
    block += [f"_mask{i} = _masks[{i}][:_n]" for i in range(program.mask_buffers)]
    for call in program.calls:
        block += ufunc_printer.call(call)
    for name, operand in program.copies:
        block.append(f"numpy.copyto({program.targets[name]}, {ufunc_printer.doprint(operand)})")

    flat = ["_theta_all = param.reshape(-1)", "_grad_all = grad.reshape(-1)"]
    flat += [f"_{s.name}_all = state[{s.name!r}].reshape(-1)" for s in spec.array_state]
    store = [f"state[{name!r}] = float({host_printer.doprint(sym)})" for name, sym in ir.scalar_outputs]

    hyper_dict = "\n".join(f"    {h.name!r}: {h.default!r}," for h in spec.hyperparameters)
    domain_dict = "\n".join(f"    {h.name!r}: {domain_constructor(h.domain)}," for h in spec.hyperparameters)
    state_tuple = "".join(f"{s.name!r}, " for s in spec.array_state).rstrip(" ")
    scalar_tuple = "".join(f"{n!r}, " for n in scalar_names).rstrip(" ")
    init_reads = sorted({sym.name for s in spec.state if s.init is not None for sym in s.init.free_symbols} & set(hypers))
    resolve = "_runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)"
    init_unpack = ([f"_hp = {resolve}"] + [f"{n} = _hp[{n!r}]" for n in init_reads]) if init_reads else [resolve]
    return f'''{banner(spec, generator_version, "numpy")}
{module_docstring(spec, "NumPy")}
import math

import numpy

from generated import _runtime

NAME = {spec.name!r}
HYPERPARAMETERS = {{
{hyper_dict}
}}
DOMAINS = {{
{domain_dict}
}}
STATE = ({state_tuple})
SCALAR_STATE = ({scalar_tuple})


def init_state(param, **hyperparameters):
    """Fresh state for ``param``: arrays in the compute dtype (float32 for float16/bfloat16 params)."""
{indent(init_unpack, 4)}
    _dtype = _runtime.compute_dtype(NAME, param.dtype)
    return {{
{indent(_init_lines(spec, host_printer), 8)}
    }}


def step(param, grad, state, t, **hyperparameters):
    """One in-place update of ``param`` and ``state``; scalars in float64, arrays in blocks."""
    _hp = _runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)
    t = _runtime.check_step(NAME, t)
    _dtype = _runtime.check_arrays(NAME, param, grad, state, STATE, SCALAR_STATE)
    # Host scalars are numpy.float64: a branch not taken may compute NaN or inf, never raise.
    with numpy.errstate(all="ignore"):
{indent(unpack + host + casts + flat, 8)}
        # {program.float_buffers} work buffers, then 2 for param/grad converted to the compute dtype.
        _buffers, _masks = _runtime.scratch(_dtype, {program.float_buffers + 2}, {program.mask_buffers})
        _block = _runtime.block_size(_dtype)
        for _lo in range(0, _theta_all.size, _block):
            _hi = min(_lo + _block, _theta_all.size)
{indent(block, 12)}
{indent(store, 8)}
'''
