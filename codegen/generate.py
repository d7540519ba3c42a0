"""Write (or check) every generated module: ``generated/<backend>/<spec>.py``."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from optiforge import specs
from optiforge.specs.dsl import OptimizerSpec

from . import __version__
from .cupy_backend.module import render_cupy_module
from .documents import documents
from .numba_backend.module import render_numba_module
from .numpy_backend.module import render_numpy_module

__all__ = ["BACKENDS", "GENERATED_ROOT", "render_all", "write", "stale", "load_module"]

#: backend name → renderer(spec, generator_version) -> module text
BACKENDS: dict[str, Callable[[OptimizerSpec, str], str]] = {"numpy": render_numpy_module, "cupy": render_cupy_module,
                                                             "numba": render_numba_module}

GENERATED_ROOT = Path(__file__).resolve().parent.parent / "generated"

_PACKAGE_INIT = '"""Generated {backend} kernels, one module per spec. DO NOT EDIT: see `optiforge generate`."""\n'


def render_all(backends=None, names=None) -> dict[Path, str]:
    """Relative path → text for every module the generator owns."""
    files: dict[Path, str] = {}
    for backend in backends or BACKENDS:
        render = BACKENDS[backend]
        files[Path(backend) / "__init__.py"] = _PACKAGE_INIT.format(backend=backend)
        for spec in (specs.get(n) for n in (names or specs.names())):
            files[Path(backend) / f"{spec.name}.py"] = render(spec, __version__)
    return files


def stale(root: Path = GENERATED_ROOT, backends=None) -> list[str]:
    """Paths under ``root`` that differ from what the generator would write, or that it would delete
    (plus generated documents, when ``root`` is the package's own ``generated/``)."""
    expected = render_all(backends)
    out = [str(p) for p, text in expected.items() if not (root / p).is_file() or (root / p).read_text() != text]
    if root == GENERATED_ROOT:
        out += [p.name for p, text in documents().items() if p.read_text() != text]
    for backend in backends or BACKENDS:
        for path in sorted((root / backend).glob("*.py")):
            if path.relative_to(root) not in expected:
                out.append(f"{path.relative_to(root)} (no spec)")
    return sorted(out)


def write(root: Path = GENERATED_ROOT, backends=None) -> list[Path]:
    """Write every module (removing modules of specs that no longer exist); return the paths written."""
    expected = render_all(backends)
    for backend in backends or BACKENDS:
        for path in (root / backend).glob("*.py"):
            if path.relative_to(root) not in expected:
                path.unlink()
    written = []
    targets = {root / relative: text for relative, text in expected.items()}
    if root == GENERATED_ROOT:
        targets.update(documents())
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def load_module(spec: OptimizerSpec, backend: str = "numpy"):
    """The module ``optiforge generate`` would write for ``spec``, built in memory (for user specs)."""
    import types

    module = types.ModuleType(f"optiforge.generated.{backend}.{spec.name}")
    exec(compile(BACKENDS[backend](spec, __version__), f"<optiforge {backend}:{spec.name}>", "exec"),
         module.__dict__)
    return module
