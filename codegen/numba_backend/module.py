"""The numba backend's descriptor :data:`NUMBA` and its body builder: ``generated/numba/<name>.py`` has one parallel
numba loop per arithmetic precision."""
from __future__ import annotations

import textwrap

from optiforge.runtime.backends import PRECISIONS
from optiforge.specs.dsl import OptimizerSpec

from ..backend import Backend, ModuleBody, host_init_state_body
from ..driver import Lowered
from ..emit_common import LINE_WIDTH, host_block_lines, indent, scalar_state_store_lines, string_pieces, wrap_lines
from ..host_printer import HostPrinter
from .loop import build_loop, build_segment_loop

__all__ = ["NUMBA", "numba_module_body"]


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _loop_table(name: str, loops, comment: str) -> str:
    lines = []
    for loop in loops:
        lines += [f"{loop.precision!r}: _numba_runtime.Loop(", f"    {loop.name},"]
        lines += [f"    {piece}" for piece in string_pieces(loop.signature, LINE_WIDTH - 8)]
        lines[-1] += ","
        lines += [f"    {loop.precision!r},", "),"]
    return f"{comment}\n{name} = {{\n{indent(lines, 4)}\n}}"


def numba_module_body(spec: OptimizerSpec, lowered: Lowered, host_printer: HostPrinter) -> ModuleBody:
    """The numba module's loops, their table ``LOOPS``, ``init_state`` and ``step_unchecked`` (the host
    scalars, then one loop); for a spec without scalar state also the multi-tensor loops ``SEGMENT_LOOPS``,
    ``step_segments`` and the host scalars both steps share, ``loop_scalars``."""
    ir = lowered.ir
    loops = [build_loop(ir, precision, lowered.names) for precision in PRECISIONS]
    booleans = ir.host_booleans()

    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    scalars = [f"bool({host_printer.doprint(s)})" if s in booleans else f"_dtype.type({host_printer.doprint(s)})"
               for s in loops[0].scalars]
    state = [f"state[{s.name!r}]" for s in spec.array_state]
    definitions = tuple(loop.text for loop in loops) + (_loop_table("LOOPS", loops, _LOOPS_COMMENT),)
    host = host_block_lines(ir, host_printer)
    if ir.scalar_outputs or spec.inputs:  # scalar state is per tensor; inputs: one loop per tensor
        run = ["_numba_runtime.run(",
               f"    LOOPS[_dtype.name], param, grad, {_tuple(state)},",
               f"    {_tuple(scalars)})"]
        if spec.inputs:  # the declared inputs, loaded like the gradient
            run[-1] = f"    {_tuple(scalars)}, {_tuple([i.name for i in spec.inputs])})"
        step_unchecked = "\n".join([indent(host, 4), indent(run, 4),
                                    indent(scalar_state_store_lines(ir, host_printer), 4)])
    else:
        segment_loops = [build_segment_loop(ir, precision, lowered.names) for precision in PRECISIONS]
        step_unchecked = "\n".join(wrap_lines([
            "    _numba_runtime.run(",
            f"        LOOPS[_dtype.name], param, grad, {_tuple(state)}, loop_scalars(t, _hp, _dtype))"]))
        definitions += tuple(loop.text for loop in segment_loops) + (
            _loop_table("SEGMENT_LOOPS", segment_loops, _SEGMENT_LOOPS_COMMENT),
            "\n".join(wrap_lines([
                "def loop_scalars(t, _hp, _dtype):",
                '    """The loops\' scalar arguments for step ``t``: computed in float64 on the host, passed in the',
                '    arithmetic type."""',
                *(indent(host, 4).split("\n") if host else ()),
                f"    return {_tuple(scalars) if scalars else '()'}"])),
            "def step_segments(table, segments, t, _hp, _dtype):\n"
            + "\n".join(textwrap.wrap(
                ':func:`step_unchecked` over several tensors in one call, for a caller that checked them: '
                "``table[k]`` holds the addresses of tensor k's arrays "
                f"({', '.join(['param', 'grad', *(s.name for s in spec.array_state)])}), contiguous and of the "
                "arithmetic dtype ``_dtype``; ``segments[s]`` = (k, lo, hi) (int64 arrays: "
                '``_numba_runtime.segments``).', LINE_WIDTH - 4, initial_indent='    """',
                subsequent_indent="    ", break_on_hyphens=False)) + '"""\n'
            "    _numba_runtime.run_segments(\n"
            "        SEGMENT_LOOPS[_dtype.name], table, segments, loop_scalars(t, _hp, _dtype))",
        )
    return ModuleBody(
        init_state=("    _numba_runtime.numba_module()  # without numba, fail here with the extra to install\n"
                    + host_init_state_body(spec, host_printer)),
        step_unchecked=step_unchecked,
        definitions=definitions,
    )


_LOOPS_COMMENT = """#: Arithmetic precision → loop and numba signature, compiled on first use (parallel, IEEE
#: arithmetic) and cached on disk outside the package (``_numba_runtime.cache_dir()``). float32
#: serves float16, bfloat16 and float32 parameters (state in float32), float64 serves float64."""
_SEGMENT_LOOPS_COMMENT = """#: The same loops over the segments of several tensors (``step_segments``), float32 and
#: float64 arrays (the torch adapter steps other dtypes one tensor at a time)."""


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
