"""Support shared by every generated module: argument checks, domains, scratch buffers, blocking.

A stable module (the ABI of every emitted kernel module, users' ``--out`` packages included, which import it
as ``from optiforge.runtime import kernel_support as _runtime``); needs NumPy only. The checks are the one
place every backend (NumPy, CuPy, the host emulation of CuPy) and :class:`optiforge.runtime.Optimizer` validate
arguments: they
raise ``TypeError`` (wrong type or dtype) or ``ValueError`` (wrong value, shape, layout, range, aliasing),
naming the argument and what is allowed, and they all run before any array is written, so a rejected call
leaves parameters, state and the step counter untouched.

Scratch buffers are per thread: independent optimizers can step in different threads at the same time.
"""
from __future__ import annotations

import bisect
import math
import numbers
import threading
import weakref
from typing import Callable, NamedTuple

import numpy

from optiforge.runtime.backends import STORAGE_DTYPES

__all__ = ["Interval", "OneOf", "Integers", "ArrayLibrary", "NUMPY", "MAX_STEP", "STORAGE_DTYPES",
           "resolve_hyperparameters", "check_integer", "check_step", "compute_dtype", "check_param", "check_grad",
           "check_arrays", "check_inputs", "check_state", "check_disjoint", "check_scalar_state", "check_params", "type_name", "shown",
           "Extents", "scratch", "clear_scratch", "load", "BLOCK_BYTES", "block_size"]

#: Bytes per block and array: the block's slices of param, grad and state plus a few scratch buffers of
#: this size stay in the last-level cache. Measured (bench/numpy_step.py --sweep-blocks, Adam on 2^24
#: elements, AMD EPYC with 1 MiB L2, 32 MiB L3): 256 KiB to 1 MiB per buffer are equally fast, for float32
#: and float64, and 10-20 % faster than 64 KiB; smaller blocks pay more per-call overhead.
BLOCK_BYTES = 1 << 19

#: The largest step t: per-step scalars such as :math:`\beta^t` are computed in float64, which holds every
#: integer up to :math:`2^{53}` exactly.
MAX_STEP = 2 ** 53



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


def shown(value) -> str:
    """``repr(value)``, shortened for huge integers (10**400 would print 401 digits)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


# ---------------------------------------------------------------------------------------------------------
# Scalars: hyperparameters, the step, scalar state
# ---------------------------------------------------------------------------------------------------------
def resolve_hyperparameters(optimizer: str, defaults: dict, domains: dict, given, *, source: str | None = None) -> dict:
    """Defaults overridden by ``given``, each checked against its domain; returns Python floats.

    ``source`` names where ``given`` came from when it is not keyword arguments (e.g.
    ``state_dict['hyperparameters']``); it must then name every hyperparameter."""
    where = f" in {source}" if source else ""
    if not isinstance(given, dict):
        raise TypeError(f"{optimizer}: {source or 'hyperparameters'} must be a dict of name → number, got "
                        f"{type(given).__name__}")
    if given.keys() - defaults.keys():
        unknown = sorted(map(str, given.keys() - defaults.keys()))
        raise TypeError(f"{optimizer}: unknown hyperparameter(s) {', '.join(unknown)}{where}; "
                        f"valid: {', '.join(defaults)}")
    if source and defaults.keys() - given.keys():
        missing = [name for name in defaults if name not in given]
        raise ValueError(f"{optimizer}: {source} lacks {', '.join(missing)} (it must hold every hyperparameter)")
    values = {}
    for name, default in defaults.items():
        value = given.get(name, default)
        if type(value) is float and value in domains[name]:  # the common case, without the ABC checks
            values[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{optimizer}: hyperparameter {name}{where} must be a real number, got {shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{optimizer}: hyperparameter {name}={shown(value)}{where} is outside its allowed "
                             f"range {domains[name]}") from None
        if math.isnan(number) or number not in domains[name]:
            raise ValueError(f"{optimizer}: hyperparameter {name}={number!r}{where} is outside its allowed range "
                             f"{domains[name]}")
        values[name] = number
    return values


def check_integer(optimizer: str, what: str, value, lo: int, hi: int) -> int:
    """``value`` as an ``int`` in [lo, hi]: Python or NumPy integers only (not bool, float or str)."""
    if type(value) is int and lo <= value <= hi:  # the common case, without the ABC check
        return value
    top = {MAX_STEP: "2**53", MAX_STEP - 1: "2**53 - 1"}.get(hi, str(hi))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{optimizer}: {what} must be an integer in [{lo}, {top}], got {shown(value)} "
                        f"({type(value).__name__})")
    if not lo <= value <= hi:
        raise ValueError(f"{optimizer}: {what} must be in [{lo}, {top}]"
                         f"{' (the first step is t = 1)' if lo == 1 else ''}, got {shown(value)}")
    return int(value)


def check_step(optimizer: str, t) -> int:
    """The step ``t`` of a ``step`` call: an integer in [1, :data:`MAX_STEP`]."""
    return check_integer(optimizer, "step t", t, 1, MAX_STEP)


def check_scalar_state(optimizer: str, what: str, value) -> float:
    """A scalar state value: a real number (not bool) that float64 holds. NaN and ±inf are accepted, as in
    array state: a step may produce them, and its output is always a valid input of the next."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {what} must be a real number, got {shown(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{optimizer}: {what} must be a float64 number, got {shown(value)}") from None


