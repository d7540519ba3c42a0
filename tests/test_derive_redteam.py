"""Red-team cases of the derivation engine: false claims, written as users write them, that an earlier engine
proved (each fixed in derive/'s mechanism, not for the example), and the true claims next to them that must stay
proved. Every case has an independent check in plain Python (fractions, mpmath) that it really is false or true.
"""
from __future__ import annotations

from fractions import Fraction as Fr

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiforge import specs
from optiforge.derive import engine
from optiforge.derive.engine import PROVED, approximation, combine, identity, induction, limit, monotone
from optiforge.derive.equivalence import Dynamics, equivalent
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t

x = sp.Symbol("x", real=True)
a_nn = sp.Symbol("a", nonnegative=True)
n_nn = sp.Symbol("n", integer=True, nonnegative=True)
LR = specs.get("sgd").symbol("lr")
PROVEN = (PROVED, engine.APPROXIMATION)


def _sgd_like(name, step):
    return Dynamics.from_assignments(name, [(theta, theta - LR * step)], {})


def _undefined(f) -> bool:
    try:
        f()
    except ZeroDivisionError:
        return True
    return False


def _sqrt_real(v: Fr):
    if v < 0:
        raise ZeroDivisionError("not real")  # the same "undefined" as 0/0 for the checks below
    return mpmath.sqrt(v)


BETA = sp.Symbol("beta", nonnegative=True)
M = sp.Symbol("m", real=True)


def _ema(name, m0):
    """m ← βm + g, θ ← θ − ηm for β ∈ [0, 1), from m₀."""
    return Dynamics.from_assignments(name, [(M, BETA * M + g), (theta, theta - LR * M)], {M: m0},
                                     domains={BETA: sp.Interval.Ropen(0, 1)})


def _removable(symbol, root):
    """(s² − r²)/((s − r)(s + r)): 1 to SymPy's simplification, undefined at s = ±r."""
    return (symbol**2 - root**2) / ((symbol - root) * (symbol + root))


