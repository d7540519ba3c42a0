"""The numba backend's descriptor :data:`NUMBA` and its body builder: ``generated/numba/<name>.py`` has one parallel
numba loop per arithmetic precision."""
from __future__ import annotations

from optiforge.runtime.backends import PRECISIONS
from optiforge.specs.dsl import OptimizerSpec

from ..backend import Backend, ModuleBody, host_init_state_body
from ..driver import Lowered
from ..emit_common import LINE_WIDTH, host_block_lines, indent, scalar_state_store_lines, string_pieces
from ..host_printer import HostPrinter
from .loop import build_loop

__all__ = ["NUMBA", "numba_module_body"]


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def numba_module_body(spec: OptimizerSpec, lowered: Lowered, host_printer: HostPrinter) -> ModuleBody:
    """The numba module's loops, their table ``LOOPS``, ``init_state`` and ``step_unchecked`` (the host
    scalars, then one loop)."""
    ir = lowered.ir
    loops = [build_loop(ir, precision, lowered.names) for precision in PRECISIONS]
    booleans = ir.host_booleans()

    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    scalars = [f"bool({host_printer.doprint(s)})" if s in booleans else f"_dtype.type({host_printer.doprint(s)})"
               for s in loops[0].scalars]
    state = [f"state[{s.name!r}]" for s in spec.array_state]
    run = ["_numba_runtime.run(",
           f"    LOOPS[_dtype.name], param, grad, {_tuple(state)},",
           f"    {_tuple(scalars)})"]
    if spec.inputs:  # the declared inputs, loaded like the gradient
        run[-1] = f"    {_tuple(scalars)}, {_tuple([i.name for i in spec.inputs])})"
    loop_table = []
    for loop in loops:
        loop_table += [f"{loop.precision!r}: _numba_runtime.Loop(", f"    {loop.name},"]
        loop_table += [f"    {piece}" for piece in string_pieces(loop.signature, LINE_WIDTH - 8)]
        loop_table[-1] += ","
        loop_table += [f"    {loop.precision!r},", "),"]

    loops_table = f'''#: Arithmetic precision → loop and numba signature, compiled on first use (parallel, IEEE
#: arithmetic) and cached on disk outside the package (``_numba_runtime.cache_dir()``). float32
#: serves float16, bfloat16 and float32 parameters (state in float32), float64 serves float64.
LOOPS = {{
{indent(loop_table, 4)}
}}'''
    step_unchecked = "\n".join([indent(host_block_lines(ir, host_printer), 4), indent(run, 4),
                                indent(scalar_state_store_lines(ir, host_printer), 4)])
    return ModuleBody(
        init_state=("    _numba_runtime.numba_module()  # without numba, fail here with the extra to install\n"
                    + host_init_state_body(spec, host_printer)),
        step_unchecked=step_unchecked,
        definitions=tuple(loop.text for loop in loops) + (loops_table,),
    )


#: The numba backend: one parallel loop per arithmetic precision, compiled on first use.
NUMBA = Backend(
    name="numba",
    title="numba",
    imports="from optiforge.runtime import kernel_support as _runtime, numba_support as _numba_runtime",
    build_body=numba_module_body,
    step_unchecked_doc=""":func:`step` without the checks, for a caller that ran them (``Optimizer`` checks every
    tensor before it updates any): ``_hp``, ``t`` and ``_dtype`` as returned by
    ``_runtime.resolve_hyperparameters``, ``check_step`` and ``check_arrays``. Per-step scalars
    in float64 on the host, then one loop (threads: see ``_numba_runtime.run``).""",
)
