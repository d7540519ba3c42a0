"""Kernel packages emitted before the runtime moved to ``optiforge.runtime`` keep working.

``tests/fixtures/legacy_package`` was written by ``optiforge generate --specs tests/fixtures/legacy_package_specs.py
--out legacy_package`` of optiforge 0.1.0 as it was when the runtime still lived in ``generated/`` (its modules
import ``optiforge.generated._runtime``, ``_numba_runtime`` and ``_cupy_runtime``); it is committed as written
and never regenerated. ``optiforge.runtime.legacy`` resolves those names."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=FIXTURES, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_fixture_imports_the_old_runtime_names():
    sources = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "legacy_package").rglob("*.py"))]
    assert any("from optiforge.generated import _runtime\n" in s for s in sources)
    assert any("from optiforge.generated import _numba_runtime, _runtime\n" in s for s in sources)
    assert any("from optiforge.generated import _cupy_runtime, _runtime\n" in s for s in sources)


_STEP_BOTH = """
import numpy as np, sys
import optiforge
from optiforge.codegen.generate import load_module
from optiforge.folders import load_specs
import legacy_package.{backend}.{name} as old

spec = next(s for s in load_specs("legacy_package_specs.py") if s.name == "{name}")
new = load_module(spec, "{backend}")
rng = np.random.default_rng(5)
w0 = rng.standard_normal(1000).astype(np.{dtype})
results = []
for kernel in (old, new):
    w = w0.copy()
    state = kernel.init_state(w, lr=0.01)
    for t in range(1, 9):
        kernel.step(w, (np.sin(t * w0) + 0.1 * w).astype(np.{dtype}), state, t, lr=0.01)
    results.append(w)
assert results[0].tobytes() == results[1].tobytes(), abs(results[0] - results[1]).max()
assert not np.array_equal(results[0], w0)
assert old._runtime is sys.modules["optiforge.runtime.kernel_support"]
print("same")
"""


@pytest.mark.parametrize("name", ["legacy_adamw", "legacy_ranger"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_old_numpy_module_steps_as_the_new_one(name, dtype):
    assert _run(_STEP_BOTH.format(backend="numpy", name=name, dtype=dtype)).split() == ["same"]


def test_an_old_numba_module_steps_as_the_new_one():
    pytest.importorskip("numba")
    assert _run(_STEP_BOTH.format(backend="numba", name="legacy_ranger", dtype="float32")).split() == ["same"]


def test_an_old_cupy_module_imports_without_cupy_and_runs_on_the_host_emulation():
    code = """
import sys
sys.modules["cupy"] = None  # importing the module must not need CuPy
import numpy as np
import legacy_package.cupy.legacy_adamw as old
from optiforge.runtime import cupy_support
assert old._cupy_runtime is cupy_support and old.KERNELS["float32"].__class__ is cupy_support.KernelSource
print("ok")
"""
    assert _run(code).split() == ["ok"]


def test_the_names_optiforge_generated_exported_resolve_from_the_runtime():
    code = """
import numpy as np
from optiforge.generated import Optimizer, UnknownOptimizerError, available, kernel_module, BACKENDS
from optiforge.generated._flat import MultiTensor
import optiforge.generated._numba_runtime as numba_runtime
import optiforge.runtime as runtime
assert Optimizer is runtime.Optimizer and MultiTensor is runtime.MultiTensor and BACKENDS == runtime.BACKENDS
assert numba_runtime is runtime.numba_support
w = np.ones(2); Optimizer([w], "sgd", lr=0.5).step([np.ones(2)]); print(w[0], "adam" in available())
"""
    assert _run(code).split() == ["0.5", "True"]


def test_generated_holds_emitted_files_only():
    """Every Python file under generated/ carries the generator's do-not-edit banner."""
    hand_written = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "generated").rglob("*.py"))
                    if "DO NOT EDIT" not in p.read_text(encoding="utf-8")[:400]]
    assert not hand_written, hand_written