# (name, build → steps, independent check that the claim is false)
FALSE = [
    ("θ − η(g − 7)/|g − 7| ≡ θ − η·sign(g − 7) (0/0 at g = 7)",
     lambda: equivalent(_sgd_like("ratio", (g - 7) / sp.Abs(g - 7)), _sgd_like("sign", sp.sign(g - 7))),
     lambda: _undefined(lambda: Fr(0) / abs(Fr(7) - 7))),
    ("θ − η·g(t² − 10⁴)/((t − 100)(t + 100)) ≡ SGD (undefined at t = 100)",
     lambda: equivalent(_sgd_like("cancelled", g * (t**2 - 10**4) / ((t - 100) * (t + 100))), _sgd_like("sgd", g)),
     lambda: _undefined(lambda: Fr(100**2 - 10**4) / ((100 - 100) * (100 + 100)))),
    ("EMA from m₀ = (β² − 9/100)/((β − 3/10)(β + 3/10)) − 1 ≡ EMA from 0 (m₀ undefined at β = 3/10)",
     lambda: equivalent(_ema("a", _removable(BETA, sp.Rational(3, 10)) - 1), _ema("b", 0)),
     lambda: _undefined(lambda: Fr(9, 100) - Fr(9, 100) / ((Fr(3, 10) - Fr(3, 10)) * Fr(6, 10)))),
    ("lim_{t→∞} 1/(1 + a t) = 0 for a ≥ 0 (it is 1 at a = 0)",
     lambda: [limit("", 1 / (1 + a_nn * t), t, sp.oo, 0)],
     lambda: all(Fr(1) / (1 + 0 * k) == 1 for k in (1, 10**6, 10**12))),
    ("1/(1 + a t) ≈ 0 as t → ∞ for a ≥ 0 (absolute error 1 at a = 0)",
     lambda: [approximation("", 1 / (1 + a_nn * t), 0, t, sp.oo, relative=False)],
     lambda: all(Fr(1) / (1 + 0 * k) == 1 for k in (1, 10**6, 10**12))),
    ("c(n) = n solves c(n) = c(n−1) + (n² − 1600)/((n − 40)(n + 40)), c(0) = 0 (undefined at n = 40)",
     lambda: [induction("", n_nn, lambda prev, k: prev + (k**2 - 1600) / ((k - 40) * (k + 40)), 0, n=n_nn)],
     lambda: _undefined(lambda: Fr(40**2 - 1600) / ((40 - 40) * (40 + 40)))),
    ("|√x|² = |x| for every real x (√−1 is not real)",
     lambda: [identity("", sp.Abs(sp.sqrt(x))**2, sp.Abs(x))],
     lambda: _undefined(lambda: _sqrt_real(Fr(-1)))),
    ("lim_{x→0} ⌊x⌋ = 0 (two-sided: −1 from the left)",
     lambda: [limit("", sp.floor(x), x, 0, 0)],
     lambda: all(Fr(-1, 10**k).__floor__() == -1 for k in (3, 9, 30))),
    ("lim_{x→0} |x|/x = 1 (two-sided: −1 from the left)",
     lambda: [limit("", sp.Abs(x) / x, x, 0, 1)],
     lambda: all(abs(Fr(-1, 10**k)) / Fr(-1, 10**k) == -1 for k in (3, 9, 30))),
    ("|x| ≈ x as x → 0, relative (relative error −2 from the left)",
     lambda: [approximation("", sp.Abs(x), x, x, 0)],
     lambda: all(abs(Fr(-1, 10**k)) / Fr(-1, 10**k) - 1 == -2 for k in (3, 9, 30))),
    ("f = −x (x < 1), 1 − x (x ≥ 1) is nonincreasing on [0, ∞) (f′ = −1, but f jumps up at 1)",
     lambda: [monotone("", sp.Piecewise((-x, x < 1), (1 - x, True)), x, 0)],
     lambda: Fr(1) - 1 > -Fr(99, 100)),
    ("f = −x (x < 1), 10⁻⁶ − x (x ≥ 1) is nonincreasing on [0, ∞) (a jump no sweep straddles)",
     lambda: [monotone("", sp.Piecewise((-x, x < 1), (sp.Rational(1, 10**6) - x, True)), x, 0)],
     lambda: Fr(1, 10**6) - 1 > -Fr(9999999, 10**7)),
    ("max(x − 1999/1000, 0) = 0 on [1, 2) (1/2000 at x = 1.9995)",
     lambda: [identity("", sp.Max(x - sp.Rational(1999, 1000), 0), 0, domains={x: sp.Interval.Ropen(1, 2)})],
     lambda: max(Fr(19995, 10000) - Fr(1999, 1000), 0) == Fr(1, 2000)),
]

