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
import numpy as np

from optiforge.codegen.driver import lower_and_optimize
from optiforge.codegen.generate import load_module
from optiforge.specs import GRAD, PARAM, UNIT_CLOSED, SpecBuilder, SpecError

ROOT = Path(__file__).resolve().parent.parent
#: names of KNOWN_FAILURES whose fix is merged: every backend and precision must now be correct
FIXED: tuple[str, ...] = ("lerp_cancels", "lerp_of_an_infinite_state", "power_of_a_product_at_zero", "o61207_498")


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


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_power_of_a_product_is_not_split_where_the_factor_may_be_zero(backend):
    """factor_scalars wrote sqrt((1 − β^t)·g) as sqrt(1 − β^t)·sqrt(g): at β = 1 that is 0·NaN for g < 0, where
    the spec's value is sqrt(0) = 0 and θ stays (the oracle's interval for 1 − β^t straddles 0: it cannot
    tell)."""
    failure = next(f for f in KNOWN_FAILURES if f.name == "power_of_a_product_at_zero")
    module = load_module(build(failure), backend)
    theta = np.array([1.0, 2.0, -3.0])
    state = module.init_state(theta, beta=1.0)
    module.step(theta, np.array([-1.0, 4.0, -1e-30]), state, 1, beta=1.0)
    assert theta.tolist() == [1.0, 2.0, -3.0]


def _power_of_product_spec(domain, exponent, radicand):
    spec = SpecBuilder("power_of_product", "(s·A)^q", reference="tests/test_codegen_oracle_regressions.py")
    b = spec.hyper("b", 0.5, "b", domain)
    # 1 − b: a factor SymPy knows no sign of, so the spec keeps the power of the product as written
    spec.update(PARAM, PARAM - ((1 - b) * radicand(GRAD)) ** exponent / 10)
    return spec.build()


@pytest.mark.parametrize("domain, exponent, radicand, split", [
    (sp.Interval.Ropen(0, 1), sp.Rational(1, 2), lambda g: g, True),         # 1 − b >= 2^-53 > 0: any A
    (UNIT_CLOSED, sp.Rational(1, 2), lambda g: g, False),                    # 1 − b = 0 with A < 0: 0·NaN
    (UNIT_CLOSED, sp.Rational(1, 2), lambda g: g ** 2 + 1, True),            # A >= 0
    (sp.Interval.Ropen(0, 1), -1, lambda g: g + sp.Abs(g), True),             # a reciprocal
    (sp.Interval.Ropen(0, 1), sp.Rational(3, 2), lambda g: g + 1, False),    # A^(3/2) overflows, (s·A)^(3/2) need not
    (UNIT_CLOSED, sp.Rational(-1, 2), lambda g: g + 1, False),               # 0^(-1/2)·A^(-1/2) is ∞·…
])
def test_factor_scalars_applies_a_rewrite_only_where_its_side_conditions_hold(domain, exponent, radicand, split):
    """(s·A)^q = s^q·A^q needs s > 0, or s >= 0, q > 0 and (q an integer or A >= 0) (a negative q: s = 0 makes
    s^q = ∞, whose product with A^q = 0 is NaN where (0·A)^q = ∞); and |q| <= 1 for the float range."""
    ir = dict(lower_and_optimize(_power_of_product_spec(domain, exponent, radicand)).stages)["factor_scalars"]
    theta_new = dict(ir.array_outputs)["theta"]
    body = dict(ir.body)[theta_new]
    host = set(ir.host_inputs) | {symbol for symbol, _ in ir.host}
    powers = [p for p in sp.preorder_traversal(body) if isinstance(p, sp.Pow) and p.exp == exponent]
    assert powers and all(not p.base.free_symbols & host for p in powers) == split, (body, ir.host)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_negative_power_is_a_power_of_the_reciprocal(backend):
    """reduce_powers wrote g**-2 as 1/(g·g): for |g| = 1e20 in float32, g·g overflows and 1/∞ = 0, where g**-2 =
    1e-40 is a (subnormal) float32; likewise |g|**(-3/2) as 1/(|g|·√|g|) for |g| = 1e26. (The oracle lets an n-term
    product be evaluated in any order, so it accepts the overflow: this test pins the form.)"""
    spec = SpecBuilder("negative_powers", "x^-n", reference="tests/test_codegen_oracle_regressions.py")
    spec.update(PARAM, PARAM - GRAD ** -2 - sp.Abs(GRAD) ** sp.Rational(-3, 2) - GRAD ** -4)
    module = load_module(spec.build(), backend)
    g = np.array([1e20, 1e26, 2.0, -1e-30], np.float32)
    theta = np.zeros(4, np.float32)
    module.step(theta, g, module.init_state(theta), 1)
    g64 = g.astype(np.float64)
    with np.errstate(over="ignore"):  # (−1e-30)**-4 is beyond float32: −∞
        expected = (-(g64 ** -2) - np.abs(g64) ** -1.5 - g64 ** -4.0).astype(np.float32)
    np.testing.assert_allclose(theta, expected, rtol=1e-6)
    assert theta[0] != 0 and theta[1] != 0
