"""Support for the generated numba modules: compiling their loops, caching them on disk, running them. A
stable module: every emitted numba module imports it as ``_numba_runtime``.

Importing this module (and any ``optiforge.generated.numba.<name>``) never imports numba: numba is imported
the first time a module is used (``init_state`` or ``step``), with an error naming the extra to install
when it is missing.

Each loop is compiled once per process for its one signature (contiguous 1-D arrays of the arithmetic
dtype), ``parallel=True`` (the element loop is a ``prange``), ``error_model="numpy"`` (a division by zero is
inf or NaN, as in NumPy, instead of raising) and without ``fastmath`` (IEEE arithmetic: no reassociation,
no contraction into FMA, NaN and inf kept). Compiled code is cached on disk across processes in
:func:`cache_dir`, never next to the generated sources (an installed package must not be written to).
:func:`compile_log` records the seconds each loop took to compile or to load from that cache.

float16 and bfloat16 parameters, and gradients of another dtype than the arithmetic one, are converted in
cache-sized blocks before the loop and the parameter stored back after it: one rounding per step, as in the
NumPy backend.

Threads: ``numba.set_num_threads`` sets them; arrays shorter than :data:`PARALLEL_MIN_ELEMENTS` run on the
calling thread. Starting numba's thread pool (:func:`start_threads`) keeps the process's OpenMP thread
count, which numba's OpenMP layer would otherwise reset, and with it torch's.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import os
import threading
import time
import warnings
from typing import Callable, NamedTuple

import numpy

from optiforge.runtime import kernel_support

__all__ = ["Loop", "CompileRecord", "numba_module", "cache_dir", "start_threads", "compiled", "compile_log", "run",
           "run_segments", "segments", "COMPILE_OPTIONS", "SEGMENT_ELEMENTS"]

#: Options of ``numba.njit`` for every loop (see the module docstring for why).
COMPILE_OPTIONS = {"parallel": True, "error_model": "numpy", "fastmath": False}


class Loop(NamedTuple):
    """A generated loop (a plain Python function until compiled), its numba signature and precision."""

    function: Callable
    signature: str
    precision: str


class CompileRecord(NamedTuple):
    """One loop made ready in this process: ``seconds`` to compile it, or to load it when ``cached``."""

    loop: str
    precision: str
    seconds: float
    cached: bool
    cache_path: str | None


def numba_module():
    """``import numba``, or an ImportError that says how to get it."""
    try:
        import numba
    except ImportError as error:
        raise ImportError("optiforge's numba backend needs numba: pip install 'optiforge[numba]'") from error
    return numba


def __getattr__(name: str):
    # The loops iterate over ``_numba_runtime.prange`` and the segment loops view memory through
    # ``_numba_runtime.float32_at``/``float64_at``: looked up only when numba compiles them.
    if name == "prange":
        return numba_module().prange
    if name in ("float32_at", "float64_at"):
        numba_module()
        from optiforge.runtime import numba_addresses

        return getattr(numba_addresses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cache_dir() -> str:
    """Where compiled loops are cached: numba's ``NUMBA_CACHE_DIR`` when the user set one, else
    ``$XDG_CACHE_HOME/optiforge/numba`` (``~/.cache/optiforge/numba``)."""
    configured = numba_module().config.CACHE_DIR
    if configured:
        return configured
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "optiforge", "numba")


@functools.lru_cache(maxsize=None)
def _function_cache_class():
    """numba's ``FunctionCache`` with a single locator, :func:`cache_dir`: never the package's ``__pycache__``
    (numba's default falls back to it, or to numba's own user directory, depending on what is writable)."""
    numba_module()
    from numba.core import caching

    # older numba releases spell it _UserProvidedCacheLocator
    provided = getattr(caching, "UserProvidedCacheLocator", None) or caching._UserProvidedCacheLocator

    class UserCacheLocator(provided):
        def __init__(self, py_func, py_file):
            super().__init__(py_func, py_file)
            self._cache_path = os.path.join(cache_dir(), self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            # Skip UserProvidedCacheLocator's own test (NUMBA_CACHE_DIR set); keep the source-file checks.
            return super(provided, cls).from_function(py_func, py_file)

    class UserCacheImpl(caching.CompileResultCacheImpl):
        _locator_classes = [UserCacheLocator]

    class UserFunctionCache(caching.FunctionCache):
        _impl_class = UserCacheImpl

    return UserFunctionCache


def _inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def _attach_cache(dispatcher, function) -> str | None:
    """Give ``dispatcher`` the on-disk cache in :func:`cache_dir` (what ``cache=True`` does, with our
    locator); return its path, or None when the loop cannot be cached."""
    source = inspect.getfile(function)
    if not os.path.isfile(source):  # built in memory (codegen.generate.load_module): nothing to key a cache on
        return None
    try:
        cache = _function_cache_class()(function)
    except RuntimeError:  # no locator: the cache directory cannot be created or written
        cache = None
    # NUMBA_CACHE_LOCATOR_CLASSES overrides any locator list: accept only a cache under cache_dir().
    if cache is None or not _inside(cache.cache_path, cache_dir()):
        warnings.warn(f"optiforge: cannot write numba's cache under {cache_dir()}; compiling without a disk "
                      f"cache (set NUMBA_CACHE_DIR to a writable directory)", RuntimeWarning, stacklevel=4)
        return None
    dispatcher._cache = cache
    return cache.cache_path


_COMPILE_LOG: list[CompileRecord] = []


def _openmp_runtime():
    """The OpenMP runtime whose ``omp_set_num_threads`` numba's OpenMP layer calls, through ctypes (None if
    none): as the dynamic linker resolves it, a runtime in the global scope first (torch loads its own
    libgomp there), else the one the layer's extension is linked to."""
    import ctypes
    import importlib.util

    spec = importlib.util.find_spec("numba.np.ufunc.omppool")
    for name in (None, spec.origin if spec is not None else None):
        try:
            runtime = ctypes.CDLL(name)
            runtime.omp_get_max_threads, runtime.omp_set_num_threads  # noqa: B018 (present?)
        except (AttributeError, OSError, TypeError):
            continue
        return runtime
    return None


