"""Regressions of the exact-oracle campaign (``tests/oracle_differential.py``).

The classes fixed on this branch are tests here: validation of constants too large to print. The classes that
need code-generator fixes are data in ``tests/oracle_known_failures.py`` (one minimal repro each); the tests here
only check that each repro still builds and names an existing file, not its outcome. When a fix is merged, move
its entry here as ``test_known_failure_is_fixed`` does for the entries in :data:`FIXED`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from oracle_known_failures import KNOWN_FAILURES, build, check
from optiforge.specs import GRAD, PARAM, SpecBuilder, SpecError

ROOT = Path(__file__).resolve().parent.parent
#: names of KNOWN_FAILURES whose fix is merged: every backend and precision must now be correct
FIXED: tuple[str, ...] = ("lerp_cancels", "lerp_of_an_infinite_state")


@pytest.mark.parametrize("value, shown", [
    (lambda: PARAM - sp.exp(sp.Float(1e30)) * GRAD, "1.75819687360212e+434294481903251836286911761061"),
    (lambda: PARAM - (GRAD / 10) ** 1000000, "an integer of about 1000001 digits"),
    (lambda: PARAM - sp.Rational(3, 10 ** 500) * GRAD, "an integer of about 501 digits"),
])
def test_a_constant_too_large_to_print_is_a_spec_error(value, shown):
    """exp(Float(1e30)) raised decimal.InvalidOperation and (g/10)**1000000 a ValueError from integer-string
    conversion, both while writing the message."""
    spec = SpecBuilder("huge_constant", "a huge constant", reference="tests/test_codegen_oracle_regressions.py")
    spec.update(PARAM, value())
    with pytest.raises(SpecError, match="huge_constant") as error:
        spec.build()
    assert "update of 'theta'" in str(error.value) and "outside the float64 range" in str(error.value)
    assert shown in str(error.value) and len(str(error.value)) < 300


def test_a_tiny_exponential_constant_is_accepted():
    """exp(Float(-1e30)) is a positive number below the float64 range: it rounds to 0, as a kernel reads it."""
    spec = SpecBuilder("tiny_constant", "a tiny constant", reference="tests/test_codegen_oracle_regressions.py")
    spec.update(PARAM, PARAM - sp.exp(sp.Float(-1e30)) * GRAD)
    spec.build()


@pytest.mark.parametrize("failure", KNOWN_FAILURES, ids=[f.name for f in KNOWN_FAILURES])
def test_known_failure_repro_builds(failure):
    spec = build(failure)
    assert spec.name == failure.name
    assert set(failure.hyperparameters) <= {h.name for h in spec.hyperparameters}
    responsible = failure.responsible.replace(",", " ").split()[0]
    assert (ROOT / responsible).exists(), responsible
    assert len({f.name for f in KNOWN_FAILURES}) == len(KNOWN_FAILURES)


@pytest.mark.parametrize("name", FIXED)
def test_known_failure_is_fixed(name):
    failure = next(f for f in KNOWN_FAILURES if f.name == name)
    outcomes = check(failure)
    assert all(outcome == "correct" for outcome, _ in outcomes.values()), outcomes