# true claims of the same shapes: they must stay proved
TRUE = [
    ("θ − η·g(t² + 3t + 2)/((t + 1)(t + 2)) ≡ SGD (singular at t = −1, −2 only: never a step)",
     lambda: equivalent(_sgd_like("cancelled", g * (t**2 + 3 * t + 2) / ((t + 1) * (t + 2))), _sgd_like("sgd", g)),
     lambda: all(Fr(k * k + 3 * k + 2, (k + 1) * (k + 2)) == 1 for k in range(1, 200))),
    ("lim_{t→∞} 1/(1 + a t) = 0 for a > 0",
     lambda: [limit("", 1 / (1 + sp.Symbol("a", positive=True) * t), t, sp.oo, 0)],
     lambda: Fr(1) / (1 + Fr(1, 1000) * 10**12) < Fr(1, 10**8)),
    ("c(n) = n solves c(n) = c(n−1) + (n² + 1600)/(n² + 1600), c(0) = 0",
     lambda: [induction("", n_nn, lambda prev, k: prev + (k**2 + 1600) / (k**2 + 1600), 0, n=n_nn)],
     lambda: True),
    ("|√x|² = x for x ≥ 0", lambda: [identity("", sp.Abs(sp.sqrt(sp.Symbol("x", nonnegative=True)))**2,
                                               sp.Symbol("x", nonnegative=True))], lambda: True),
    ("lim_{x→0} x⌊x⌋ = 0 (a part without a limit, a whole with one)",
     lambda: [limit("", x * sp.floor(x), x, 0, 0)],
     lambda: all(abs(Fr(s, 10**k) * Fr(s, 10**k).__floor__()) <= Fr(1, 10**k) for s in (1, -1) for k in (3, 9))),
    ("lim_{x→0} sign(x) = 1 for x ∈ [0, 1] (only the right side is in the domain)",
     lambda: [limit("", sp.sign(x), x, 0, 1, domains={x: sp.Interval(0, 1)})],
     lambda: all(Fr(1, 10**k) > 0 for k in (3, 9))),
    ("lim_{x→0} sin(x)/x = 1", lambda: [limit("", sp.sin(x) / x, x, 0, 1)],
     lambda: all(abs(mpmath.sin(mpmath.mpf(s) / 10**6) / (mpmath.mpf(s) / 10**6) - 1) < 1e-11 for s in (1, -1))),
    ("f = −x² (x < 1), 1 − 2x (x ≥ 1) is nonincreasing on [0, ∞) (continuous at the switch)",
     lambda: [monotone("", sp.Piecewise((-x**2, x < 1), (1 - 2 * x, True)), x, 0)],
     lambda: all((-(Fr(k, 10))**2 if k < 10 else 1 - 2 * Fr(k, 10)) >= (-(Fr(k + 1, 10))**2 if k + 1 < 10
                                                                        else 1 - 2 * Fr(k + 1, 10)) for k in range(40))),
    ("max(x − 2, 0) = 0 on [1, 2)",
     lambda: [identity("", sp.Max(x - 2, 0), 0, domains={x: sp.Interval.Ropen(1, 2)})],
     lambda: all(max(Fr(1) + Fr(k, 100) - 2, 0) == 0 for k in range(100))),
]


@pytest.mark.parametrize("name, build, witness", FALSE, ids=[c[0] for c in FALSE])
def test_false_claim_is_not_proved(name, build, witness):
    assert witness(), f"the independent check does not confirm that {name!r} is false"
    status = combine(list(build()))
    assert status not in PROVEN, f"{name}: {status}"


@pytest.mark.parametrize("name, build, witness", TRUE, ids=[c[0] for c in TRUE])
def test_true_claim_stays_proved(name, build, witness):
    assert witness(), f"the independent check does not confirm that {name!r} is true"
    assert combine(list(build())) in PROVEN, name


# --- generated inputs ---------------------------------------------------------------------------------
GENERATED = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(st.integers(-30, 30).filter(lambda c: c != 0))
def test_random_sign_cancellations_are_not_equivalences(c):
    """θ − η(g − c)/|g − c| against θ − η·sign(g − c): 0/0 at g = c, whatever c."""
    steps = equivalent(_sgd_like("ratio", (g - c) / sp.Abs(g - c)), _sgd_like("sign", sp.sign(g - c)))
    assert combine(steps) not in PROVEN


@GENERATED
@given(st.integers(2, 400))
def test_random_removable_singular_steps_are_not_equivalences(n0):
    """A factor (t² − n₀²)/((t − n₀)(t + n₀)) that SymPy cancels to 1, undefined at the step t = n₀."""
    factor = (t**2 - n0**2) / ((t - n0) * (t + n0))
    assert _undefined(lambda: Fr(n0**2 - n0**2) / ((n0 - n0) * (n0 + n0)))
    assert combine(equivalent(_sgd_like("cancelled", g * factor), _sgd_like("sgd", g))) not in PROVEN


@GENERATED
@given(st.integers(1, 5), st.integers(1, 3))
def test_random_limits_at_a_degenerate_parameter(k, p):
    """lim_{t→∞} k/(k + a t^p) = 0 for a ≥ 0: at a = 0 the expression is 1 for every t."""
    assert Fr(k) / (k + 0 * 10**6) == 1
    assert combine([limit("", k / (k + a_nn * t**p), t, sp.oo, 0)]) not in PROVEN
