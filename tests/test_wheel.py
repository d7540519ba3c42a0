"""The wheel, as a new user gets it: built from the checkout's files, installed into a fresh virtual environment
(sympy and numpy only), used from a folder outside the repository. Its only top-level name is ``optiforge``; a
user's specs generate into the user's own package (importable with NumPy alone); ``build``, ``verify`` and
``generate`` leave every installed file byte-identical."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_SPEC = '''\
import sympy as sp
from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

spec = SpecBuilder("my_adam", "Adam, ε inside the square root", reference="optax.adam(eps=0, eps_root=ε)")
lr = spec.hyper("lr", 1e-3, r"\\eta", NONNEGATIVE)
beta1 = spec.hyper("beta1", 0.9, r"\\beta_1", UNIT_HALF_OPEN)
beta2 = spec.hyper("beta2", 0.999, r"\\beta_2", UNIT_HALF_OPEN)
eps = spec.hyper("eps", 1e-8, r"\\epsilon", NONNEGATIVE)
m, v = spec.state("m", 0), spec.state("v", 0)
spec.update(m, beta1 * m + (1 - beta1) * g)
spec.update(v, beta2 * v + (1 - beta2) * g**2)
spec.update(theta, theta - lr * (m / (1 - beta1**t)) / sp.sqrt(v / (1 - beta2**t) + eps))
SPEC = spec.build()
'''


def _checkout_files() -> list[str]:
    """The files a clean checkout has (tracked, plus new files git does not ignore)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout: the packaged folders and the project files
        return [str(p.relative_to(ROOT)) for top in ("optiforge", "specs", "derive", "codegen", "generated")
                for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts] + \
               ["pyproject.toml", "README.md", "LICENSE"]
    return [f for f in listed.stdout.split("\0") if f and (ROOT / f).is_file()]


def _setuptools_supports_pep639() -> bool:
    try:
        from importlib.metadata import version
        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("checkout")
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(source)]
    if _setuptools_supports_pep639():  # else pip fetches a recent enough setuptools into an isolated build
        build.append("--no-build-isolation")
    subprocess.run(build, check=True, timeout=300)
    (found,) = dist.glob("optiforge-*.whl")
    return found


