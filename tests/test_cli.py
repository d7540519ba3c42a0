"""The optiforge command and generated/ freshness."""
import shutil

import pytest

from optiforge import specs
from optiforge.codegen import generate
from optiforge.cli import main


def test_generated_is_up_to_date():
    assert generate.stale() == [], "run `optiforge generate`"


def test_generate_check_detects_stale_and_extra_files(tmp_path, capsys):
    root = tmp_path / "generated"
    shutil.copytree(generate.GENERATED_ROOT / "numpy", root / "numpy")
    assert main(["generate", "--backend", "numpy", "--check", "--out", str(root)]) == 0
    (root / "numpy" / "adam.py").write_text("# edited by hand\n")
    (root / "numpy" / "gone.py").write_text("")
    assert main(["generate", "--backend", "numpy", "--check", "--out", str(root)]) == 1
    out = capsys.readouterr().out
    assert "stale: numpy/adam.py" in out and "numpy/gone.py (no spec)" in out
    assert main(["generate", "--backend", "numpy", "--out", str(root)]) == 0
    assert not (root / "numpy" / "gone.py").exists()
    assert main(["generate", "--backend", "numpy", "--check", "--out", str(root)]) == 0


def test_list_shows_every_spec(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in specs.names():
        assert name in out
    assert "beta1=0.9" in out


def test_show_unicode_and_latex(capsys):
    assert main(["show", "adam"]) == 0
    out = capsys.readouterr().out
    assert "θ ← θ - m̂·η/(ε + √(v̂))" in out and "β₁ = " not in out
    assert main(["show", "adam", "--latex"]) == 0
    assert r"\hat{m} \leftarrow \frac{m}{1 - \beta_1^{t}}" in capsys.readouterr().out


def test_unknown_name_exits_2(capsys):
    assert main(["show", "adamm"]) == 2
    assert "did you mean 'adam'" in capsys.readouterr().err


@pytest.mark.slow
def test_build_self_checks_every_kernel(capsys):
    assert main(["build"]) == 0
    assert f"{len(specs.names())}/{len(specs.names())} NumPy kernels match" in capsys.readouterr().out


@pytest.mark.parametrize("latex, expected", [
    (r"\beta_1", "β₁"), (r"\hat{m}", "m̂"), (r"\rho_\infty", "ρ∞"), (r"\mu_{t+1}", "μₜ₊₁"), (r"E[g^2]", "E[g²]"),
])
def test_unicode_names(latex, expected):
    from optiforge.codegen.equations import unicode_name

    assert unicode_name(latex) == expected
