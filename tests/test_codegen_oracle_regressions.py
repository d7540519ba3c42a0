"""Regressions of the exact-oracle campaign (``tests/oracle_differential.py``).

The classes fixed on this branch are tests here: validation of constants too large to print. The classes that
need code-generator fixes are data in ``tests/oracle_known_failures.py`` (one minimal repro each); the tests here
only check that each repro still builds and names an existing file, not its outcome. When a fix is merged, move
its entry here as ``test_known_failure_is_fixed`` does for the entries in :data:`FIXED`.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from differential import _load
from oracle_known_failures import KNOWN_FAILURES, build, check
from optiforge.codegen.driver import lower_and_optimize
from optiforge.codegen.generate import BACKENDS, __version__
from optiforge.codegen.ir import lower
from optiforge.codegen.passes import hoist_scalars, skip_zero_terms
from optiforge.specs import GRAD, NONNEGATIVE, PARAM, POSITIVE, SpecBuilder, SpecError, STEP
from optiforge.specs.dsl import normal_domain

ROOT = Path(__file__).resolve().parent.parent
#: names of KNOWN_FAILURES whose fix is merged: every backend and precision must now be correct
FIXED: tuple[str, ...] = ("lerp_cancels", "lerp_of_an_infinite_state", "domain_end_below_float64", "o61207_385")


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


def _builder(name):
    return SpecBuilder(name, name, reference="tests/test_codegen_oracle_regressions.py")


def test_lowering_keeps_a_root_of_a_product_whole():
    """Substituting p = |m|·g into √p let SymPy split it into √|m|·√g: 0·NaN at m = 0 > g, where √(0·g) = 0."""
    spec = _builder("root_of_a_product")
    m = spec.state("m", 0)
    p = spec.let("p", sp.Abs(m) * GRAD)
    spec.update(theta := PARAM, theta - sp.sqrt(p))
    spec.update(m, m + 1)
    spec = spec.build()
    new_theta = dict(lower(spec).body)[sp.Symbol("theta_new", real=True)]
    assert not any(isinstance(n, sp.Pow) and n.base == GRAD for n in sp.preorder_traversal(new_theta)), new_theta
    module = _load(BACKENDS["numpy"](spec, __version__), "root_of_a_product")
    param, grad = np.array([1.0, 2.0]), np.array([-1.0, 4.0])
    state = module.init_state(param)
    with np.errstate(all="ignore"):
        module.step(param, grad, state, 1)
    assert param.tolist() == [1.0, 2.0]  # m = 0: θ − √(0·g) = θ (NaN before)


def test_lowering_keeps_a_floor_as_written():
    """Substituting a = θ − 1 into ⌊a⌋ + 1 let SymPy write ⌊θ⌋ − 1 + 1 = ⌊θ⌋: the kernel computes ⌊θ − 1⌋ + 1."""
    spec = _builder("floor_as_written")
    a = spec.let("a", PARAM - 1)
    spec.update(PARAM, sp.floor(a) + 1 + GRAD)
    new_theta = dict(lower(spec.build()).body)[sp.Symbol("theta_new", real=True)]
    floors = [n for n in sp.preorder_traversal(new_theta) if isinstance(n, sp.floor)]
    assert floors and all(f.args[0] == PARAM - 1 for f in floors), new_theta


def test_a_deep_chain_hoists_without_recursion_error():
    """hoist_scalars and skip_zero_terms recursed once per level: a chain of 600 temporaries raised RecursionError."""
    spec = _builder("deep_chain")
    weight_decay = spec.hyper("weight_decay", 0.0, "w", NONNEGATIVE)
    lr = spec.hyper("lr", 0.1, "lr", POSITIVE)
    x = GRAD
    for k in range(600):
        x = spec.let(f"x{k}", sp.tanh(x) + lr * STEP)
    spec.update(PARAM, PARAM - lr * x - weight_decay * PARAM)
    ir = lower(spec.build())
    hoisted = hoist_scalars(skip_zero_terms(ir))
    assert len(hoisted.host) >= 1


def test_lowering_a_large_power_of_a_piecewise_is_quick():
    """o61207_385: (Piecewise(…)/10 − Min(…)/10)**30 inside a Mod took over 30 s to lower (SymPy's Mod expanded
    the 30th power for a gcd); a generous bound for a loaded CI machine."""
    failure = next(f for f in KNOWN_FAILURES if f.name == "o61207_385")
    spec = build(failure)
    start = time.process_time()
    lower_and_optimize(spec)
    assert time.process_time() - start < 20


def test_a_domain_end_float64_rounds_to_zero_becomes_the_nearest_float_inside():
    """Interval(1e-400, 1) was positive to SymPy but admitted 0.0 at run time (θ = Heaviside(0.0) = 1/2 where the
    build-time kernel gives 1): its end is now the float64 nearest inside, 5e-324, in both."""
    assert normal_domain(sp.Interval(sp.Float("1e-400"), 1)) == sp.Interval(sp.Float(5e-324, precision=53), 1)
    assert normal_domain(sp.Interval(-1, sp.Float("1e-400"))) == sp.Interval(-1, 0)
    assert normal_domain(sp.Interval(0, 10 ** 400)) == sp.Interval(0, sp.Float(1.7976931348623157e308, precision=53))
    assert normal_domain(sp.Interval(10 ** 400, sp.oo)).is_empty
    failure = next(f for f in KNOWN_FAILURES if f.name == "domain_end_below_float64")
    spec = build(failure)
    for backend in ("numpy", "numba"):
        module = _load(BACKENDS[backend](spec, __version__), f"domain_end_{backend}")
        with pytest.raises(ValueError, match="k"):
            module.init_state(np.zeros(2), k=0.0)
        param = np.zeros(2)
        module.step(param, np.zeros(2), module.init_state(param, k=5e-324), 1, k=5e-324)
        assert param.tolist() == [1.0, 1.0]


def test_a_domain_beyond_float64_is_a_spec_error():
    spec = _builder("domain_beyond_float64")
    k = spec.hyper("k", 1.0, "k", sp.Interval(10 ** 400, sp.oo))
    spec.update(PARAM, PARAM - k * GRAD)
    with pytest.raises(SpecError, match="domain_beyond_float64"):
        spec.build()


def test_a_condition_reading_a_deferred_initial_value_keeps_both_branches():
    """Lowering left ``Piecewise((θ + 1, t = 1), (v, True)) < w`` unevaluated inside a branch condition; once hoisting
    named ``t = 1`` (a Symbol), SymPy's ITE rewrite dropped the ``v`` branch (campaign seed 4101, spec 27)."""
    spec = _builder("condition_reads_initial_value")
    v = spec.state("v", PARAM + 1)
    w = spec.state("w", 0)
    spec.update(w, sp.Piecewise((1, v < w), (2, True)))
    spec.update(v, v / 2)
    spec.update(PARAM, PARAM + w)
    module = _load(BACKENDS["numpy"](spec.build(), __version__), "condition_reads_initial_value")
    param = np.zeros(1)
    state = module.init_state(param)
    module.step(param, np.zeros(1), state, 1)  # v = 1, w: 1 < 0 is false, 2; θ = 2; v = 1/2
    module.step(param, np.zeros(1), state, 2)  # w: 1/2 < 2, 1; θ = 3 (4 where the v branch was dropped)
    assert param.tolist() == [3.0]
