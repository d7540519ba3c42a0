"""A user's own specs and claims: ``generate --specs DIR --out PKG`` writes an importable kernel package (NumPy
alone), ``--check`` compares it, ``verify --claims`` runs their claims (by their specs' names too), and
``Optimizer`` takes a spec object or a registered name. The specs are seeded random ones, written as a user
would write them."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import optiforge
from optiforge import specs
from optiforge.cli import main
from optiforge.codegen.generate import BACKENDS
from optiforge.folders import FolderError, load_specs
from optiforge.runtime import Optimizer
from optiforge.specs import reference

_FEATURES = ["g", "g**2", "sp.Abs(g)", "g * sp.Abs(g)", "sp.sign(g) * g**2", "g**3 / (1 + g**2)"]
_DIRECTIONS = ["m", "m / (sp.sqrt(v) + eps)", "sp.sign(m)", "m / (sp.Abs(v) + eps)",
               "(m + g) / (sp.sqrt(v / (1 - b2**t)) + eps)", "sp.Max(m, g) - sp.Min(v, g)"]

_SPEC_FILE = '''\
import sympy as sp
from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

from ._shared import decay


def build(name, lr_default, b1_default):
    spec = SpecBuilder(name, "random user spec " + name, reference="tests/test_user_folders.py")
    lr = spec.hyper("{lr}", lr_default, r"\\eta", NONNEGATIVE)
    b1 = spec.hyper("b1", b1_default, r"\\beta_1", UNIT_HALF_OPEN)
    b2 = spec.hyper("b2", 0.99, r"\\beta_2", UNIT_HALF_OPEN)
    eps = spec.hyper("eps", 1e-8, r"\\epsilon", NONNEGATIVE)
    m, v = spec.state("{m}", 0), spec.state("v", 0, r"\\nu")
    spec.update(m, decay(b1, m, {feature}))
    spec.update(v, decay(b2, v, g**2))
    spec.update(theta, theta - lr * ({direction}))
    return spec.build()


{definition}
'''


def _write_spec_folder(folder: Path, rng: np.random.Generator, files: int = 3) -> list[str]:
    """Seeded random spec files (one of them defines SPECS, two specs); returns the spec names."""
    folder.mkdir(parents=True)
    (folder / "_shared.py").write_text("def decay(beta, old, new):\n    return beta * old + (1 - beta) * new\n")
    names = []
    for i in range(files):
        stem = f"user_{rng.integers(1000, 9999)}_{i}"
        choices = dict(lr=str(rng.choice(["lr", "step_size"])), m=str(rng.choice(["m", "momentum_buffer"])),
                       feature=str(rng.choice(_FEATURES)), direction=str(rng.choice(_DIRECTIONS)))
        lr, b1 = float(rng.choice([1e-3, 1e-2, 0.1])), float(rng.choice([0.0, 0.5, 0.9]))
        if i == 0:
            definition = f"SPECS = (build({stem + '_a'!r}, {lr}, {b1}), build({stem + '_b'!r}, {lr}, 0.3))"
            names += [stem + "_a", stem + "_b"]
        else:
            definition = f"SPEC = build({stem!r}, {lr}, {b1})"
            names.append(stem)
        (folder / f"{stem}.py").write_text(_SPEC_FILE.format(definition=definition, **choices))
    return names


def _run(code: str, cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("seed", [3, 11])
def test_generate_a_users_specs_into_their_package(seed, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(seed)
    names = _write_spec_folder(tmp_path / "specs", rng)  # a folder named specs/ shadows nothing
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--specs", "specs", "--out", "mykernels"]) == 0
    assert sorted(p.relative_to(tmp_path / "mykernels").as_posix() for p in (tmp_path / "mykernels").rglob("*.py")) \
        == sorted(["__init__.py"] + [f"{b}/__init__.py" for b in BACKENDS] +
                  [f"{b}/{n}.py" for b in BACKENDS for n in names])
    assert main(["generate", "--specs", "specs", "--out", "mykernels", "--check"]) == 0

    # importable with NumPy alone, from the user's folder; the float64 kernel follows the reference
    code = textwrap.dedent(f"""
        import sys; sys.modules["sympy"] = None
        import importlib, json, numpy as np, mykernels
        out = {{}}
        rng = np.random.default_rng(0)
        for name in mykernels.NAMES:
            kernel = importlib.import_module("mykernels.numpy." + name)
            w = rng.standard_normal(37); grads = rng.standard_normal((4, 37))
            state = kernel.init_state(w)
            for t, g in enumerate(grads, 1):
                kernel.step(w, g.copy(), state, t)
            out[name] = w.tolist()
        assert "cupy" not in sys.modules
        print(json.dumps(out))
    """)
    stepped = json.loads(_run(code, tmp_path))
    assert sorted(stepped) == sorted(names)
    by_name = {s.name: s for s in load_specs(tmp_path / "specs")}
    rng = np.random.default_rng(0)
    for name in stepped:
        spec = by_name[name]
        w, grads = rng.standard_normal(37), rng.standard_normal((4, 37))
        state = reference.init_state(spec, w)
        for t, g in enumerate(grads, 1):
            w, state = reference.step(spec, w, g, state, t)
        np.testing.assert_allclose(stepped[name], w, rtol=1e-11, atol=1e-12)

    # --check sees an edit and a spec that is gone; a regenerate removes the module of the deleted spec
    (tmp_path / "mykernels" / "numpy" / f"{names[-1]}.py").write_text("# DO NOT EDIT: generated by optiforge (edited)\n")
    gone = next(p for p in (tmp_path / "specs").glob("user_*.py") if names[-1] in p.read_text())
    gone.unlink()
    capsys.readouterr()
    assert main(["generate", "--specs", "specs", "--out", "mykernels", "--check"]) == 1
    assert f"numpy/{names[-1]}.py (no spec)" in capsys.readouterr().out


def test_user_folder_errors_name_the_file(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "nothing.py").write_text("X = 1\n")
    with pytest.raises(FolderError, match="nothing.py: defines neither SPEC nor SPECS"):
        load_specs(folder)
    (folder / "nothing.py").write_text("import sympy\nSPEC = sympy.Symbol('x')\n")
    with pytest.raises(FolderError, match="must hold OptimizerSpec"):
        load_specs(folder)
    (folder / "nothing.py").write_text("raise RuntimeError('boom')\n")
    assert main(["generate", "--specs", str(folder), "--out", str(tmp_path / "k")]) == 2
    assert "nothing.py: RuntimeError: boom" in capsys.readouterr().err
    assert main(["generate", "--specs", str(tmp_path / "missing"), "--out", str(tmp_path / "k")]) == 2
    assert main(["generate", "--specs", str(folder)]) == 2  # --specs needs --out
    assert "--out" in capsys.readouterr().err and not (tmp_path / "k").exists()


_CLAIMS_FILE = '''\
import sympy as sp
from optiforge import specs
from optiforge.derive.engine import FAILS, ClaimList, identity
from optiforge.specs import GRAD as g, PARAM as theta

CLAIMS = ClaimList()


@CLAIMS.claim("mine.first_step", "the first step of {name} moves by -lr*b1^0*(1-b1)*g", "identity",
              sources="tests", specs="{name}")
def _first_step():
    spec = specs.get("{name}")
    lr, b1 = spec.symbol("lr"), spec.symbol("b1")
    first = spec.step_map()[theta].subs(spec.symbol("m"), 0)
    return [identity("θ₁", first, theta - lr * (1 - b1) * g)]


@CLAIMS.claim("mine.wrong_on_purpose", "a wrong first step, refuted", "identity", sources="tests", expected=FAILS)
def _wrong():
    spec = specs.get("{name}")
    return [identity("θ₁", spec.step_map()[theta].subs(spec.symbol("m"), 0), theta - spec.symbol("lr") * g)]
'''


def _momentum_spec_file(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(f'''\
        from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN, SpecBuilder

        spec = SpecBuilder("{name}", "EMA momentum", reference="tests")
        lr = spec.hyper("lr", 0.1, r"\\eta", NONNEGATIVE)
        b1 = spec.hyper("b1", 0.9, r"\\beta_1", UNIT_HALF_OPEN)
        m = spec.state("m", 0)
        spec.update(m, b1 * m + (1 - b1) * g)
        spec.update(theta, theta - lr * m)
        SPEC = spec.build()
        '''))


def test_verify_a_users_claims_with_their_specs_by_name(tmp_path, capsys):
    name = "ema_momentum_user"
    _momentum_spec_file(tmp_path / "myspecs", name)
    (tmp_path / "myclaims").mkdir()
    (tmp_path / "myclaims" / "first.py").write_text(_CLAIMS_FILE.format(name=name))
    base = ["verify", "--specs", str(tmp_path / "myspecs"), "--claims", str(tmp_path / "myclaims")]
    assert main(base + ["--json"]) == 0
    captured = capsys.readouterr()
    results = {r["name"]: r for r in json.loads(captured.out)}
    assert results["mine.first_step"]["status"] == "proved" and name in results["mine.first_step"]["specs"]
    assert results["mine.wrong_on_purpose"]["verdict"] == "refuted as expected"
    assert "[1/2]" in captured.err and "[2/2]" in captured.err
    assert main(base + [name]) == 0  # by the optimizer's name: the claims that read it
    assert main(base + ["mine.first"]) == 2 and "did you mean 'mine.first_step'" in capsys.readouterr().err
    (tmp_path / "myclaims" / "first.py").write_text(_CLAIMS_FILE.format(name=name).replace("(1 - b1)", "b1"))
    assert main(base) == 1  # a claim that does not hold as asserted
    assert "unexpectedly refuted" in capsys.readouterr().out


def test_optimizer_takes_a_spec_object_or_a_registered_name(tmp_path, monkeypatch, rng):
    name = "ema_momentum_runtime"
    _momentum_spec_file(tmp_path, name)
    (spec,) = load_specs(tmp_path / f"{name}.py")
    monkeypatch.setattr(specs, "_REGISTRY", dict(specs._REGISTRY))  # registrations end with the test
    w0, grads = rng.standard_normal(9), rng.standard_normal((3, 9))
    expected = reference.run(spec, w0, list(grads), lr=0.05)[-1]

    by_object = Optimizer([w0.copy()], spec, lr=0.05)
    for g in grads:
        by_object.step([g])
    np.testing.assert_allclose(by_object.params[0], expected, rtol=1e-13)
    with pytest.raises(KeyError, match="unknown optimizer 'ema_momentum_runtime'"):
        Optimizer([w0.copy()], name)
    optiforge.register(spec)
    by_name = Optimizer([w0.copy()], name, lr=0.05)
    assert by_name.kernel is by_object.kernel  # built once, cached
    for g in grads:
        by_name.step([g])
    np.testing.assert_array_equal(by_name.params[0], by_object.params[0])

    # a generated name stays the generated file; a replaced catalogue spec is built from the replacement
    assert Optimizer([w0.copy()], "sgd").kernel.__file__.endswith("sgd.py")
    replacement = optiforge.specs.combinators.with_weight_decay(specs.get("sgd"), "decoupled", default=0.5,
                                                                  name="sgd")
    optiforge.register(replacement, replace=True)
    assert not hasattr(Optimizer([w0.copy()], "sgd").kernel, "__file__")
    with pytest.raises(TypeError, match="expected an optimizer name"):
        Optimizer([w0.copy()], 42)


def test_only_a_spec_or_an_unknown_name_imports_sympy(tmp_path):
    code = ("import sys; sys.modules['sympy'] = None\n"
            "import numpy as np\n"
            "from optiforge.runtime import Optimizer\n"
            "Optimizer([np.ones(3)], 'adam').step([np.ones(3)])\n"
            "try:\n    Optimizer([np.ones(3)], 'adamm')\nexcept KeyError as e:\n    print(e)\n")
    assert "did you mean 'adam'" in _run(code, tmp_path)


def test_registering_a_folder_twice_replaces_its_specs_but_never_the_catalogues(tmp_path, monkeypatch):
    from optiforge import folders

    monkeypatch.setattr(specs, "_REGISTRY", dict(specs._REGISTRY))
    monkeypatch.setattr(folders, "_FROM_FOLDERS", set())
    name = "ema_momentum_reloaded"
    _momentum_spec_file(tmp_path / "mine", name)
    first = folders.register_specs(tmp_path / "mine")[0]
    path = tmp_path / "mine" / f"{name}.py"
    path.write_text(path.read_text().replace("0.9", "0.8"))  # edited, then loaded again
    second = folders.register_specs(tmp_path / "mine")[0]
    assert specs.get(name) is second and second.defaults["b1"] == 0.8 != first.defaults["b1"]
    _momentum_spec_file(tmp_path / "clash", "adam")
    with pytest.raises(FolderError, match="'adam' already registered"):
        folders.register_specs(tmp_path / "clash")
    assert specs.get("adam").title == "Adam"