@functools.lru_cache(maxsize=None)
def start_threads() -> None:
    """Start numba's thread pool, keeping the process's OpenMP thread count.

    numba's OpenMP layer sets the OpenMP thread count of the process to ``NUMBA_NUM_THREADS`` when it
    starts, so the first parallel loop would silently undo ``torch.set_num_threads`` (torch's CPU kernels use
    the same OpenMP runtime) and change torch's results and speed. The count is put back; numba's own thread
    count (``numba.set_num_threads``) is unaffected."""
    numba = numba_module()
    from numba.np.ufunc import parallel

    runtime = _openmp_runtime()
    before = runtime.omp_get_max_threads() if runtime is not None else None
    parallel._launch_threads()
    if before is not None and numba.threading_layer() == "omp" and runtime.omp_get_max_threads() != before:
        runtime.omp_set_num_threads(before)


_COMPILING = threading.Lock()


def compiled(loop: Loop):
    """The numba dispatcher of ``loop``, compiled (or loaded from the disk cache) for its signature only, once
    per process even when several threads take their first step at once."""
    with _COMPILING:
        return _compiled(loop)


@functools.lru_cache(maxsize=None)
def _compiled(loop: Loop):
    numba = numba_module()
    start_threads()
    dispatcher = numba.njit(**COMPILE_OPTIONS)(loop.function)
    cache_path = _attach_cache(dispatcher, loop.function)
    start = time.perf_counter()
    dispatcher.compile(loop.signature)
    seconds = time.perf_counter() - start
    dispatcher.disable_compile()  # arrays of any other type are a bug upstream: fail instead of compiling
    cached = sum(dispatcher.stats.cache_hits.values()) > 0
    _COMPILE_LOG.append(CompileRecord(f"{loop.function.__module__}.{loop.function.__name__}", loop.precision,
                                      seconds, cached, cache_path))
    return dispatcher


