"""One import name: ``optiforge``. The checkout's specs/, derive/, codegen/ and generated/ install as its
subpackages (optiforge/runtime/ and optiforge/torch/ are subpackages of optiforge/ itself); nothing is importable
(or imported) under a second name."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _package_directories() -> dict[str, Path]:
    """Dotted package name → directory, for every directory with an ``__init__.py`` under the mapped roots."""
    found = {}
    for package, directory in SETUPTOOLS["package-dir"].items():
        for init in sorted((ROOT / directory).rglob("__init__.py")):
            relative = init.parent.relative_to(ROOT / directory)
            found[".".join([package, *relative.parts])] = init.parent
    return found


def test_packages_list_names_every_package_directory():
    assert sorted(SETUPTOOLS["packages"]) == sorted(_package_directories())
    assert {name.split(".")[0] for name in SETUPTOOLS["packages"]} == {"optiforge"}


def _run(code: str, cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


_IMPORT_EVERYTHING = """
import importlib, sys, collections
import optiforge
names = ["optiforge"] + sorted(set(%s))
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as error:  # optional extras (cupy, torch, numba) may be missing
        if not any(extra in str(error) for extra in ("cupy", "torch", "numba", "matplotlib")):
            raise
ours = {m.__file__ for n, m in list(sys.modules.items())
        if n.split(".")[0] == "optiforge" and getattr(m, "__file__", None)}
by_file = collections.defaultdict(list)
for name, module in list(sys.modules.items()):
    if getattr(module, "__file__", None) in ours:
        by_file[module.__file__].append(name)
twice = {path: names for path, names in by_file.items() if len(names) > 1}
assert not twice, twice
generic = [n for n in ("specs", "derive", "codegen", "generated") if n in sys.modules]
assert not generic, generic
print(len(names))
"""


def test_no_module_is_imported_under_two_names(tmp_path):
    modules = [f"optiforge.{p.relative_to(ROOT).with_suffix('').as_posix().replace('/', '.')}"
               .replace(".__init__", "") for p in sorted(ROOT.glob("*/**/*.py"))
               if p.parts[len(ROOT.parts)] in ("specs", "derive", "codegen", "generated")
               and not p.name.startswith("__main__")]
    modules += ["optiforge.cli", "optiforge.catalog_docs", "optiforge.api_docs", "optiforge.folders",
                "optiforge.gallery", "optiforge.build", "optiforge.documents", "optiforge.claim_selection"]
    modules += [f"optiforge.runtime.{p.stem}".replace(".__init__", "")
                for p in sorted((ROOT / "optiforge" / "runtime").glob("*.py"))]
    code = _IMPORT_EVERYTHING % repr(modules)
    for cwd in (ROOT, tmp_path):  # the checkout's root puts specs/ etc. on sys.path: still one name each
        assert int(_run(code, cwd)) > 200


def test_user_folders_named_like_the_subpackages_do_not_interfere(tmp_path):
    for name in ("specs", "derive", "codegen", "generated"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('user package imported')\n")
    code = ("import numpy as np, optiforge, optiforge.cli\n"
            "from optiforge.runtime import Optimizer\n"
            "w = np.ones(2); Optimizer([w], 'sgd', lr=0.5).step([np.ones(2)]); print(w[0])\n"
            "print(len(optiforge.names()))")
    assert _run(code, tmp_path).split() == ["0.5", str(len(list((ROOT / "generated" / "numpy").glob("[!_]*.py"))))]


def test_import_optiforge_and_every_generated_module_needs_no_sympy(tmp_path):
    code = ("import sys; sys.modules['sympy'] = None\n"
            "import importlib, pkgutil, optiforge, optiforge.generated\n"
            "n = 0\n"
            "for backend in ('numpy', 'cupy'):\n"
            "    for name in optiforge.available(backend):\n"
            "        importlib.import_module(f'optiforge.generated.{backend}.{name}'); n += 1\n"
            "assert 'cupy' not in sys.modules\n"
            "print(n)")
    assert int(_run(code, tmp_path)) > 100


def test_lazy_api_names_resolve():
    import optiforge

    for name in optiforge.__all__:
        assert getattr(optiforge, name) is not None
    assert optiforge.SpecBuilder.__module__ == "optiforge.specs.builder"
    assert optiforge.Optimizer.__module__ == "optiforge.runtime.optimizer"


def test_no_machine_paths_in_the_docs_or_the_generated_files():
    machine_path = re.compile(r"(?<![\w.~])/(work|home|tmp|Users|root|opt|mnt)/")
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "generated").rglob("*.py"))]
    leaks = [f"{p.relative_to(ROOT)}: {m.group()}" for p in files for m in [machine_path.search(p.read_text())] if m]
    assert not leaks, leaks