# ---------------------------------------------------------------------------------------------------------
# Arrays
# ---------------------------------------------------------------------------------------------------------
class ArrayLibrary(NamedTuple):
    """How the checks see one array library's arrays (:data:`NUMPY`; CuPy's comes from
    ``cupy_support.array_library()``)."""

    #: what error messages call the array type, e.g. ``numpy.ndarray``
    name: str
    ndarray: type
    #: subclasses of ``ndarray`` whose arithmetic or indexing differs (``numpy.matrix``): rejected
    rejected: tuple
    may_share_memory: Callable
    #: start address of a C-contiguous array's data (``[address, address + nbytes)`` is its memory)
    address: Callable
    #: device id of an array, or None where the library has a single memory
    device: Callable | None
    #: the call that makes a contiguous copy, for the error message
    contiguous_hint: str
    #: the array that owns an array's memory when the library allocated it (None: foreign memory, e.g. a view
    #: of a torch tensor); None where ownership is not tracked. Arrays with different owners cannot overlap,
    #: which spares the (slow) address lookups in the common case.
    owner: Callable | None = None
    #: the message for an argument ``what`` that is not an ``ndarray`` (``got``: its type's name)
    type_message: str = "{what} must be a {name}, got {got}"


def _numpy_owner(array):
    while True:
        base = array.base
        if base is None:
            return array
        if not isinstance(base, numpy.ndarray):
            return None  # memory from another object (buffer protocol, DLPack, torch): not tracked
        array = base


NUMPY = ArrayLibrary("numpy.ndarray", numpy.ndarray, (numpy.matrix, numpy.ma.MaskedArray), numpy.may_share_memory,
                     lambda array: array.ctypes.data, None, "numpy.ascontiguousarray", _numpy_owner)
_NATIVE_FLOATS = frozenset(numpy.dtype(name) for name in ("float16", "float32", "float64"))
_FLOAT32, _FLOAT64 = numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)


def compute_dtype(optimizer: str, dtype, what: str = "param") -> numpy.dtype:
    """Arithmetic (and state) dtype for a parameter dtype: float64 stays, lower precisions use float32."""
    dtype = numpy.dtype(dtype)
    _check_storage_dtype(optimizer, what, dtype)
    return _FLOAT64 if dtype == _FLOAT64 else _FLOAT32


def _check_storage_dtype(optimizer: str, what: str, dtype) -> None:
    if dtype in _NATIVE_FLOATS:
        return
    if dtype.name != "bfloat16" or not dtype.isnative:
        raise TypeError(f"{optimizer}: {what} dtype must be one of {', '.join(STORAGE_DTYPES)}, got {dtype}")


def type_name(value) -> str:
    """``value``'s type as error messages show it: ``numpy.ndarray``, ``list``."""
    kind = type(value)
    return f"{'' if kind.__module__ == 'builtins' else kind.__module__ + '.'}{kind.__qualname__}"


def _check_type(optimizer: str, what: str, array, library: ArrayLibrary) -> None:
    if not isinstance(array, library.ndarray) or isinstance(array, library.rejected):
        raise TypeError(f"{optimizer}: " + library.type_message.format(what=what, name=library.name,
                                                                       got=type_name(array)))


