"""Compile check of every generated CuPy kernel with nvcc (no GPU needed): sm_90 and sm_80.

The source is CuPy's own (private generator, see ``codegen/cupy_backend/compile_check.py``) when CuPy
is installed — CI installs it through the ``test`` extra — and the documented fallback wrapper otherwise.
"""
from __future__ import annotations

import importlib
import sys

import pytest

from optiforge import specs
from optiforge.codegen.cupy_backend.compile_check import (batch_translation_unit, compile_translation_unit,
                                                kernel_translation_unit, nvcc)
from optiforge.codegen.cupy_backend.standalone import StorageTypes

pytestmark = pytest.mark.skipif(nvcc() is None, reason="nvcc not on PATH: cannot compile-check CUDA kernels")

try:
    import cupy  # noqa: F401  (CPU-only import: source generation needs no device)
    HAVE_CUPY = True
except ImportError:
    HAVE_CUPY = False

MODULES = {name: importlib.import_module(f"optiforge.generated.cupy.{name}") for name in specs.names()}

#: (arithmetic precision, parameter storage, gradient storage): every supported pairing, including a
#: gradient whose dtype differs from the parameter's.
STORAGE_CASES = [
    ("float32", "float32", "float32"),
    ("float32", "float16", "float16"),
    ("float32", "bfloat16", "bfloat16"),
    ("float32", "float32", "float16"),
    ("float64", "float64", "float64"),
]


def _assert_compiles(unit):
    process = compile_translation_unit(unit.text, unit.options)
    assert process.returncode == 0, f"nvcc failed ({unit.origin} source):\n{process.stderr[-4000:]}"


def test_source_origin_is_cupy_when_cupy_is_installed():
    unit = kernel_translation_unit(MODULES["adam"].KERNELS["float32"], StorageTypes("float32", "float32"))
    print(f"compile-check source: {unit.origin}")
    assert unit.origin == ("cupy" if HAVE_CUPY else "fallback")
    if HAVE_CUPY:
        # CuPy's template: its headers, its loop macro and its indexed array arguments.
        assert "#include <cupy/carray.cuh>" in unit.text and "CUPY_FOR(i, _ind.size())" in unit.text
        assert "-ftz=true" in unit.options


@pytest.mark.skipif(not HAVE_CUPY, reason="cupy not installed: nothing to fall back from")
def test_fallback_is_used_when_cupy_private_api_moves(monkeypatch):
    from cupy._core import _kernel
    monkeypatch.delattr(_kernel, "_get_elementwise_kernel_code")
    unit = kernel_translation_unit(MODULES["adam"].KERNELS["float32"], StorageTypes("float16", "float16"))
    assert unit.origin == "fallback"
    assert "typedef __half T;" in unit.text
    _assert_compiles(unit)


def test_fallback_is_used_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now raises ImportError
    unit = kernel_translation_unit(MODULES["adam"].KERNELS["float64"], StorageTypes("float64", "float64"))
    assert unit.origin == "fallback" and "typedef double T;" in unit.text
    _assert_compiles(unit)


@pytest.mark.parametrize("param, grad", [("float32", "float32"), ("float16", "float16"), ("bfloat16", "bfloat16")])
def test_adam_exact_cupy_source_compiles(param, grad):
    """Adam alone, exactly one kernel per file as CuPy compiles it."""
    unit = kernel_translation_unit(MODULES["adam"].KERNELS["float32"], StorageTypes(param, grad))
    _assert_compiles(unit)


@pytest.mark.skipif(not HAVE_CUPY, reason="cupy not installed: the fallback always uses 64-bit indices")
def test_adam_compiles_with_64_bit_indexing():
    """CuPy's variant for arrays of 2**31 elements or more (e.g. a large flat multi-tensor buffer)."""
    unit = kernel_translation_unit(MODULES["adam"].KERNELS["float32"], StorageTypes("float32", "float32"),
                                   index_32_bits=False)
    assert "CIndexer<1, 0>" in unit.text
    _assert_compiles(unit)


@pytest.mark.parametrize("precision, param, grad", STORAGE_CASES, ids=lambda x: x)
def test_every_kernel_compiles(precision, param, grad):
    unit = batch_translation_unit([m.KERNELS[precision] for m in MODULES.values()], StorageTypes(param, grad))
    assert unit.text.count('extern "C" __global__') == len(MODULES)
    _assert_compiles(unit)


def test_every_kernel_compiles_through_the_fallback_wrapper():
    unit = batch_translation_unit([m.KERNELS["float32"] for m in MODULES.values()],
                                  StorageTypes("bfloat16", "float16"), prefer_cupy=False)
    assert unit.origin == "fallback"
    _assert_compiles(unit)


@pytest.mark.parametrize("prefer_cupy", [True, False], ids=["cupy", "fallback"])
def test_a_broken_body_fails_the_check(prefer_cupy):
    """The check can fail: an undefined name in the operation is an nvcc error naming it."""
    source = MODULES["adam"].KERNELS["float32"]
    broken = source._replace(operation=source.operation.replace("(float)(grad)", "(float)(lr)"))
    unit = kernel_translation_unit(broken, StorageTypes("float32", "float32"), prefer_cupy=prefer_cupy)
    process = compile_translation_unit(unit.text, unit.options)
    assert process.returncode != 0
    assert 'identifier "lr" is undefined' in process.stderr