def compile_log() -> list[CompileRecord]:
    """Every loop compiled or loaded in this process, in order."""
    return list(_COMPILE_LOG)


#: Arrays shorter than this run on the calling thread alone: waking numba's other threads costs more than they
#: save (measured by ``bench/cpu_step.py --only small``).
PARALLEL_MIN_ELEMENTS = 1 << 15


@contextlib.contextmanager
def _threads_for(size: int):
    """numba's thread count for a loop over ``size`` elements: the user's, or one for a short array."""
    numba = numba_module()
    threads = numba.get_num_threads()
    if size >= PARALLEL_MIN_ELEMENTS or threads == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def run(loop: Loop, param, grad, state: tuple, scalars: tuple, inputs: tuple = ()) -> None:
    """``loop`` over every element of the (checked, C-contiguous) arrays, in place; ``inputs``: the spec's
    declared inputs besides the gradient (read like it).

    Parameters, gradients and inputs not stored in the arithmetic dtype go through block-sized scratch buffers."""
    kernel = compiled(loop)
    dtype = numpy.dtype(loop.precision)
    theta, g = param.reshape(-1), grad.reshape(-1)
    extra = [array.reshape(-1) for array in inputs]
    arrays = [array.reshape(-1) for array in state]
    with _threads_for(theta.size):
        if theta.dtype == dtype and g.dtype == dtype and all(a.dtype == dtype for a in extra):
            # A grad that is the param itself (the only overlap the checks allow) is read from a copy: the
            # compiled loop may move an element's gradient load past its parameter store (found by
            # tests/differential.py: grad-is-param runs differed from the reference).
            kernel(theta, g.copy() if numpy.may_share_memory(theta, g) else g, *extra, *arrays, *scalars)
            return
        buffers, _ = kernel_support.scratch(dtype, 2 + len(extra))
        block = kernel_support.block_size(dtype)
        for lo in range(0, theta.size, block):
            hi = min(lo + block, theta.size)
            theta_block = kernel_support.load(theta[lo:hi], buffers[0][:hi - lo])
            kernel(theta_block, kernel_support.load(g[lo:hi], buffers[1][:hi - lo]),
                   *(kernel_support.load(a[lo:hi], buffers[2 + k][:hi - lo]) for k, a in enumerate(extra)),
                   *(a[lo:hi] for a in arrays), *scalars)
            if theta.dtype != dtype:
                numpy.copyto(theta[lo:hi], theta_block, casting="unsafe")


#: Elements per segment of a multi-tensor step (:func:`segments`): a tensor longer than this is cut into
#: several segments, which threads share.
SEGMENT_ELEMENTS = 1 << 15


def segments(sizes) -> numpy.ndarray:
    """The (tensor, lo, hi) segments, as an int64 array, that cover tensors of ``sizes`` elements in pieces of
    at most :data:`SEGMENT_ELEMENTS` (empty tensors have none)."""
    rows = [(k, lo, min(lo + SEGMENT_ELEMENTS, size))
            for k, size in enumerate(sizes) for lo in range(0, size, SEGMENT_ELEMENTS)]
    return numpy.array(rows, dtype=numpy.int64).reshape(-1, 3)


def run_segments(loop: Loop, table: numpy.ndarray, segments: numpy.ndarray, scalars: tuple) -> None:
    """A segment ``loop`` over ``segments`` of the tensors whose addresses ``table`` holds (checked by the
    caller: contiguous arrays of the loop's precision, alive, a gradient apart from its parameter and state)."""
    kernel = compiled(loop)
    with _threads_for(int(segments[:, 2].sum() - segments[:, 1].sum()) if len(segments) > 1 else
                      (int(segments[0, 2] - segments[0, 1]) if len(segments) else 0)):
        kernel(table, segments, *scalars)
