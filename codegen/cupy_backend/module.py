"""The CuPy backend's descriptor :data:`CUPY` and its body builder: ``generated/cupy/<name>.py`` has one fused
``cupy.ElementwiseKernel`` per arithmetic precision."""
from __future__ import annotations

from optiforge.runtime.backends import PRECISIONS
from optiforge.specs.dsl import OptimizerSpec

from ..backend import Backend, ModuleBody
from ..driver import Lowered
from ..emit_common import (LINE_WIDTH, host_block_lines, indent, init_hyperparameter_lines, init_state_return_lines,
                           scalar_state_store_lines, string_pieces, wrap_code)
from ..host_printer import HostPrinter
from .kernel import build_kernel

__all__ = ["CUPY", "cupy_module_body"]



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


def cupy_module_body(spec: OptimizerSpec, lowered: Lowered, host_printer: HostPrinter) -> ModuleBody:
    """The CuPy module's kernel table ``KERNELS``, ``init_state`` (on the parameter's device) and
    ``step_unchecked`` (the host scalars, then one launch)."""
    ir = lowered.ir
    kernels = [build_kernel(ir, precision, lowered.names) for precision in PRECISIONS]
    booleans = {host_printer.doprint(s) for s in ir.host_booleans()}

    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    arguments = [f"bool({n})" if n in booleans else f"_dtype.type({n})" for n in kernels[0].scalars]
    launch = ["_cupy_runtime.launch(KERNELS[_dtype.name], grad, " + "".join(f"{i.name}, " for i in spec.inputs)
              + "".join(f"{a}, " for a in arguments) + "param"
              + "".join(f", state[{s.name!r}]" for s in spec.array_state) + ", stream=stream)"]

    kernel_dict = [line for source in kernels for line in _kernel_literal(source)]
    kernels_table = f'''#: Arithmetic precision → fused kernel. float32 serves float16, bfloat16 and float32 parameters
#: (state in float32), float64 serves float64. T and G are the parameter and gradient storage
#: dtypes.
KERNELS = {{
{indent(kernel_dict, 4)}
}}'''
    init_state = f'''{indent(init_hyperparameter_lines(spec), 4)}
    _dtype = _runtime.check_param(NAME, param, array_library())
    cupy = _cupy_runtime.cupy_module()
    with _cupy_runtime.device_of(param, NAME):
{indent(init_state_return_lines(spec, host_printer, 'cupy'), 8)}'''
    step_unchecked = "\n".join([indent(host_block_lines(ir, host_printer), 4), indent(launch, 4),
                                indent(scalar_state_store_lines(ir, host_printer), 4)])
    return ModuleBody(init_state=init_state, step_unchecked=step_unchecked, constants=(kernels_table,))


#: ``step`` of the CuPy module: the shared checks (CuPy imported only after the hyperparameters and ``t``
#: passed), then one launch on the caller's stream.
_CUPY_STEP = '''def step(param, grad, state, t, *, stream=None, **hyperparameters):
    """One in-place update of ``param`` and ``state``: one launch on ``stream`` (a CuPy stream or
    a ``torch.cuda.Stream``; default: CuPy's current stream). Every argument is checked first
    (the hyperparameters and ``t`` before CuPy is imported): a rejected call
    (ValueError/TypeError) writes nothing."""
    _hp = _runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)
    t = _runtime.check_step(NAME, t)
    _dtype = _runtime.check_arrays(NAME, param, grad, state, STATE, SCALAR_STATE, array_library())
    step_unchecked(param, grad, state, t, _hp, _dtype, stream=_cupy_runtime.as_stream(stream))'''

#: The CuPy backend: one fused ``cupy.ElementwiseKernel`` per arithmetic precision, launched on a stream.
CUPY = Backend(
    name="cupy",
    title="CuPy",
    imports="from optiforge.runtime import cupy_support as _cupy_runtime, kernel_support as _runtime",
    build_body=cupy_module_body,
    array_type="``cupy.ndarray``; imports CuPy",
    array_library="_cupy_runtime.array_library()",
    init_state_doc="""Fresh state for ``param`` on its device: arrays in the arithmetic dtype (float32 for
    float16/bfloat16).""",
    step=_CUPY_STEP,
    step_unchecked_parameters="param, grad, state, t, _hp, _dtype, *, stream=None",
    step_unchecked_doc=""":func:`step` without the checks, for a caller that ran them (``Optimizer`` checks every
    tensor before it updates any): ``_hp``, ``t``, ``_dtype`` and ``stream`` as returned by
    ``_runtime.resolve_hyperparameters``, ``check_step``, ``check_arrays`` and
    ``_cupy_runtime.as_stream``. Per-step scalars in float64 on the host.""",
)
