"""Emit ``generated/numba/<name>.py``: one parallel numba loop per optimizer and arithmetic precision."""
from __future__ import annotations

from optiforge.runtime.backends import PRECISIONS
from optiforge.specs.dsl import OptimizerSpec

from ..driver import lower_and_optimize
from ..emit_common import (CHECKED_STEP, LINE_WIDTH, banner, host_block_lines, indent, init_hyperparameter_lines,
                           init_state_lines, module_constants, module_docstring, scalar_state_store_lines,
                           string_pieces)
from ..host_printer import HostPrinter
from .loop import build_loop

__all__ = ["render_numba_module"]


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def render_numba_module(spec: OptimizerSpec, generator_version: str) -> str:
    """The complete module text (deterministic for a given spec and generator)."""
    lowered = lower_and_optimize(spec)
    ir = lowered.ir
    loops = [build_loop(ir, precision, lowered.names) for precision in PRECISIONS]
    host_printer = HostPrinter(lowered.names)
    booleans = ir.host_booleans()

    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    scalars = [f"bool({host_printer.doprint(s)})" if s in booleans else f"_dtype.type({host_printer.doprint(s)})"
               for s in loops[0].scalars]
    state = [f"state[{s.name!r}]" for s in spec.array_state]
    run = ["_numba_runtime.run(",
           f"    LOOPS[_dtype.name], param, grad, {_tuple(state)},",
           f"    {_tuple(scalars)})"]
    loop_table = []
    for loop in loops:
        loop_table += [f"{loop.precision!r}: _numba_runtime.Loop(", f"    {loop.name},"]
        loop_table += [f"    {piece}" for piece in string_pieces(loop.signature, LINE_WIDTH - 8)]
        loop_table[-1] += ","
        loop_table += [f"    {loop.precision!r},", "),"]
    definitions = "\n\n\n".join(loop.text for loop in loops)

    return f'''{banner(spec, generator_version, "numba")}
{module_docstring(spec, "numba")}
import math

import numpy

from optiforge.runtime import kernel_support as _runtime, numba_support as _numba_runtime

{module_constants(spec)}
BACKEND = 'numba'


{definitions}


#: Arithmetic precision → loop and numba signature, compiled on first use (parallel, IEEE
#: arithmetic) and cached on disk outside the package (``_numba_runtime.cache_dir()``). float32
#: serves float16, bfloat16 and float32 parameters (state in float32), float64 serves float64.
LOOPS = {{
{indent(loop_table, 4)}
}}


def array_library():
    """How the argument checks see this backend's arrays (``numpy.ndarray``)."""
    return _runtime.NUMPY


def init_state(param, **hyperparameters):
    """Fresh state for ``param``: arrays in the compute dtype (float32 for float16/bfloat16
    params)."""
    _numba_runtime.numba_module()  # without numba, fail here with the extra to install
{indent(init_hyperparameter_lines(spec), 4)}
    _dtype = _runtime.check_param(NAME, param)
    return {{
{indent(init_state_lines(spec, host_printer, 'numpy'), 8)}
    }}


{CHECKED_STEP}


def step_unchecked(param, grad, state, t, _hp, _dtype):
    """:func:`step` without the checks, for a caller that ran them (``Optimizer`` checks every
    tensor before it updates any): ``_hp``, ``t`` and ``_dtype`` as returned by
    ``_runtime.resolve_hyperparameters``, ``check_step`` and ``check_arrays``. Per-step scalars
    in float64 on the host, then one loop (threads: see ``_numba_runtime.run``)."""
{indent(host_block_lines(ir, host_printer), 4)}
{indent(run, 4)}
{indent(scalar_state_store_lines(ir, host_printer), 4)}
'''