def _check_layout(optimizer: str, what: str, array, library: ArrayLibrary, *, writeable: bool) -> None:
    flags = array.flags
    if not flags.c_contiguous:
        raise ValueError(f"{optimizer}: {what} must be C-contiguous (use {library.contiguous_hint})")
    if writeable and not getattr(flags, "writeable", True):
        raise ValueError(f"{optimizer}: {what} is read-only; it is updated in place")


def check_param(optimizer: str, param, library: ArrayLibrary = NUMPY, *, what: str = "param",
                writeable: bool = False) -> numpy.dtype:
    """A parameter: the library's array type, a storage dtype, C-contiguous (and writeable when
    ``writeable``); returns the compute dtype."""
    _check_type(optimizer, what, param, library)
    dtype = compute_dtype(optimizer, param.dtype, what)
    _check_layout(optimizer, what, param, library, writeable=writeable)
    return dtype


def check_grad(optimizer: str, grad, shape: tuple, library: ArrayLibrary = NUMPY, *, what: str = "grad") -> None:
    """A gradient: the library's array type, a storage dtype (its own, not necessarily the param's), the
    param's shape, C-contiguous."""
    _check_type(optimizer, what, grad, library)
    _check_storage_dtype(optimizer, what, grad.dtype)
    if grad.shape != shape:
        raise ValueError(f"{optimizer}: {what} has shape {grad.shape}, expected {shape} (the param's shape)")
    _check_layout(optimizer, what, grad, library, writeable=False)


def _check_device(optimizer: str, what: str, array, device, library: ArrayLibrary) -> None:
    if library.device is not None and library.device(array) != device:
        raise ValueError(f"{optimizer}: {what} is on device {library.device(array)}, expected {device} "
                         "(the param's)")


def check_arrays(optimizer: str, param, grad, state: dict, array_state: tuple, scalar_state: tuple,
                 library: ArrayLibrary = NUMPY, names: tuple = ("param", "grad", "state")) -> numpy.dtype:
    """Validate a ``step`` call's param, grad and state; return the compute dtype (also the state dtype).

    Type, dtype, shape, contiguity, writeability, device, and aliasing: no two of param, grad and the state
    arrays may share memory (an in-place update would read what it already wrote), except that grad may be
    exactly the param's memory (same address and dtype): every kernel reads each element's gradient before it
    writes the element's parameter, so ``step(w, w, …)`` computes what ``step(w, w.copy(), …)`` does.
    ``names``: what the messages call the three arguments (``Optimizer`` passes ``params[i]``, ``grads[i]``,
    ``state[i]``)."""
    param_name, grad_name, state_name = names
    dtype = check_param(optimizer, param, library, what=param_name, writeable=True)
    check_grad(optimizer, grad, param.shape, library, what=grad_name)
    if library.device is not None:
        _check_device(optimizer, grad_name, grad, library.device(param), library)
    # The gradient is often a new array every step (a view of this step's gradient): not part of the set whose
    # verdict is remembered.
    # may_share_memory first: a bounds test, where the two address lookups cost about 3 µs per call
    grad_is_param = grad is param or (grad.dtype == param.dtype and library.may_share_memory(grad, param)
                                      and library.address(grad) == library.address(param))
    check_state(optimizer, param, dtype, state, array_state, scalar_state, library, [(param_name, param)],
                state_name, transient=[] if grad_is_param else [(grad_name, grad)])
    return dtype


def check_inputs(optimizer: str, param, grad, state: dict, array_state: tuple, inputs: dict,
                 library: ArrayLibrary = NUMPY, names: tuple = ("param", "grad", "state")) -> None:
    """Validate the declared inputs besides the gradient (name → array) of a ``step`` call whose param, grad and
    state :func:`check_arrays` passed: each like a gradient (array type, storage dtype, the param's shape,
    C-contiguous, the param's device) and in the gradient's dtype (the CuPy kernels read both through one
    storage type), sharing no memory with the param or a state array (which the step writes). ``names``: as
    for :func:`check_arrays`; an input is called ``<name>`` (``Optimizer`` passes ``hessian[i]`` forms)."""
    param_name, grad_name, state_name = names
    for name, array in inputs.items():
        # Optimizer calls the param params[i]: the input is then hessian[i]
        what = f"{name}{param_name[param_name.index('['):]}" if "[" in param_name else name
        check_grad(optimizer, array, param.shape, library, what=what)
        if library.device is not None:
            _check_device(optimizer, what, array, library.device(param), library)
        if array.dtype != grad.dtype:
            raise TypeError(f"{optimizer}: {what} has dtype {array.dtype}, expected {grad.dtype} (the gradient's)")
        for other_name, other in [(param_name, param)] + [(f"{state_name}[{key!r}]", state[key])
                                                          for key in array_state]:
            if library.may_share_memory(array, other):
                raise ValueError(f"{optimizer}: {what} shares memory with {other_name}, which the step writes")


