"""Negative (and a few positive) tests of the derivation engine itself: it must not pass false steps."""
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from optiforge import derive
from optiforge import specs
from optiforge.derive import engine
from optiforge.derive.engine import (APPROXIMATION, CHECKED, FAILS, HOLDS, PROVED, REFUTED, UNPROVED, Claim, approximation,
                           bound, combine, guarded, identity, induction, limit)
from optiforge.derive.equivalence import Dynamics, equivalent
from optiforge.specs import STEP as t
from optiforge.specs.reference import run as reference_run

a, b = sp.symbols("a b", real=True)
beta = sp.Symbol("beta", positive=True)
k = sp.Symbol("k", positive=True)


def test_false_identity_is_refuted_with_a_real_counterexample():
    step = identity("binomial slip", (a + b)**2, a**2 + b**2)
    assert step.status == REFUTED
    point = {sp.Symbol(n, real=True): sp.Rational(v) for n, v in step.counterexample["point"].items()}
    assert ((a + b)**2 - a**2 - b**2).xreplace(point) != 0


def test_true_identity_is_proved():
    x = sp.Symbol("x", real=True)
    assert identity("Pythagoras", sp.sin(x)**2 + sp.cos(x)**2, 1).status == PROVED


def test_unprovable_identity_is_never_passed():
    # sqrt(x²) = x is false for x < 0; with x real SymPy can neither prove it nor must it claim a pass.
    x = sp.Symbol("x", real=True)
    assert identity("sqrt(x^2) = x", sp.sqrt(x**2), x).status in (REFUTED, UNPROVED)


def test_false_approximation_fails():
    m = sp.Symbol("m", positive=True)
    # 1 − β^t → 1, so m/(1 − β^t) ≈ 2m has relative error → −1/2, not 0.
    step = approximation("wrong factor", m / (1 - beta**t), 2 * m, t, sp.oo, rewrite={beta: sp.exp(-k)})
    assert step.status == REFUTED
    constant_error = approximation("constant error", sp.Integer(1), 1 - beta, t, sp.oo)
    assert constant_error.status != APPROXIMATION


def test_true_approximation_is_an_approximation_not_a_proof():
    m = sp.Symbol("m", positive=True)
    step = approximation("bias correction vanishes", m / (1 - beta**t), m, t, sp.oo, rewrite={beta: sp.exp(-k)})
    assert step.status == APPROXIMATION
    assert combine([step]) == APPROXIMATION


def test_wrong_limit_is_refuted():
    e = sp.Symbol("e", positive=True)
    assert limit("(1-e)^(1/e)", (1 - e)**(1 / e), e, 0, sp.exp(1), direction="+").status == REFUTED


def test_false_bound_is_refuted():
    x = sp.Symbol("x", real=True)
    assert bound("x² ≤ x", x**2, x).status == REFUTED
    assert bound("x ≤ x² + x", x, x**2 + x).status == PROVED


def test_false_closed_form_is_not_proved():
    g = sp.Function("g")
    i = sp.Symbol("i", integer=True, positive=True)
    wrong = (1 - beta) * sp.Sum(beta**(t - i + 1) * g(i), (i, 1, t))
    assert induction("off by one power", wrong, lambda prev, n: beta * prev + (1 - beta) * g(n), 0).status != PROVED


def test_timeout_is_a_base_exception_and_gives_unproved():
    def swallowing_loop():
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                time.sleep(0.01)
            except Exception:  # SymPy-style blanket handler must not swallow the timeout
                pass
        return PROVED, "should never get here"

    start = time.perf_counter()
    step = guarded("identity", "slow", "", swallowing_loop, timeout=0.2)
    assert step.status == UNPROVED and "timed out" in step.detail
    assert time.perf_counter() - start < 2


def test_numeric_evidence_alone_never_proves():
    evidence = engine.Step("numeric check", "spot check", "", CHECKED)
    assert combine([evidence]) == UNPROVED


@pytest.mark.parametrize("first, second", [("momentum", "nesterov"), ("adam", "adamax"), ("rmsprop", "adagrad")])
def test_wrong_spec_pair_counterexample_separates_trajectories_numerically(first, second):
    spec_a, spec_b = specs.get(first), specs.get(second)
    steps = equivalent(Dynamics.from_spec(spec_a), Dynamics.from_spec(spec_b))
    assert combine(steps) == REFUTED
    cex = next(s.counterexample for s in steps if s.counterexample)
    hypers = {n: float(Fraction(v)) for n, v in cex["hyperparameters"].items()}
    grads = [np.array([float(Fraction(g))]) for g in cex["gradients"]]
    theta0 = np.array([float(Fraction(cex["theta0"]))])
    traj_a = reference_run(spec_a, theta0, grads, **{n: v for n, v in hypers.items() if n in spec_a.defaults})
    traj_b = reference_run(spec_b, theta0, grads, **{n: v for n, v in hypers.items() if n in spec_b.defaults})
    step = cex["step"]
    assert abs(traj_a[step - 1][0] - traj_b[step - 1][0]) > 1e-9
    assert traj_a[step - 1][0] == pytest.approx(cex["floats"][0])
    assert traj_b[step - 1][0] == pytest.approx(cex["floats"][1])
    for earlier in range(step - 1):  # it is the *first* step where they differ
        assert traj_a[earlier][0] == pytest.approx(traj_b[earlier][0], abs=1e-12)


def test_equivalent_spec_pair_is_proved():
    steps = equivalent(Dynamics.from_spec(specs.get("momentum"), fix={"momentum": 0}), Dynamics.from_spec(specs.get("sgd")))
    assert combine(steps) == PROVED


