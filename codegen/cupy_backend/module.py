"""Emit ``generated/cupy/<name>.py``: one fused ``cupy.ElementwiseKernel`` per optimizer and precision."""
from __future__ import annotations

from optiforge.runtime.backends import PRECISIONS
from optiforge.specs.dsl import OptimizerSpec

from ..driver import lower_and_optimize
from ..emit_common import (LINE_WIDTH, banner, host_block_lines, indent, init_hyperparameter_lines,
                           init_state_lines, module_constants, module_docstring, scalar_state_store_lines,
                           string_pieces, wrap_code)
from ..host_printer import HostPrinter
from .kernel import build_kernel

__all__ = ["render_cupy_module"]



def _keyword_string(keyword: str, text: str) -> list[str]:
    """``keyword=<text>`` at indent 8 of the module, as adjacent literals that fit the line width."""
    pieces = string_pieces(text, LINE_WIDTH - 10 - len(keyword))
    lines = [f"    {keyword}={pieces[0]}"] + [f"    {' ' * (len(keyword) + 1)}{p}" for p in pieces[1:]]
    lines[-1] += ","
    return lines


def _kernel_literal(source) -> list[str]:
    operation = "\n".join(piece for line in source.operation.splitlines()
                          for piece in wrap_code(" " * 8 + line.strip(), LINE_WIDTH - 4, c=True) if line.strip())
    # the literal's value is the operation itself, whatever its comments quote
    operation = operation.replace("\\", "\\\\").replace("\'\'\'", "\\\'\\\'\\\'")
    return [
        f"{source.precision!r}: _cupy_runtime.KernelSource(",
        f"    name={source.name!r},",
        *_keyword_string("in_params", source.in_params),
        *_keyword_string("out_params", source.out_params),
        f"    operation='''\n{operation}\n''',",
        f"    scalars={source.scalars!r},",
        f"    precision={source.precision!r},",
        "),",
    ]


def render_cupy_module(spec: OptimizerSpec, generator_version: str) -> str:
    """The complete module text (deterministic for a given spec and generator)."""
    lowered = lower_and_optimize(spec)
    ir = lowered.ir
    kernels = [build_kernel(ir, precision, lowered.names) for precision in PRECISIONS]
    host_printer = HostPrinter(lowered.names)
    booleans = {host_printer.doprint(s) for s in ir.host_booleans()}

    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    arguments = [f"bool({n})" if n in booleans else f"_dtype.type({n})" for n in kernels[0].scalars]
    launch = ["_cupy_runtime.launch(KERNELS[_dtype.name], grad, " + "".join(f"{a}, " for a in arguments) + "param"
              + "".join(f", state[{s.name!r}]" for s in spec.array_state) + ", stream=stream)"]

    kernel_dict = [line for source in kernels for line in _kernel_literal(source)]
    return f'''{banner(spec, generator_version, "cupy")}
{module_docstring(spec, "CuPy")}
import math

import numpy

from optiforge.runtime import cupy_support as _cupy_runtime, kernel_support as _runtime

{module_constants(spec)}

#: Arithmetic precision → fused kernel. float32 serves float16, bfloat16 and float32 parameters
#: (state in float32), float64 serves float64. T and G are the parameter and gradient storage
#: dtypes.
KERNELS = {{
{indent(kernel_dict, 4)}
}}
BACKEND = 'cupy'


def array_library():
    """How the argument checks see this backend's arrays (``cupy.ndarray``; imports CuPy)."""
    return _cupy_runtime.array_library()


def init_state(param, **hyperparameters):
    """Fresh state for ``param`` on its device: arrays in the arithmetic dtype (float32 for
    float16/bfloat16)."""
{indent(init_hyperparameter_lines(spec), 4)}
    _dtype = _runtime.check_param(NAME, param, array_library())
    cupy = _cupy_runtime.cupy_module()
    with _cupy_runtime.device_of(param, NAME):
        return {{
{indent(init_state_lines(spec, host_printer, 'cupy'), 12)}
        }}


def step(param, grad, state, t, *, stream=None, **hyperparameters):
    """One in-place update of ``param`` and ``state``: one launch on ``stream`` (a CuPy stream or
    a ``torch.cuda.Stream``; default: CuPy's current stream). Every argument is checked first
    (the hyperparameters and ``t`` before CuPy is imported): a rejected call
    (ValueError/TypeError) writes nothing."""
    _hp = _runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)
    t = _runtime.check_step(NAME, t)
    _dtype = _runtime.check_arrays(NAME, param, grad, state, STATE, SCALAR_STATE, array_library())
    step_unchecked(param, grad, state, t, _hp, _dtype, stream=_cupy_runtime.as_stream(stream))


def step_unchecked(param, grad, state, t, _hp, _dtype, *, stream=None):
    """:func:`step` without the checks, for a caller that ran them (``Optimizer`` checks every
    tensor before it updates any): ``_hp``, ``t``, ``_dtype`` and ``stream`` as returned by
    ``_runtime.resolve_hyperparameters``, ``check_step``, ``check_arrays`` and
    ``_cupy_runtime.as_stream``. Per-step scalars in float64 on the host."""
{indent(host_block_lines(ir, host_printer), 4)}
{indent(launch, 4)}
{indent(scalar_state_store_lines(ir, host_printer), 4)}
'''
