"""The gallery's runs (``optiforge gallery``; the plotting itself needs the docs extra, matplotlib)."""
import sys

import numpy as np
import pytest

from optiforge import specs
from optiforge.cli import main
from optiforge.gallery import FAMILIES, LEARNING_RATES, PROBLEMS, _best, _losses


def test_families_are_catalogue_optimizers():
    for family, names in FAMILIES.items():
        assert names and len(names) <= 10, family  # one colour each
        assert set(names) <= set(specs.names()), family


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["adam", "momentum", "adadelta"])
def test_best_run_descends_and_uses_the_grid(problem, name):
    lr, points = _best(problem, name, 60)
    assert (lr is None) == ("lr" not in specs.get(name).defaults) and (lr is None or lr in LEARNING_RATES)
    losses = _losses(problem, points)
    assert points.shape == (61, 2) and np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    again = _best(problem, name, 60)  # seeded: the same run twice
    assert again[0] == lr and np.array_equal(again[1], points)


def test_without_matplotlib_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["gallery", "--out", str(tmp_path / "gallery")]) == 2
    assert "pip install 'optiforge[docs]'" in capsys.readouterr().err
    assert not (tmp_path / "gallery").exists()
