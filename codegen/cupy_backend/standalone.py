"""The kernel operation wrapped in a plain loop, without CuPy: for CUDA (``__global__`` grid-stride loop,
the compile check's fallback) or for the host (a C++ function called through ctypes, host emulation).

Both bind each argument name to element ``i`` exactly as CuPy's template does (``const G &grad``,
``T &param``, state references), so the operation text is the generated one, unchanged. Like CuPy's
``CArray`` arguments, the pointers are not ``__restrict__``: the gradient may be the parameter array
itself, and the operation reads both before it writes either.
"""
from __future__ import annotations

import textwrap

from optiforge.runtime.cupy_support import KernelSource

__all__ = ["StorageTypes", "standalone_source", "parse_params", "C_STORAGE"]

#: storage dtype → (CUDA C type, host C++ type, header needed on CUDA)
C_STORAGE = {
    "float32": ("float", "float", None),
    "float64": ("double", "double", None),
    "float16": ("__half", "_Float16", "cuda_fp16.h"),
    "bfloat16": ("__nv_bfloat16", "optiforge_bfloat16", "cuda_bf16.h"),
}
_SCALAR_C = {"float32": "float", "float64": "double", "bool": "bool"}

# Host stand-in for bfloat16 storage: the upper half of a float32, rounded to nearest even on store
# (what __float2bfloat16_rn and CuPy's bfloat16(float) do). NaN is kept quiet.
_HOST_BFLOAT16 = r"""
#include <cstdint>
#include <cstring>
struct optiforge_bfloat16 {
  uint16_t bits;
  optiforge_bfloat16() : bits(0) {}
  optiforge_bfloat16(float f) {
    uint32_t u; std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) { bits = (uint16_t)((u >> 16) | 0x40u); return; }
    u += 0x7fffu + ((u >> 16) & 1u);
    bits = (uint16_t)(u >> 16);
  }
  optiforge_bfloat16(double d) : optiforge_bfloat16((float)d) {}
  operator float() const { uint32_t u = (uint32_t)bits << 16; float f; std::memcpy(&f, &u, 4); return f; }
};
"""


def parse_params(params: str) -> list[tuple[str, str]]:
    """``"G grad, float32 c0"`` → ``[("G", "grad"), ("float32", "c0")]``."""
    return [tuple(p.split()) for p in params.split(",")]


class StorageTypes:
    """Storage dtypes of the placeholders: ``param`` → T, ``grad`` → G."""

    def __init__(self, param: str, grad: str):
        self.param, self.grad = param, grad


def _signature(source: KernelSource) -> tuple[list[str], list[str]]:
    """C arguments (arrays as pointers, scalars by value) and the per-element reference bindings."""
    arguments, bindings = [], []
    params = [("in", p) for p in parse_params(source.in_params)] + [("out", p) for p in parse_params(source.out_params)]
    for kind, (type_name, name) in params:
        if kind == "in" and type_name not in ("T", "G"):
            arguments.append(f"{_SCALAR_C[type_name]} {name}")
            continue
        c_type = type_name if type_name in ("T", "G") else _SCALAR_C[type_name]
        const = "const " if kind == "in" else ""
        arguments.append(f"{const}{c_type} *_raw_{name}")
        bindings.append(f"{const}{c_type} &{name} = _raw_{name}[i];")
    return arguments, bindings


def standalone_source(sources, types: StorageTypes, target: str) -> str:
    """Translation unit defining ``extern "C" <source.name>(...)`` for each of ``sources`` (a list, or one
    :class:`KernelSource`), for ``target`` "cuda" or "host".

    Arguments: the kernel's in then out params (arrays as pointers, scalars by value), then ``_n``.
    """
    sources = [sources] if isinstance(sources, KernelSource) else list(sources)
    column = 0 if target == "cuda" else 1
    headers = sorted({C_STORAGE[d][2] for d in (types.param, types.grad) if C_STORAGE[d][2]})
    lines = [f"#include <{h}>" for h in headers] if target == "cuda" else \
        ["#include <cmath>", "using std::sqrt; using std::fabs; using std::exp; using std::log; using std::pow;",
         _HOST_BFLOAT16]
    lines += [f"typedef {C_STORAGE[types.param][column]} T;", f"typedef {C_STORAGE[types.grad][column]} G;"]
    for source in sources:
        arguments, bindings = _signature(source)
        arguments.append("long long _n")
        body = "\n".join("    " + line for line in bindings + textwrap.dedent(source.operation).strip().splitlines())
        if target == "cuda":
            lines += [f'extern "C" __global__ void {source.name}({", ".join(arguments)}) {{',
                      "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < _n;"
                      " i += (long long)blockDim.x * gridDim.x) {"]
        else:
            lines += [f'extern "C" void {source.name}({", ".join(arguments)}) {{',
                      "  for (long long i = 0; i < _n; ++i) {"]
        lines += [body, "  }", "}", ""]
    return "\n".join(lines)