def test_the_wheel_has_one_top_level_name(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {n.split("/")[0] for n in names} == {"optiforge", wheel.name.split("-py3")[0] + ".dist-info"}
    packages = {str(Path(n).parent).replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert {"optiforge.specs", "optiforge.derive", "optiforge.codegen", "optiforge.generated",
            "optiforge.generated.numpy", "optiforge.generated.cupy", "optiforge.generated.numba",
            "optiforge.specs.catalog"} <= packages
    assert "optiforge/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata
    for extra in ("cuda12", "cuda13", "docs", "numba", "test"):
        assert f"Provides-Extra: {extra}" in metadata
    assert 'cupy-cuda12x[ctk]' in metadata and 'cupy-cuda13x[ctk]' in metadata
    assert not any(n.startswith(("tests/", "docs/", "bench/")) for n in names)


def _installed_files(site: Path) -> dict[str, str]:
    """sha256 of every file under site-packages/optiforge (bytecode caches aside: Python writes those)."""
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((site / "optiforge").rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_a_fresh_venv_outside_the_repository(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                    str(wheel)], check=True, timeout=300)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    user = tmp_path / "project"  # the user's folder: outside the repository
    (user / "myspecs").mkdir(parents=True)
    (user / "myspecs" / "my_adam.py").write_text(_SPEC)
    before = _installed_files(site)
    assert any(p.endswith("generated/numpy/adam.py") for p in before)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def optiforge(*args, status=0):
        run = subprocess.run([str(venv / "bin" / "optiforge"), *args], cwd=user, capture_output=True, text=True,
                             env=env, timeout=300)
        assert run.returncode == status, (args, run.stdout, run.stderr)
        return run

    optiforge("generate", "--specs", "myspecs", "--out", "mykernels")
    use = textwrap.dedent("""
        import sys; sys.modules["sympy"] = None  # NumPy alone
        import numpy as np
        import optiforge
        from mykernels.numpy import my_adam
        w = np.linspace(-1, 1, 5)
        opt = optiforge.Optimizer([w], my_adam, lr=0.1)
        for _ in range(3):
            opt.step([2 * w])
        assert np.all(np.abs(w) < 1) and opt.kernel.__file__.startswith(sys.argv[1]), opt.kernel.__file__
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("specs", "derive", "codegen", "generated")))
    """)
    ran = subprocess.run([str(python), "-c", use, str(user)], cwd=user, capture_output=True, text=True, env=env,
                         timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "[]", ran.stderr
    optiforge("generate", "--specs", "myspecs", "--out", "mykernels", "--check")
    assert "--out" in optiforge("generate", status=2).stderr  # no default output outside a checkout
    optiforge("generate", "--out", str(site / "optiforge" / "generated"), status=2)
    optiforge("generate", "--check")  # the installed kernels are what the generator writes
    verified = optiforge("verify", "ema", "--report", "ema.md")
    assert "ema.closed_form" in verified.stdout and "[1/" in verified.stderr
    built = optiforge("build")
    assert "nothing written" in built.stdout and "installed kernels: up to date" in built.stdout
    assert re.search(r"self-check: (\d+)/\1 NumPy kernels match", built.stdout), built.stdout
    assert sorted(p.name for p in user.iterdir()) == ["ema.md", "mykernels", "myspecs"]
    assert _installed_files(site) == before


def test_numba_kernels_of_the_installed_wheel_cache_outside_it(wheel, tmp_path):
    """The installed package's numba modules (and a user package's, generated by the installed command) compile
    into the per-user cache ($XDG_CACHE_HOME/optiforge/numba), load from it in a second process, and write
    nothing into site-packages (numba's own default is the module's __pycache__)."""
    numba = pytest.importorskip("numba")  # the numba extra: in the test extra, so present in CI
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                    "--no-deps", str(wheel)], check=True, timeout=300)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # numpy, sympy and numba from this environment, after the venv's own site-packages (so the wheel's optiforge)
    (site / "dependencies.pth").write_text(str(Path(numba.__file__).resolve().parent.parent) + "\n")
    user = tmp_path / "project"
    (user / "myspecs").mkdir(parents=True)
    (user / "myspecs" / "my_adam.py").write_text(_SPEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA_"))}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    generated = subprocess.run([str(venv / "bin" / "optiforge"), "generate", "--specs", "myspecs", "--out",
                                "mykernels"], cwd=user, capture_output=True, text=True, env=env, timeout=300)
    assert generated.returncode == 0, generated.stderr
    before, user_files = _everything(site / "optiforge"), _everything(user / "mykernels")
    use = textwrap.dedent("""
        import json, sys, numpy as np
        from optiforge.runtime import numba_support as _numba_runtime
        from optiforge.generated.numba import adam
        from mykernels.numba import my_adam
        assert adam.__file__.startswith(sys.argv[1]), adam.__file__
        for kernel in (adam, my_adam):
            w = np.linspace(-1, 1, 7, dtype=np.float32)
            kernel.step(w, 2 * w, kernel.init_state(w), 1)
        print(json.dumps([r._asdict() for r in _numba_runtime.compile_log()]))
    """)
    logs = []
    for _ in range(2):
        ran = subprocess.run([str(python), "-c", use, str(site)], cwd=user, capture_output=True, text=True,
                             env=env | {"PYTHONDONTWRITEBYTECODE": "1"}, timeout=300)  # Python's own .pyc aside
        assert ran.returncode == 0, ran.stderr
        logs.append(json.loads(ran.stdout))
    cold, warm = logs
    assert len(cold) == 2 and not any(r["cached"] for r in cold) and all(r["cached"] for r in warm)
    assert all(r["cache_path"].startswith(str(tmp_path / "xdg" / "optiforge" / "numba")) for r in cold + warm)
    assert _everything(site / "optiforge") == before  # __pycache__ included: no numba index (.nbi) or data (.nbc)
    assert _everything(user / "mykernels") == user_files


def _everything(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, bytecode caches included."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
