"""Emit ``generated/cupy/<name>.py``: one fused ``cupy.ElementwiseKernel`` per optimizer and precision."""
from __future__ import annotations

from specs.dsl import GRAD, PARAM, OptimizerSpec

from ..driver import lower_and_optimize
from ..emit_common import banner, domain_constructor, indent, module_docstring
from ..numpy_backend.printer import HostPrinter
from .kernel import build_kernel

__all__ = ["render_cupy_module", "PRECISIONS"]

#: Arithmetic precisions a module carries a kernel for (see ``generated._cupy_runtime.STORAGE_DTYPES``).
PRECISIONS = ("float32", "float64")


def _init_lines(spec: OptimizerSpec, printer: HostPrinter) -> list[str]:
    lines = []
    for s in spec.array_state:
        if s.init == PARAM:
            value = "param.astype(dtype, copy=True)"
        elif s.init is None or s.init == GRAD or s.init == 0:
            value = "cupy.zeros(param.shape, dtype)"
        else:
            value = f"cupy.full(param.shape, {printer.doprint(s.init)}, dtype)"
        note = "  # replaced by the first gradient at t = 1" if s.init == GRAD else ""
        lines.append(f"{s.name!r}: {value},{note}")
    lines += [f"{s.name!r}: float({printer.doprint(s.init)})," for s in spec.scalar_state]
    return lines


def _kernel_literal(source) -> list[str]:
    operation = "\n".join(" " * 8 + line for line in source.operation.splitlines())
    return [
        f"{source.precision!r}: _cupy_runtime.KernelSource(",
        f"    name={source.name!r},",
        f"    in_params={source.in_params!r},",
        f"    out_params={source.out_params!r},",
        f"    operation='''\n{operation}\n''',",
        f"    scalars={source.scalars!r},",
        f"    precision={source.precision!r},",
        "),",
    ]


def render_cupy_module(spec: OptimizerSpec, generator_version: str) -> str:
    """The complete module text (deterministic for a given spec and generator)."""
    ir = lower_and_optimize(spec).ir
    kernels = [build_kernel(ir, precision) for precision in PRECISIONS]
    host_printer = HostPrinter()
    booleans = {s.name for s in ir.host_booleans()}

    hypers = [h.name for h in spec.hyperparameters]
    scalar_names = [s.name for s in spec.scalar_state]
    unpack = [f"{n} = hp[{n!r}]" for n in hypers] + [f"{n} = state[{n!r}]" for n in scalar_names]
    host = [f"{host_printer.doprint(sym)} = {host_printer.doprint(expr)}" for sym, expr in ir.host]
    # Scalars travel in the arithmetic type (never the storage type: float16(0.999) = 0.99902).
    arguments = [f"bool({n})" if n in booleans else f"dtype.type({n})" for n in kernels[0].scalars]
    launch = ["_cupy_runtime.launch(",
              "    KERNELS[dtype.name], grad, " + "".join(f"{a}, " for a in arguments) + "param"
              + "".join(f", state[{s.name!r}]" for s in spec.array_state) + ")"]
    store = [f"state[{name!r}] = {host_printer.doprint(sym)}" for name, sym in ir.scalar_outputs]

    hyper_dict = "\n".join(f"    {h.name!r}: {h.default!r}," for h in spec.hyperparameters)
    domain_dict = "\n".join(f"    {h.name!r}: {domain_constructor(h.domain)}," for h in spec.hyperparameters)
    state_tuple = "".join(f"{s.name!r}, " for s in spec.array_state).rstrip(" ")
    scalar_tuple = "".join(f"{n!r}, " for n in scalar_names).rstrip(" ")
    init_reads = sorted({sym.name for s in spec.state if s.init is not None for sym in s.init.free_symbols} & set(hypers))
    resolve = "_runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)"
    init_unpack = ([f"hp = {resolve}"] + [f"{n} = hp[{n!r}]" for n in init_reads]) if init_reads else [resolve]
    kernel_dict = [line for source in kernels for line in _kernel_literal(source)]
    return f'''{banner(spec, generator_version, "cupy")}
{module_docstring(spec, "CuPy")}
import math

from generated import _cupy_runtime, _runtime

NAME = {spec.name!r}
HYPERPARAMETERS = {{
{hyper_dict}
}}
DOMAINS = {{
{domain_dict}
}}
STATE = ({state_tuple})
SCALAR_STATE = ({scalar_tuple})

#: Arithmetic precision → fused kernel. float32 serves float16, bfloat16 and float32 parameters (state
#: in float32), float64 serves float64. T and G are the parameter and gradient storage dtypes.
KERNELS = {{
{indent(kernel_dict, 4)}
}}


def init_state(param, **hyperparameters):
    """Fresh state for ``param`` on its device: arrays in the arithmetic dtype (float32 for float16/bfloat16)."""
    cupy = _cupy_runtime.cupy_module()
{indent(init_unpack, 4)}
    dtype = _runtime.compute_dtype(NAME, param.dtype)
    with _cupy_runtime.device_of(param):
        return {{
{indent(_init_lines(spec, host_printer), 12)}
        }}


def step(param, grad, state, t, **hyperparameters):
    """One in-place update of ``param`` and ``state``: per-step scalars in float64 on the host, one launch."""
    hp = _runtime.resolve_hyperparameters(NAME, HYPERPARAMETERS, DOMAINS, hyperparameters)
    t = _runtime.check_step(NAME, t)
    dtype = _cupy_runtime.check_arrays(NAME, param, grad, state, STATE, SCALAR_STATE)
{indent(unpack + host + launch, 4)}
{indent(store, 4)}
'''