#: Sets of arrays found disjoint, by the ids of their arrays; weak references tell the same arrays from new
#: ones that reuse an id. An array's memory cannot move and, C-contiguous (checked before), keeps its extent, so
#: the verdict holds while the arrays live: an optimizer stepping the same arrays (views of torch tensors, whose
#: memory has no owner to compare) checks them pairwise once.
_DISJOINT: dict[tuple, tuple] = {}
_DISJOINT_MAX = 1 << 14


def check_disjoint(optimizer: str, arrays: list, library: ArrayLibrary = NUMPY, transient: list = ()) -> None:
    """No two of ``arrays`` and ``transient`` (``(what, array)`` pairs, C-contiguous) share memory. Arrays whose
    memory has different known owners cannot overlap; otherwise ``may_share_memory`` runs pairwise, for
    ``arrays`` among themselves once per set of arrays (:data:`_DISJOINT`), for ``transient`` every call."""
    if library.owner is not None:
        owners = []
        for _, a in (*arrays, *transient):
            owner = library.owner(a)
            if owner is None:
                break
            owners.append(id(owner))
        else:
            if len(set(owners)) == len(owners):
                return
    for i, (what, array) in enumerate(transient):
        for other_name, other in (*arrays, *transient[:i]):
            if library.may_share_memory(array, other):
                raise ValueError(f"{optimizer}: {what} shares memory with {other_name}")
    key = tuple(id(a) for _, a in arrays)
    known = _DISJOINT.get(key)
    if known is not None and all(ref() is a for ref, (_, a) in zip(known, arrays)):
        return
    for i, (what, array) in enumerate(arrays):
        for other_name, other in arrays[:i]:
            if library.may_share_memory(array, other):
                raise ValueError(f"{optimizer}: {what} shares memory with {other_name}")
    try:
        references = tuple(weakref.ref(a) for _, a in arrays)
    except TypeError:  # an array type without weak references: checked every time
        return
    if len(_DISJOINT) >= _DISJOINT_MAX:
        _DISJOINT.clear()
    _DISJOINT[key] = references


def _check_state_array(optimizer: str, what: str, array, param, dtype: numpy.dtype, library: ArrayLibrary) -> None:
    _check_type(optimizer, what, array, library)
    if array.dtype != dtype:
        raise TypeError(f"{optimizer}: {what} has dtype {array.dtype}, expected {dtype} (the state dtype "
                        f"for a {param.dtype} param)")
    if array.shape != param.shape:
        raise ValueError(f"{optimizer}: {what} has shape {array.shape}, expected {param.shape} "
                         "(the param's shape)")
    _check_layout(optimizer, what, array, library, writeable=True)
    if library.device is not None:
        _check_device(optimizer, what, array, library.device(param), library)


def check_state(optimizer: str, param, dtype: numpy.dtype, state: dict, array_state: tuple, scalar_state: tuple,
                library: ArrayLibrary, others: list, state_name: str = "state", *, transient: list = ()) -> None:
    """The state of ``param`` (compute dtype ``dtype``): every key present, arrays of ``dtype`` and the param's
    shape, writeable, C-contiguous, on the param's device, sharing memory with none of ``others`` and
    ``transient`` (``(what, array)`` pairs; see :func:`check_disjoint`) nor each other; scalar state finite real
    numbers."""
    if not isinstance(state, dict):
        raise TypeError(f"{optimizer}: {state_name} must be the dict returned by init_state, got "
                        f"{type(state).__name__}")
    missing = [key for key in array_state + scalar_state if key not in state]
    if missing:
        raise ValueError(f"{optimizer}: {state_name} lacks {', '.join(map(repr, missing))} (create it with "
                         "init_state)")
    arrays = list(others)
    device = library.device(param) if library.device is not None else None
    for key in array_state:
        array, what = state[key], f"{state_name}[{key!r}]"
        # The common case in one test; anything else through the checks that say what is wrong.
        if not (type(array) is library.ndarray and array.dtype == dtype and array.shape == param.shape
                and array.flags.c_contiguous and getattr(array.flags, "writeable", True)
                and (device is None or library.device(array) == device)):
            _check_state_array(optimizer, what, array, param, dtype, library)
        arrays.append((what, array))
    check_disjoint(optimizer, arrays, library, transient)
    for key in scalar_state:
        check_scalar_state(optimizer, f"{state_name}[{key!r}]", state[key])


