"""Support shared by every generated module: argument checks, domains, scratch buffers, blocking.

Hand-written and imported by generated code; needs NumPy only. Every check runs before any array is
modified, so a rejected call leaves parameters and state untouched.
"""
from __future__ import annotations

import math
import numbers

import numpy

__all__ = ["Interval", "OneOf", "Integers", "resolve_hyperparameters", "check_step", "compute_dtype",
           "check_arrays", "scratch", "load", "BLOCK_BYTES", "block_size"]

#: Bytes per block and array: the block's slices of param, grad and state plus a few scratch buffers of
#: this size stay in the last-level cache. Measured (bench/numpy_step.py --sweep-blocks, Adam on 2^24
#: elements, AMD EPYC with 1 MiB L2, 32 MiB L3): 256 KiB to 1 MiB per buffer are equally fast, for float32
#: and float64, and 10-20 % faster than 64 KiB; smaller blocks pay more per-call overhead.
BLOCK_BYTES = 1 << 19


def block_size(dtype: numpy.dtype) -> int:
    """Elements per block for the compute dtype ``dtype``."""
    return BLOCK_BYTES // numpy.dtype(dtype).itemsize


class Interval:
    """A real interval; ``value in Interval(0, 1, right_open=True)`` tests 0 <= value < 1."""

    def __init__(self, lo: float, hi: float, *, left_open: bool = False, right_open: bool = False):
        self.lo, self.hi, self.left_open, self.right_open = lo, hi, left_open, right_open

    def __contains__(self, value: float) -> bool:
        above = value > self.lo if self.left_open else value >= self.lo
        below = value < self.hi if self.right_open else value <= self.hi
        return bool(above and below)

    def __str__(self) -> str:
        def bound(x):
            return "∞" if x == math.inf else "-∞" if x == -math.inf else f"{x:g}"
        return f"{'(' if self.left_open else '['}{bound(self.lo)}, {bound(self.hi)}{')' if self.right_open else ']'}"


class OneOf:
    """A finite set of allowed values (e.g. a 0/1 flag)."""

    def __init__(self, values):
        self.values = tuple(values)

    def __contains__(self, value) -> bool:
        return value in self.values

    def __str__(self) -> str:
        return "{" + ", ".join(f"{v:g}" for v in self.values) + "}"


class Integers:
    """Integers in [lo, hi]."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = lo, hi

    def __contains__(self, value) -> bool:
        return float(value).is_integer() and self.lo <= value <= self.hi

    def __str__(self) -> str:
        return f"integers in [{self.lo:g}, {'∞' if self.hi == math.inf else f'{self.hi:g}'}]"


def resolve_hyperparameters(optimizer: str, defaults: dict, domains: dict, given: dict) -> dict:
    """Defaults overridden by ``given``, each checked against its domain; returns Python floats."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise TypeError(f"{optimizer}: unknown hyperparameter(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(defaults)}")
    values = {}
    for name, default in defaults.items():
        value = given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{optimizer}: hyperparameter {name} must be a real number, got {value!r}")
        value = float(value)
        if math.isnan(value) or value not in domains[name]:
            raise ValueError(f"{optimizer}: hyperparameter {name}={value!r} is outside its allowed range "
                             f"{domains[name]}")
        values[name] = value
    return values


def check_step(optimizer: str, t) -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{optimizer}: step t must be an integer >= 1, got {t!r}")
    if t < 1:
        raise ValueError(f"{optimizer}: step t must be >= 1 (the first step is t = 1), got {t}")
    return int(t)


def compute_dtype(optimizer: str, dtype) -> numpy.dtype:
    """Arithmetic (and state) dtype for a parameter dtype: float64 stays, lower precisions use float32."""
    dtype = numpy.dtype(dtype)
    if dtype == numpy.float64:
        return dtype
    if dtype in (numpy.float32, numpy.float16) or dtype.name == "bfloat16":
        return numpy.dtype(numpy.float32)
    raise TypeError(f"{optimizer}: param dtype must be float16, bfloat16, float32 or float64, got {dtype}")


def _check_array(optimizer: str, what: str, array, *, shape=None, dtype=None, writeable: bool) -> None:
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"{optimizer}: {what} must be a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind != "f" and array.dtype.name != "bfloat16":
        raise TypeError(f"{optimizer}: {what} must have a floating dtype, got {array.dtype}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{optimizer}: {what} has shape {array.shape}, expected {shape} (the param's shape)")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{optimizer}: {what} has dtype {array.dtype}, expected {dtype}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{optimizer}: {what} must be C-contiguous (use numpy.ascontiguousarray)")
    if writeable and not array.flags.writeable:
        raise ValueError(f"{optimizer}: {what} is read-only; it is updated in place")


def check_arrays(optimizer: str, param, grad, state: dict, array_state: tuple, scalar_state: tuple) -> numpy.dtype:
    """Validate param, grad and state; return the compute dtype."""
    _check_array(optimizer, "param", param, writeable=True)
    dtype = compute_dtype(optimizer, param.dtype)
    _check_array(optimizer, "grad", grad, shape=param.shape, writeable=False)
    if not isinstance(state, dict):
        raise TypeError(f"{optimizer}: state must be the dict returned by init_state, got {type(state).__name__}")
    missing = sorted(set(array_state + scalar_state) - set(state))
    if missing:
        raise KeyError(f"{optimizer}: state is missing {', '.join(missing)} (create it with init_state)")
    arrays = [param, grad]
    for name in array_state:
        _check_array(optimizer, f"state[{name!r}]", state[name], shape=param.shape, dtype=dtype, writeable=True)
        if any(numpy.may_share_memory(state[name], other) for other in arrays):
            raise ValueError(f"{optimizer}: state[{name!r}] shares memory with param, grad or other state")
        arrays.append(state[name])
    for name in scalar_state:
        if not isinstance(state[name], numbers.Real):
            raise TypeError(f"{optimizer}: state[{name!r}] must be a real number, got {state[name]!r}")
    return dtype


_SCRATCH: dict[tuple, list] = {}


def scratch(dtype: numpy.dtype, count: int, masks: int = 0) -> tuple[list, list]:
    """Buffers of :func:`block_size` elements reused across calls: ``count`` of ``dtype`` and ``masks``
    booleans.

    (Module-level and so not thread-safe: two threads stepping the same dtype at once must not share it.)
    """
    block = block_size(dtype)
    key = (numpy.dtype(dtype), block, count, masks)  # the block size too: BLOCK_BYTES may be changed
    if key not in _SCRATCH:
        _SCRATCH[key] = ([numpy.empty(block, dtype) for _ in range(count)],
                         [numpy.empty(block, numpy.bool_) for _ in range(masks)])
    return _SCRATCH[key]


def load(view, buffer):
    """``view`` itself when it already has the compute dtype, else a converted copy in ``buffer``."""
    if view.dtype == buffer.dtype:
        return view
    numpy.copyto(buffer, view, casting="unsafe")
    return buffer
