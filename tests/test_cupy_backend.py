"""The CuPy backend's printer and emitted modules (no GPU, no nvcc needed except where marked)."""
from __future__ import annotations

import ctypes
import importlib
import re
import subprocess
import sys

import numpy
import pytest
import sympy as sp
from sympy.codegen.cfunctions import Sqrt

from optiforge import specs
from optiforge.codegen.cupy_backend.host_emulation import gxx
from optiforge.codegen.cupy_backend.printer import KernelPrinter
from optiforge.codegen.generate import stale
from optiforge.specs.dsl import STEP

MODULES = {name: importlib.import_module(f"optiforge.generated.cupy.{name}") for name in specs.names()}
x, y = sp.symbols("x y", real=True)


def test_generated_cupy_modules_are_up_to_date():
    assert stale(backends=["cupy"]) == []


def test_module_imports_without_cupy_and_fails_clearly_on_use():
    script = ("import sys; sys.modules['cupy'] = None\n"
              "import optiforge.generated.cupy.adam as adam\n"
              "try:\n    adam.init_state(None)\nexcept ImportError as e:\n    print('ERR', e)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "ERR optiforge's cupy backend needs CuPy: pip install 'optiforge[cuda]'" in result.stdout


@pytest.mark.parametrize("name", MODULES)
def test_kernels_are_typed_for_their_precision_and_never_see_the_step(name):
    kernels = MODULES[name].KERNELS
    assert STEP.name not in kernels["float32"].scalars  # bias corrections etc. are host scalars
    # integer powers are products; only a fractional one (madgrad's cube root, NaN below 0 as in NumPy) is pow
    for call in re.findall(r"\bpowf?\(([^;]*)", kernels["float32"].operation + kernels["float64"].operation):
        assert re.search(r", 1\.0F?/3\.0F?\)", call), call
    assert "double" not in kernels["float32"].operation and "float " not in kernels["float64"].operation
    for precision, source in kernels.items():
        assert source.out_params.startswith("T param") and source.in_params.startswith("G grad")
        # the inputs besides the gradient in its storage type G, then every scalar in the arithmetic type (or
        # bool), never in the storage type T/G
        inputs = len(getattr(MODULES[name], "INPUTS", ()))
        assert all(d.split()[0] == "G" for d in source.in_params.split(",")[1:1 + inputs])
        for declaration in source.in_params.split(",")[1 + inputs:]:
            assert declaration.split()[0] in (precision, "bool"), declaration


def test_float32_literals_and_functions():
    printer32, printer64 = KernelPrinter("float32"), KernelPrinter("float64")
    assert printer32.doprint(sp.Float(0.9) * Sqrt(x)) == "0.9F*sqrtf(x)"
    assert printer64.doprint(sp.Float(0.9) * Sqrt(x)) == "0.90000000000000002*sqrt(x)"  # 17 digits: exact double
    assert printer32.doprint(sp.Symbol("i") + sp.Symbol("n")) == "i_ + n_"  # CuPy's loop index and size
    with pytest.raises(ValueError, match="reserved by CuPy"):
        printer32.doprint(sp.Symbol("_raw_x"))


@pytest.mark.skipif(gxx() is None, reason="g++ not on PATH: cannot run the printed C")
def test_max_min_sign_propagate_nan_like_numpy(tmp_path):
    """Evaluate the printed C (float32) on NaN, ±0, ±inf and ordinary values against NumPy."""
    printer = KernelPrinter("float32")
    functions = {"max2": sp.Max(x, y), "min2": sp.Min(x, y), "sign1": sp.sign(x)}
    source = "#include <cmath>\n" + "".join(
        f'extern "C" float {n}(float x, float y) {{ return {printer.doprint(e)}; }}\n' for n, e in functions.items())
    (tmp_path / "f.cc").write_text(source)
    subprocess.run([gxx(), "-O2", "-shared", "-fPIC", "-o", str(tmp_path / "f.so"), str(tmp_path / "f.cc")], check=True)
    library = ctypes.CDLL(str(tmp_path / "f.so"))
    for n in functions:
        getattr(library, n).restype = ctypes.c_float
        getattr(library, n).argtypes = [ctypes.c_float, ctypes.c_float]
    values = [numpy.nan, 0.0, -0.0, 1.5, -2.0, numpy.inf, -numpy.inf]
    for a in values:
        for b in values:
            expected = {"max2": numpy.maximum(a, b), "min2": numpy.minimum(a, b), "sign1": numpy.sign(a)}
            for n, value in expected.items():
                got = getattr(library, n)(a, b)
                # NaN must stay NaN; the sign of a zero result is not compared (both are exact zeros)
                assert got == value or (numpy.isnan(got) and numpy.isnan(value)), f"{n}({a}, {b}) = {got}, numpy {value}"