def _fake(expected, status):
    return Claim("fake.claim", "fake", "identity", expected, "none",
                 lambda: [engine.Step("identity", "x", "x", status)])


@pytest.mark.parametrize("expected, status, ok", [(HOLDS, PROVED, True), (HOLDS, REFUTED, False),
                                                  (HOLDS, UNPROVED, False), (FAILS, REFUTED, True),
                                                  (FAILS, PROVED, False), (FAILS, UNPROVED, False)])
def test_outcome_versus_expectation(expected, status, ok):
    assert _fake(expected, status).run().as_expected is ok


def test_verify_exit_code_and_report(monkeypatch, tmp_path):
    monkeypatch.setattr(derive, "claims", lambda: [_fake(HOLDS, REFUTED)])
    report = tmp_path / "r.md"
    assert derive.verify(["fake.claim"], report=str(report), stream=open(tmp_path / "out.txt", "w")) == 1
    assert "unexpectedly refuted" in report.read_text()
    monkeypatch.setattr(derive, "claims", lambda: [_fake(HOLDS, PROVED)])
    assert derive.verify(stream=open(tmp_path / "out2.txt", "w")) == 0


def test_cli_runs_a_topic_and_writes_latex(tmp_path):
    report = tmp_path / "ema.md"
    result = subprocess.run([sys.executable, "-m", "optiforge.derive", "ema", "--report", str(report)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ema.closed_form" in result.stdout and "$$" in report.read_text()
    unknown = subprocess.run([sys.executable, "-m", "optiforge.derive", "no_such_claim"], capture_output=True, text=True,
                             timeout=120)
    assert unknown.returncode != 0


def test_nested_time_limits_keep_the_outer_deadline(monkeypatch):
    from optiforge.derive import claim as claim_module  # the claim-level limit lives with Claim (engine: a façade)
    monkeypatch.setattr(claim_module, "CLAIM_TIMEOUT", 0.5)

    def build():
        steps = [guarded("identity", "fast", "", lambda: (PROVED, "ok"), timeout=10)]
        time.sleep(5)  # work outside any step: only the claim-level limit can stop it
        return steps

    start = time.perf_counter()
    result = Claim("slow.claim", "slow", "identity", HOLDS, "none", build).run()
    assert result.status == UNPROVED and time.perf_counter() - start < 3


def test_a_swallowed_timeout_is_raised_again():
    """Python swallows an exception raised in a gc callback or a finalizer (hypothesis installs a gc callback):
    the alarm repeats until the block has left, so a timeout landing there cannot let the block run on."""
    from optiforge.derive.timing import CheckTimeout, time_limit

    def swallowing(seconds):  # stands in for a gc callback: whatever it raises is lost
        end = time.perf_counter() + seconds
        try:
            while time.perf_counter() < end:
                pass
        except CheckTimeout:
            pass

    start = time.perf_counter()
    with pytest.raises(CheckTimeout):
        with time_limit(0.1):
            swallowing(0.3)  # the deadline passes in here
            while time.perf_counter() - start < 5:
                pass
    assert time.perf_counter() - start < 1
    assert signal_timer_is_off()


def signal_timer_is_off() -> bool:
    import signal

    return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_first_step_special_case_is_checked_not_assumed():
    """torch's buffer starts as g₁: the two-phase invariant must reject a wrong change of variables."""
    torch = Dynamics.from_spec(specs.get("sgd_torch_nesterov"), fix={"weight_decay": 0})
    mu = specs.get("sgd_torch_nesterov").symbol("momentum")
    nesterov = Dynamics.from_spec(specs.get("nesterov"), fix={"momentum": mu})
    lr, v, buf = specs.get("nesterov").symbol("lr"), specs.get("nesterov").symbol("v"), sp.Symbol("b", real=True)
    assert combine(equivalent(torch, nesterov, {v: -lr * buf})) == PROVED
    from optiforge.derive.equivalence import invariant_step
    assert invariant_step(torch, nesterov, {v: -2 * lr * buf}).status != PROVED
    assert invariant_step(torch, nesterov, {v: -lr * buf + lr * mu * buf}).status != PROVED


def test_declared_specs_are_unioned_with_recorded_ones():
    """``specs=`` on the decorator attributes a claim whose module looked its spec up at import time."""
    claims = engine.ClaimList()

    @claims.claim("fake.declared", "fake", "equivalence", "none", specs=("adam",))
    def build():
        specs.get("sgd")  # recorded while the claim runs
        return [engine.Step("identity", "x", "x", PROVED)]

    assert claims[0].specs == ("adam",)
    assert claims[0].run().specs == ("adam", "sgd")
    single = engine.ClaimList()
    single.claim("fake.single", "fake", "identity", "none", specs="nesterov")(lambda: [])
    assert single[0].specs == ("nesterov",)
    assert _fake(HOLDS, PROVED).run().specs == ()


def test_same_named_hyperparameters_get_one_value_in_a_counterexample_search():
    """Two forms that differ only in the assumptions on ``eps`` must not be 'refuted' by giving the two symbols
    different values."""
    from optiforge.derive.equivalence import counterexample_step
    g, theta = specs.GRAD, specs.PARAM
    eps_pos, eps_nonneg = sp.Symbol("eps", positive=True), sp.Symbol("eps", nonnegative=True)
    first = Dynamics.from_assignments("a", [(theta, theta - g / (1 + eps_pos))], {})
    second = Dynamics.from_assignments("b", [(theta, theta - g / (1 + eps_nonneg))], {})
    assert counterexample_step(first, second).status != REFUTED
    assert combine(equivalent(first, second)) == PROVED
