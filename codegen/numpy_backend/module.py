"""The NumPy backend's descriptor :data:`NUMPY` and its body builder: ``generated/numpy/<name>.py`` runs a ufunc
program over cache-sized blocks."""
from __future__ import annotations

import sympy as sp

from optiforge.specs.dsl import GRAD, PARAM, OptimizerSpec

from ..backend import Backend, ModuleBody, host_init_state_body
from ..driver import Lowered
from ..emit_common import host_prologue_lines, indent, scalar_state_store_lines
from ..host_printer import HostPrinter
from .printer import UfuncPrinter
from .program import build_program

__all__ = ["NUMPY", "numpy_module_body"]


def numpy_module_body(spec: OptimizerSpec, lowered: Lowered, host_printer: HostPrinter) -> ModuleBody:
    """``init_state`` and ``step_unchecked`` of the NumPy module: the host scalars, then the ufunc program over
    each block."""
    ir = lowered.ir
    program = build_program(ir)
    ufunc_printer = UfuncPrinter(program.host_booleans, lowered.names)

    arrays = {PARAM.name, GRAD.name, "_theta_out"} | {s.name for s in spec.array_state} | {i.name for i in spec.inputs}
    registers = {f"_buf{i}" for i in range(program.float_buffers)} | {f"_mask{i}" for i in range(program.mask_buffers)}
    used = [a for call in program.calls for a in call.args] + [v for _, v in program.copies]
    cast = sorted({host_printer.doprint(a) for a in used if isinstance(a, sp.Symbol)
                   and a.name not in arrays | registers and a not in program.host_booleans})
    # 0-d arrays of the compute dtype: measured cheaper as ufunc operands than NumPy scalars.
    casts = [f"{c} = numpy.asarray({c}, _dtype)" for c in cast]

    reads = {a.name for a in used if isinstance(a, sp.Symbol)} | set(program.outputs)
    block = ["_n = _hi - _lo", "_theta_out = _theta_all[_lo:_hi]"]
    loads = program.float_buffers
    if PARAM.name in reads:
        block.append(f"theta = _runtime.load(_theta_out, _buffers[{loads}][:_n])")
    if GRAD.name in reads:
        block.append(f"g = _runtime.load(_grad_all[_lo:_hi], _buffers[{loads + 1}][:_n])")
    block += [f"{i.name} = _runtime.load(_{i.name}_all[_lo:_hi], _buffers[{loads + 2 + k}][:_n])"
              for k, i in enumerate(spec.inputs) if i.name in reads]
    block += [f"{s.name} = _{s.name}_all[_lo:_hi]" for s in spec.array_state if s.name in reads]
    block += [f"_buf{i} = _buffers[{i}][:_n]" for i in range(program.float_buffers)]
    block += [f"_mask{i} = _masks[{i}][:_n]" for i in range(program.mask_buffers)]
    block += ufunc_printer.calls(program.calls)
    for name, operand in program.copies:
        block.append(f"numpy.copyto({program.targets[name]}, {ufunc_printer.doprint(operand)})")

    flat = ["_theta_all = param.reshape(-1)", "_grad_all = grad.reshape(-1)"]
    flat += [f"_{i.name}_all = {i.name}.reshape(-1)" for i in spec.inputs]
    flat += [f"_{s.name}_all = state[{s.name!r}].reshape(-1)" for s in spec.array_state]
    loaded = "param/grad" + "".join(f"/{i.name}" for i in spec.inputs)
    buffers = program.float_buffers + 2 + len(spec.inputs)

    step_unchecked = f'''    # Host scalars are numpy.float64: a branch not taken may compute NaN or inf, never raise.
    with numpy.errstate(all="ignore"):
{indent(host_prologue_lines(ir, host_printer) + casts + flat, 8)}
        # {program.float_buffers} work buffers, then {2 + len(spec.inputs)} for {loaded} converted to the compute dtype.
        _buffers, _masks = _runtime.scratch(_dtype, {buffers}, {program.mask_buffers})
        _block = _runtime.block_size(_dtype)
        for _lo in range(0, _theta_all.size, _block):
            _hi = min(_lo + _block, _theta_all.size)
{indent(block, 12)}
{indent(scalar_state_store_lines(ir, host_printer), 8)}'''
    return ModuleBody(init_state=host_init_state_body(spec, host_printer), step_unchecked=step_unchecked)


#: The NumPy backend: ufunc programs over cache-sized blocks of the flattened arrays.
NUMPY = Backend(
    name="numpy",
    title="NumPy",
    imports="from optiforge.runtime import kernel_support as _runtime",
    build_body=numpy_module_body,
    step_unchecked_doc=""":func:`step` without the checks, for a caller that ran them (``Optimizer`` checks every
    tensor before it updates any): ``_hp``, ``t`` and ``_dtype`` as returned by
    ``_runtime.resolve_hyperparameters``, ``check_step`` and ``check_arrays``. Scalars in
    float64, arrays in blocks.""",
)