class Extents:
    """The memory of a set of C-contiguous arrays, as sorted ``[start, end)`` byte ranges, to find overlaps in
    O(n log n) (pairwise ``may_share_memory`` is quadratic in the number of tensors)."""

    def __init__(self, optimizer: str, arrays, library: ArrayLibrary = NUMPY):
        """``arrays``: ``(what, array)`` pairs that must not overlap each other (ValueError otherwise)."""
        arrays = [(what, a) for what, a in arrays if a.nbytes]
        spans = sorted((library.address(a), library.address(a) + a.nbytes, what) for what, a in arrays)
        for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
            if start < end:
                raise ValueError(f"{optimizer}: {second} shares memory with {first} (each array may appear once)")
        self.library, self.spans = library, spans
        self.starts = [start for start, _, _ in spans]
        owners = [library.owner(a) for _, a in arrays] if library.owner is not None else [None]
        # Owner ids decide only when every array's memory has a known owner.
        self.owners = None if any(o is None for o in owners) else {id(o) for o in owners}

    def overlap(self, array):
        """What (a ``what`` of the constructor) the C-contiguous ``array`` shares memory with, or None."""
        if not array.nbytes:
            return None
        if self.owners is not None:
            owner = self.library.owner(array)
            if owner is not None and id(owner) not in self.owners:
                return None  # allocated apart from every array here
        start = self.library.address(array)
        index = bisect.bisect_left(self.starts, start + array.nbytes) - 1
        if index >= 0 and self.spans[index][1] > start:
            return self.spans[index][2]
        return None


def check_params(optimizer: str, params, library: ArrayLibrary = NUMPY) -> list:
    """The parameter list of an optimizer: a non-empty list or tuple of writeable, C-contiguous parameters,
    no two sharing memory. Returns it as a list."""
    if isinstance(params, (str, bytes, dict)) or isinstance(params, library.ndarray) or \
            not isinstance(params, (list, tuple)):
        raise TypeError(f"{optimizer}: params must be a list of {library.name}, got {type(params).__name__}"
                        + (" (wrap a single array in a list)" if isinstance(params, library.ndarray) else ""))
    params = list(params)
    if not params:
        raise ValueError(f"{optimizer}: params is empty (an optimizer needs at least one array)")
    for i, p in enumerate(params):
        check_param(optimizer, p, library, what=f"params[{i}]", writeable=True)
    if library.device is not None:
        for i, p in enumerate(params):
            _check_device(optimizer, f"params[{i}]", p, library.device(params[0]), library)
    Extents(optimizer, [(f"params[{i}]", p) for i, p in enumerate(params)], library)
    return params


# ---------------------------------------------------------------------------------------------------------
# Scratch buffers and blocking (NumPy backend)
# ---------------------------------------------------------------------------------------------------------
_THREAD = threading.local()


def scratch(dtype: numpy.dtype, count: int, masks: int = 0) -> tuple[list, list]:
    """At least ``count`` buffers of ``dtype`` and ``masks`` booleans, :func:`block_size` elements each, reused
    across calls by the calling thread (each thread has its own, so concurrent steps do not share them)."""
    dtype = numpy.dtype(dtype)
    block = block_size(dtype)
    cache = getattr(_THREAD, "scratch", None)
    if cache is None:
        cache = _THREAD.scratch = {}
    key = (dtype, block)  # the block size too: BLOCK_BYTES may be changed
    floats, booleans = cache.setdefault(key, ([], []))
    while len(floats) < count:
        floats.append(numpy.empty(block, dtype))
    while len(booleans) < masks:
        booleans.append(numpy.empty(block, numpy.bool_))
    return floats, booleans


def clear_scratch() -> None:
    """Free the calling thread's scratch buffers (they are reallocated on the next step)."""
    _THREAD.scratch = {}


def load(view, buffer):
    """``view`` itself when it already has the compute dtype, else a converted copy in ``buffer``."""
    if view.dtype == buffer.dtype:
        return view
    numpy.copyto(buffer, view, casting="unsafe")
    return buffer
